import { ImageTile } from '../common/ImageTile';
import type { SampleResult } from '../../worker/protocol-views';

export interface DoneSample {
  result: SampleResult;
  seed: number;
  steps: number;
  guidance: number;
}

/** The last few samples, newest first; clicking one shows it again with its settings. */
export function SampleHistory({ items, onPick }: { items: DoneSample[]; onPick: (d: DoneSample) => void }) {
  if (items.length < 2) return null;
  return (
    <section className="model-history" aria-label="Previous samples">
      <h3>Previous samples</h3>
      <div className="model-history-row">
        {items.map((d) => {
          const u = d.result.metrics?.trueUtility ?? d.result.partialMetrics.trueUtility;
          const label = `“${d.result.prompt}”, seed ${d.seed}, ${d.steps} steps, guidance ${d.guidance}`;
          return (
            <button key={d.result.sampleId} className="model-history-item" onClick={() => onPick(d)} aria-label={`Show ${label}`} title={label}>
              <ImageTile image={d.result.image} scale={2} label={label} />
              <span>
                seed {d.seed} · g {d.guidance}
                <br />U {u.toFixed(3)}
              </span>
            </button>
          );
        })}
      </div>
    </section>
  );
}
