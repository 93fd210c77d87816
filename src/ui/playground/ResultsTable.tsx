/**
 * The live results table in the shape of the paper's Table 1/4: one row per arm (its latest
 * checkpoint), the base model first, the five metrics, win rates against the base (same prompts,
 * same noise) and the recent AAF rate. The best value of each metric column is bold.
 */
import { Fragment } from 'react';
import { armColour, BASE_COLOUR } from './colours';
import { recentMean } from './chartData';
import { latestCheckpoint, type RunState } from './runState';
import { isRewardMethod } from '../../core/config';

const COLS = [
  { key: 'pickScore', label: 'PickScore', title: 'PickScore-mini (100 × cosine)', digits: 2 },
  { key: 'hps', label: 'HPS', title: 'HPS-mini (100 × cosine)', digits: 2 },
  { key: 'alignment', label: 'Align.', title: 'Alignment: share of the 5 prompt attributes right (ImageReward role)', digits: 3 },
  { key: 'aesthetic', label: 'Aesth.', title: 'Aesthetic, 0–10', digits: 2 },
  { key: 'trueUtility', label: 'True pref.', title: 'True preference U of the simulated humans, 0–1', digits: 3 },
] as const;

const show = (v: number | null | undefined, d: number) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d));
const pct = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${(100 * v).toFixed(0)}%`);

export function ResultsTable({ state }: { state: RunState }) {
  const arms = state.config.arms;
  const rows = arms.map((a, i) => {
    const cp = latestCheckpoint(state, a.name);
    const recs = state.records[a.name] ?? [];
    return { a, i, cp, aaf: recentMean(recs, (r) => r.aafRate), updates: recs.length };
  });
  const best: Record<string, number> = {};
  for (const c of COLS) {
    const vals = rows.map((r) => r.cp?.metrics?.[c.key]).filter((v): v is number => v !== undefined);
    if (state.base) vals.push(state.base.metrics[c.key]);
    if (vals.length > 1) best[c.key] = Math.max(...vals);
  }
  const cell = (key: string, v: number | undefined, d: number) => (
    <td className={v !== undefined && best[key] === v ? 'pg-best' : undefined}>{show(v, d)}</td>
  );
  return (
    <div className="pg-table-wrap">
      <table className="pg-results" data-testid="pg-results" aria-label="Results (paper Table 1/4 shape)">
        <thead>
          <tr>
            <th scope="col">Method</th>
            <th scope="col">Ref.</th>
            <th scope="col">AAF</th>
            {COLS.map((c) => (
              <th key={c.key} scope="col" title={c.title}>
                {c.label}
              </th>
            ))}
            <th scope="col" title="share of evaluation prompts where the arm's image beats the base model's (same prompt, same noise), by true preference / by PickScore-mini">
              Win vs base
              <br />
              <small>true / PickScore</small>
            </th>
            <th scope="col" title="mean AAF rate over the last 10 updates">AAF rate</th>
            <th scope="col">Upd.</th>
          </tr>
        </thead>
        <tbody>
          {state.base && (
            <tr data-testid="pg-results-base">
              <th scope="row">
                <span className="pg-swatch" style={{ background: BASE_COLOUR }} aria-hidden="true" /> Base model θ₀
              </th>
              <td>—</td>
              <td>—</td>
              {COLS.map((c) => (
                <td key={c.key} className={best[c.key] === state.base!.metrics[c.key] ? 'pg-best' : undefined}>
                  {show(state.base!.metrics[c.key], c.digits)}
                </td>
              ))}
              <td>50% / 50%</td>
              <td>—</td>
              <td>0</td>
            </tr>
          )}
          {rows.map(({ a, i, cp, aaf, updates }) => (
            <tr key={i} data-testid={`pg-results-row-${i}`} data-arm={a.name}>
              <th scope="row">
                <span className="pg-swatch" style={{ background: armColour(a, i) }} aria-hidden="true" /> {a.name}
                {state.halted[a.name] && (
                  <span className="pg-halted-tag" title={state.halted[a.name]}>
                    {' '}
                    halted
                  </span>
                )}
              </th>
              <td>{a.method === 'sft' || a.method === 'ddpo' ? '—' : a.refStrategy}</td>
              <td>{a.method === 'seppo' ? a.flip : isRewardMethod(a.method) ? '—' : 'off'}</td>
              {COLS.map((c) => (
                <Fragment key={c.key}>{cell(c.key, cp?.metrics?.[c.key], c.digits)}</Fragment>
              ))}
              <td>
                {pct(cp?.winRate?.trueUtility)} / {pct(cp?.winRate?.pickScore)}
              </td>
              <td>{show(aaf, 2)}</td>
              <td>
                {updates}
                {cp && cp.update !== updates ? <span className="pg-muted"> (eval @{cp.update})</span> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
