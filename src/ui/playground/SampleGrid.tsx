/**
 * Sample grids: for each arm (and the base model), the evaluation images at a checkpoint chosen
 * with a slider. Image i of every row comes from the same prompt and the same starting noise, so
 * differences between rows are the training, not luck. Click an image for its prompt and metrics.
 */
import { useEffect, useMemo, useState } from 'react';
import { ImageTile } from '../common/ImageTile';
import { metricColumns } from './metricColumns';
import { armColour, BASE_COLOUR } from './colours';
import { checkpointUpdates, evalKey, type RunState } from './runState';

const METRICS = metricColumns(['pickScore', 'hps', 'alignment', 'aesthetic', 'trueUtility']);

const MAX_SHOWN = 12;

interface Picked {
  arm: string;
  update: number;
  index: number;
}

export function SampleGrid({ state }: { state: RunState }) {
  const updates = useMemo(() => checkpointUpdates(state), [state]);
  const [pos, setPos] = useState<number | null>(null); // null: follow the latest checkpoint
  const idx = pos === null ? updates.length - 1 : Math.min(pos, updates.length - 1);
  const update = updates[idx] ?? 0;
  const [picked, setPicked] = useState<Picked | null>(null);
  useEffect(() => setPicked(null), [state.run]);

  if (updates.length === 0 || Object.keys(state.evals).length === 0) {
    return (
      <section className="pg-card" aria-labelledby="pg-grid-h">
        <h2 id="pg-grid-h">Samples</h2>
        <p className="pg-hint">{state.source === 'imported' ? 'Exported results hold metrics only, not images.' : 'The base model’s samples appear once the experiment has loaded.'}</p>
      </section>
    );
  }

  const rows: { arm: string; label: string; colour: string; key: string }[] = [
    { arm: '', label: 'Base θ₀', colour: BASE_COLOUR, key: evalKey('', 0) },
    ...state.config.arms.map((a, i) => ({ arm: a.name, label: a.name, colour: armColour(a, i), key: evalKey(a.name, update) })),
  ];
  const n = Math.min(state.evalPrompts.length || MAX_SHOWN, MAX_SHOWN);
  const sel = picked ? state.evals[evalKey(picked.arm, picked.update)] : null;

  return (
    <section className="pg-card" aria-labelledby="pg-grid-h">
      <div className="pg-card-head">
        <h2 id="pg-grid-h">Samples</h2>
        <span className="pg-same-noise" data-testid="pg-same-noise">
          Same noise for every arm: image i of every row starts from the same prompt and the same latent noise.
        </span>
      </div>
      <label className="pg-slider">
        <span>
          Checkpoint: <strong data-testid="pg-grid-update">{update === 0 ? 'base (update 0)' : `update ${update}`}</strong>
        </span>
        <input
          type="range"
          min={0}
          max={Math.max(0, updates.length - 1)}
          step={1}
          value={idx}
          aria-label="Checkpoint"
          aria-valuetext={update === 0 ? 'base model' : `update ${update}`}
          onChange={(e) => {
            const v = Number(e.target.value);
            setPos(v === updates.length - 1 ? null : v);
          }}
        />
      </label>
      <div className="pg-grid" data-testid="pg-grid">
        {rows.map((r) => {
          const ev = state.evals[r.key];
          return (
            <div className="pg-grid-row" key={r.label} data-testid={r.arm ? `pg-grid-row-${r.arm}` : 'pg-grid-row-base'}>
              <div className="pg-grid-label">
                <span className="pg-swatch" style={{ background: r.colour }} aria-hidden="true" />
                {r.label}
                {r.arm && state.halted[r.arm] && <span className="pg-halted-tag"> halted</span>}
              </div>
              <div className="pg-grid-images">
                {ev
                  ? ev.images.slice(0, n).map((im, k) => (
                      <ImageTile
                        key={k}
                        image={im}
                        scale={2}
                        label={`${r.label}, ${ev.update === 0 ? 'base' : `update ${ev.update}`}: ${state.evalPrompts[k] ?? `prompt ${k + 1}`}`}
                        testId={r.arm ? `pg-img-${r.arm}-${k}` : `pg-img-base-${k}`}
                        onClick={() => setPicked({ arm: r.arm, update: ev.update, index: k })}
                      />
                    ))
                  : <span className="pg-muted">{r.arm && update === 0 ? 'same as the base at update 0' : 'not evaluated at this checkpoint'}</span>}
              </div>
            </div>
          );
        })}
      </div>
      {state.evalPrompts.length > n && <p className="pg-hint">Showing the first {n} of {state.evalPrompts.length} evaluation prompts (all are scored).</p>}
      {picked && sel && sel.images[picked.index] && (
        <div className="pg-detail" role="region" aria-label="Selected image" data-testid="pg-detail">
          <ImageTile image={sel.images[picked.index]} scale={4} label={`selected image: ${state.evalPrompts[picked.index] ?? ''}`} />
          <div>
            <p className="pg-detail-prompt" data-testid="pg-detail-prompt">“{state.evalPrompts[picked.index] ?? `prompt ${picked.index + 1}`}”</p>
            <p className="pg-muted">
              {picked.arm || 'Base model θ₀'} · {picked.update === 0 ? 'base' : `update ${picked.update}`} · image {picked.index + 1}
            </p>
            <dl className="pg-metrics">
              {METRICS.map(([k, label, d]) => (
                <div key={k}>
                  <dt>{label}</dt>
                  <dd>{sel.perImage[picked.index]?.[k]?.toFixed(d) ?? '—'}</dd>
                </div>
              ))}
            </dl>
            <button type="button" onClick={() => setPicked(null)}>
              Close
            </button>
          </div>
        </div>
      )}
    </section>
  );
}
