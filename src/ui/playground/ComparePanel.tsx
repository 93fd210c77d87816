/**
 * Compare samples (issue 16): two models of the run on screen — two arms, or two checkpoints of one arm,
 * or an arm against the base — on the same evaluation prompt and the same starting noise, side by side
 * or flickering (alternating at a chosen rate, with a pause), with the true preference and the learned
 * metrics of each image beneath. The images are the worker's evaluation images (pixel arrays drawn by
 * ImageTile); a recorded run keeps per-image metrics but no images, and says so. The comparison is in
 * the URL (compare.ts), so a teacher can prepare a link; bad values are named and replaced by defaults.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { ImageTile } from '../common/ImageTile';
import { metricColumns } from './metricColumns';
import {
  FLICKER_RATES,
  commonPairs,
  compareOptions,
  defaultSides,
  normaliseSide,
  sideData,
  sideLabel,
  type CompareMode,
  type CompareSide,
  type CompareUrl,
} from './compare';
import type { RunState } from './runState';

const METRICS = metricColumns(['trueUtility', 'pickScore', 'hps', 'alignment', 'aesthetic']);

export interface CompareChoice {
  a: CompareSide;
  b: CompareSide;
  mode: CompareMode;
  rate: number;
}

const signed = (v: number, d: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(d)}`;

function SidePicker({ which, side, state, onChange }: { which: 'A' | 'B'; side: CompareSide; state: RunState; onChange: (s: CompareSide) => void }) {
  const opts = useMemo(() => compareOptions(state), [state]);
  const s = normaliseSide(side);
  const ofArm = opts.find((o) => o.arm === s.arm)?.updates ?? [];
  const updates = s.arm === '' ? [0] : ofArm.includes(s.update) ? ofArm : [...ofArm, s.update].sort((x, y) => x - y);
  const id = `pg-compare-${which.toLowerCase()}`;
  return (
    <fieldset className="pg-compare-side" data-testid={`${id}-picker`}>
      <legend>Side {which}</legend>
      <label>
        <span>Model</span>
        <select
          data-testid={`${id}-arm`}
          value={s.arm}
          onChange={(e) => {
            const arm = e.target.value;
            const ups = opts.find((o) => o.arm === arm)?.updates ?? [];
            onChange(arm === '' ? { arm: '', update: 0 } : { arm, update: ups.includes(s.update) ? s.update : ups[ups.length - 1] ?? s.update });
          }}
        >
          <option value="">Base θ₀</option>
          {state.config.arms.map((a) => (
            <option key={a.name} value={a.name} disabled={!opts.some((o) => o.arm === a.name)}>
              {a.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        <span>Checkpoint</span>
        <select data-testid={`${id}-update`} value={s.update} disabled={s.arm === ''} onChange={(e) => onChange({ arm: s.arm, update: Number(e.target.value) })}>
          {updates.map((u) => (
            <option key={u} value={u}>
              {u === 0 ? 'update 0 (base)' : `update ${u}${ofArm.includes(u) || s.arm === '' ? '' : ' (not reached yet)'}`}
            </option>
          ))}
        </select>
      </label>
    </fieldset>
  );
}

/** A comparison asked for from outside (a lesson step): applied, and the card opened, each time `key` changes. */
export interface CompareRequest extends Omit<CompareChoice, 'rate'> {
  key: string;
}

