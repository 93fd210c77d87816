import type { SampleResult } from '../../worker/protocol-views';

type Key = 'pickScore' | 'hps' | 'alignment' | 'aesthetic' | 'trueUtility';
const ROWS: { key: Key; label: string; paper: string; scale: string; digits: number }[] = [
  { key: 'pickScore', label: 'PickScore-mini', paper: 'PickScore', scale: '100 × cosine', digits: 2 },
  { key: 'hps', label: 'HPS-mini', paper: 'HPSv2', scale: '100 × cosine', digits: 2 },
  { key: 'alignment', label: 'Alignment', paper: 'ImageReward', scale: 'share of 5 attributes right', digits: 2 },
  { key: 'aesthetic', label: 'Aesthetic', paper: 'Aesthetic', scale: '0–10, no prompt', digits: 2 },
  { key: 'trueUtility', label: 'True preference', paper: '— (only a simulation has it)', scale: 'U, 0–1', digits: 3 },
];

/** The five metrics of a generated image (DESIGN §5), with the paper's metric each one stands for. */
export function MetricsTable({ result }: { result: SampleResult }) {
  const values: Partial<Record<Key, number>> = result.metrics ?? result.partialMetrics;
  return (
    <div className="model-metrics">
      <table className="model-metrics-table" data-testid="model-metrics" aria-label="Metrics of the generated image">
        <thead>
          <tr>
            <th>metric</th>
            <th>value</th>
            <th>stands for</th>
            <th>scale</th>
          </tr>
        </thead>
        <tbody>
          {ROWS.map((r) => {
            const v = values[r.key];
            return (
              <tr key={r.key} data-testid={`metric-${r.key}`}>
                <td>{r.label}</td>
                <td className="model-value">{v === undefined ? 'unavailable' : Number.isFinite(v) ? v.toFixed(r.digits) : String(v)}</td>
                <td className="model-muted">{r.paper}</td>
                <td className="model-muted">{r.scale}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {result.scorerNotes && (
        <p className="model-muted model-scorer-notes" data-testid="model-scorer-notes">
          Learned scorers, as shipped: {result.scorerNotes.pickScore}; {result.scorerNotes.hps}. The ceiling is how often the simulated raters
          themselves pick the image with the higher utility.
        </p>
      )}
      {result.metricsError && (
        <p className="notice notice-warn" role="status" data-testid="model-metrics-error">
          {result.metricsError}
        </p>
      )}
    </div>
  );
}