export function ComparePanel({ state, initial, onChoice, request = null }: { state: RunState; initial: CompareUrl; onChoice: (c: CompareChoice | null) => void; request?: CompareRequest | null }) {
  const [open, setOpen] = useState(initial.open);
  const [messages, setMessages] = useState(initial.messages);
  const [a, setA] = useState<CompareSide | null>(initial.a);
  const [b, setB] = useState<CompareSide | null>(initial.b);
  const [mode, setMode] = useState<CompareMode>(initial.mode);
  const [rate, setRate] = useState(initial.rate);
  // With reduced motion asked for, flicker starts paused (Show A / Show B by hand).
  const [paused, setPaused] = useState(() => !!window.matchMedia?.('(prefers-reduced-motion: reduce)').matches);
  const [showing, setShowing] = useState<'a' | 'b'>('a');
  const [index, setIndex] = useState(0);

  // Another run on screen (a recorded one, a new or reset experiment): the sides go back to that run's defaults.
  const runKey = `${state.source}:${state.run}:${state.config.arms.map((x) => x.name).join("\n")}:${state.config.updates}`;
  const firstRun = useRef(runKey);
  useEffect(() => {
    if (firstRun.current === runKey) return;
    firstRun.current = runKey;
    setA(null);
    setB(null);
    setIndex(0);
  }, [runKey]);

  // A lesson step's comparison: it opens the card on its two sides (after a change of run, which resets them).
  const requestRef = useRef(request);
  requestRef.current = request;
  useEffect(() => {
    const r = requestRef.current;
    if (!r) return;
    setOpen(true);
    setA(r.a);
    setB(r.b);
    setMode(r.mode);
    setIndex(0);
  }, [request?.key]);

  const def = useMemo(() => defaultSides(state), [state]);
  const sa = a ?? def?.a ?? null;
  const sb = b ?? def?.b ?? null;

  useEffect(() => {
    onChoice(open && sa && sb ? { a: sa, b: sb, mode, rate } : null);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [open, sa?.arm, sa?.update, sb?.arm, sb?.update, mode, rate]);

  useEffect(() => {
    if (!open || mode !== 'flicker' || paused) return;
    const id = window.setInterval(() => setShowing((w) => (w === 'a' ? 'b' : 'a')), 1000 / rate);
    return () => window.clearInterval(id);
  }, [open, mode, paused, rate]);

  const items = useMemo(() => (sa && sb ? commonPairs(state, sa, sb) : []), [state, sa, sb]);
  const item = items[Math.min(index, Math.max(0, items.length - 1))] ?? null;
  const recorded = state.source === 'imported';

  if (!open) {
    return (
      <section className="pg-card pg-compare" aria-labelledby="pg-compare-h" data-testid="pg-compare">
        <div className="pg-card-head">
          <h2 id="pg-compare-h">Compare samples</h2>
          <span className="pg-muted">two arms or two checkpoints on the same prompt and the same noise, side by side or flickering</span>
        </div>
        <button type="button" className="pg-btn" data-testid="pg-compare-open" onClick={() => setOpen(true)}>
          Compare two models
        </button>
      </section>
    );
  }

  const missing = (s: CompareSide | null) =>
    !s ? null : sideData(state, s) ? null : normaliseSide(s).update > state.update ? `${sideLabel(s)}: the run has not reached it yet (it is at update ${state.update}).` : `${sideLabel(s)}: this run holds no per-image figures there${recorded && normaliseSide(s).arm === '' ? ' (recorded files keep the base model’s means only)' : ''}.`;
  const gaps = [missing(sa), missing(sb)].filter((x): x is string => !!x);

  const tile = (which: 'a' | 'b', side: CompareSide) => {
    const im = item?.[which].image ?? null;
    return im ? (
      <ImageTile image={im} scale={5} label={`${which.toUpperCase()}: ${sideLabel(side)}, ${item?.prompt ?? `prompt ${(item?.index ?? 0) + 1}`}`} testId={`pg-compare-img-${which}`} />
    ) : (
      <div className="pg-compare-noimg" data-testid={`pg-compare-noimg-${which}`}>
        {recorded ? 'No image: recorded files keep per-image metrics, not images.' : 'No image at this checkpoint.'}
      </div>
    );
  };

  return (
    <section className="pg-card pg-compare pg-compare-open" aria-labelledby="pg-compare-h" data-testid="pg-compare">
      <div className="pg-card-head">
        <h2 id="pg-compare-h">Compare samples</h2>
        <span className="pg-same-noise">Same prompt, same starting noise: only the model differs.</span>
        <button
          type="button"
          className="pg-link"
          data-testid="pg-compare-close"
          onClick={() => {
            setOpen(false);
            setMessages([]);
          }}
        >
          Close
        </button>
      </div>
      {messages.length > 0 && (
        <div className="notice notice-warn" role="alert" data-testid="pg-compare-message">
          {messages.join(' ')}{' '}
          <button type="button" className="pg-link" onClick={() => setMessages([])}>
            Dismiss
          </button>
        </div>
      )}
      {!sa || !sb ? (
        <p className="pg-hint" data-testid="pg-compare-empty">
          {recorded ? 'This recorded run holds no per-image figures to compare.' : 'Two models to compare appear once the base model is evaluated and the first checkpoint is reached.'}
        </p>
      ) : (
        <>
          <div className="pg-compare-controls">
            <SidePicker which="A" side={sa} state={state} onChange={setA} />
            <SidePicker which="B" side={sb} state={state} onChange={setB} />
            <fieldset className="pg-compare-side">
              <legend>Show</legend>
              <label>
                <input type="radio" name="pg-compare-mode" data-testid="pg-compare-mode-side" checked={mode === 'side'} onChange={() => setMode('side')} /> side by side
              </label>
              <label>
                <input type="radio" name="pg-compare-mode" data-testid="pg-compare-mode-flicker" checked={mode === 'flicker'} onChange={() => setMode('flicker')} /> flicker
              </label>
              {mode === 'flicker' && (
                <>
                  <label>
                    <span>Rate</span>
                    <select data-testid="pg-compare-rate" value={rate} onChange={(e) => setRate(Number(e.target.value))}>
                      {FLICKER_RATES.map((r) => (
                        <option key={r} value={r}>
                          {r} per second
                        </option>
                      ))}
                    </select>
                  </label>
                  <button type="button" className="pg-btn" data-testid="pg-compare-pause" aria-pressed={paused} onClick={() => setPaused((p) => !p)}>
                    {paused ? 'Resume flicker' : 'Pause flicker'}
                  </button>
                  {paused && (
                    <button type="button" className="pg-btn" data-testid="pg-compare-swap" onClick={() => setShowing((w) => (w === 'a' ? 'b' : 'a'))}>
                      Show {showing === 'a' ? 'B' : 'A'}
                    </button>
                  )}
                </>
              )}
            </fieldset>
          </div>
          {gaps.length > 0 && (
            <p className="pg-hint" data-testid="pg-compare-gap">
              {gaps.join(' ')}
            </p>
          )}
          {item && (
            <>
              <div className="pg-compare-pair">
                <button type="button" className="pg-btn" aria-label="Previous image" disabled={item.index === 0} onClick={() => setIndex(item.index - 1)}>
                  ←
                </button>
                <label>
                  <span className="pg-sr">Image</span>
                  <select data-testid="pg-compare-pair" value={item.index} onChange={(e) => setIndex(Number(e.target.value))}>
                    {items.map((x) => (
                      <option key={x.index} value={x.index}>
                        {x.index + 1}: {x.prompt ?? `evaluation prompt ${x.index + 1}`}
                      </option>
                    ))}
                  </select>
                </label>
                <button type="button" className="pg-btn" aria-label="Next image" disabled={item.index >= items.length - 1} onClick={() => setIndex(item.index + 1)}>
                  →
                </button>
                <span className="pg-muted" data-testid="pg-compare-count">
                  {items.length} (prompt, noise) pair{items.length === 1 ? '' : 's'} in common
                  {recorded && !state.evalPrompts.length ? '; the recorded file does not list the prompts’ texts' : ''}
                </span>
              </div>
              {mode === 'side' ? (
                <div className="pg-compare-images" data-testid="pg-compare-side-by-side">
                  <figure>
                    {tile('a', sa)}
                    <figcaption>A · {sideLabel(sa)}</figcaption>
                  </figure>
                  <figure>
                    {tile('b', sb)}
                    <figcaption>B · {sideLabel(sb)}</figcaption>
                  </figure>
                </div>
              ) : (
                <div className="pg-compare-images" data-testid="pg-compare-flicker" data-showing={showing}>
                  <figure>
                    {tile(showing, showing === 'a' ? sa : sb)}
                    <figcaption data-testid="pg-compare-showing">
                      Showing {showing.toUpperCase()} · {sideLabel(showing === 'a' ? sa : sb)}
                      {paused ? ' (paused)' : ''}
                    </figcaption>
                  </figure>
                </div>
              )}
              <div className="pg-table-wrap">
                <table className="pg-results pg-compare-metrics" data-testid="pg-compare-metrics">
                  <caption className="pg-sr">Metrics of the two images</caption>
                  <thead>
                    <tr>
                      <th scope="col">Metric</th>
                      <th scope="col" className={mode === 'flicker' && showing === 'a' ? 'pg-compare-shown' : undefined}>
                        A
                      </th>
                      <th scope="col" className={mode === 'flicker' && showing === 'b' ? 'pg-compare-shown' : undefined}>
                        B
                      </th>
                      <th scope="col">B − A</th>
                    </tr>
                  </thead>
                  <tbody>
                    {METRICS.map(([k, label, d]) => {
                      const va = item.a.metrics[k];
                      const vb = item.b.metrics[k];
                      return (
                        <tr key={k} data-testid={`pg-compare-m-${k}`}>
                          <th scope="row">{label}</th>
                          <td>{va?.toFixed(d) ?? '—'}</td>
                          <td>{vb?.toFixed(d) ?? '—'}</td>
                          <td>{va !== undefined && vb !== undefined ? signed(vb - va, d) : '—'}</td>
                        </tr>
                      );
                    })}
                  </tbody>
                </table>
              </div>
            </>
          )}
        </>
      )}
    </section>
  );
}
