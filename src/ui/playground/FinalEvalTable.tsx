/**
 * The final evaluation of an imported or recorded run (the protocol of issue 13: 64 prompts × 16 noises,
 * or 64 × 8 per set for Table 2): per arm and prompt set, the win rate against the base with its Wilson
 * interval and Δ with its paired t-interval, by true preference and PickScore-mini — the same
 * formatters as the runner's summary.md (core/align/protocolReport.ts), so the numbers read the same.
 * The live page has no final evaluation (it would cost a thousand images per arm); this card appears
 * only where the file carries one. And the likelihood-displacement probe per checkpoint, where recorded.
 */
import { formatDelta, formatWin } from '../../core/align/protocolReport';
import { probeIsTrainingData } from '../../core/config';
import type { FinalSummaries } from './results';
import type { RunState } from './runState';

const SPLIT: Record<string, string> = { validation: 'validation', tuning: 'tuning', oodComposition: 'OOD composition', oodRaters: 'OOD raters' };
const KEYS = [
  ['trueUtility', 'True preference'],
  ['pickScore', 'PickScore-mini'],
] as const;

export function FinalEvalTable({ finals, state }: { finals: FinalSummaries; state: RunState }) {
  const arms = state.config.arms.filter((a) => finals[a.name]?.length);
  const probes = state.config.arms
    .map((a) => ({ arm: a.name, own: probeIsTrainingData(a.method), cps: (state.checkpoints[a.name] ?? []).filter((c) => c.probe) }))
    .filter((p) => p.cps.length > 0);
  if (arms.length === 0 && probes.length === 0) return null;
  return (
    <section className="pg-card" aria-labelledby="pg-final-h" data-testid="pg-final-eval">
      <div className="pg-card-head">
        <h2 id="pg-final-h">Final evaluation (from the file)</h2>
        <span className="pg-muted">each arm's image against the base's for the same prompt and noise; a tie counts ½; 95 % Wilson interval for the win rate, paired t for Δ</span>
      </div>
      {arms.length > 0 && (
        <div className="pg-table-wrap">
          <table className="pg-results" aria-label="Final evaluation against the base" data-testid="pg-final-table">
            <thead>
              <tr>
                <th scope="col">Arm</th>
                <th scope="col">Prompt set</th>
                <th scope="col">Images</th>
                {KEYS.map(([k, l]) => (
                  <th key={k} scope="col" colSpan={2}>
                    {l}: win rate vs base / Δ
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {arms.flatMap((a) =>
                finals[a.name].map((f) => (
                  <tr key={`${a.name}-${f.split}`} data-arm={a.name} data-split={f.split}>
                    <th scope="row">{a.name}</th>
                    <td>{SPLIT[f.split] ?? f.split}</td>
                    <td>{f.n.toLocaleString('en-US')}</td>
                    {KEYS.map(([k]) => {
                      const c = f.vsBase[k];
                      return c ? [<td key={`${k}w`}>{formatWin({ n: f.n, wins: 0, losses: 0, ...c.win })}</td>, <td key={`${k}d`}>{formatDelta({ n: f.n, sd: NaN, ...c.delta }, k)}</td>] : [<td key={`${k}w`}>—</td>, <td key={`${k}d`}>—</td>];
                    })}
                  </tr>
                )),
              )}
            </tbody>
          </table>
        </div>
      )}
      {probes.length > 0 && (
        <div className="pg-table-wrap">
          <table className="pg-results" aria-label="Likelihood displacement" data-testid="pg-displacement-table">
            <caption className="pg-muted">
              Likelihood displacement: error on fixed training pairs relative to θ₀, winners / losers (%); ⚠ the winners' error rose past +5 %
              {probes.some((p) => !p.own) ? '; ∘ a reward arm (DDPO, D3PO, SPO): it learns from its own samples and never sees these pairs, so its row is drift on unseen data, never flagged' : ''}
            </caption>
            <thead>
              <tr>
                <th scope="col">Arm</th>
                {probes[0].cps.map((c) => (
                  <th key={c.update} scope="col">
                    u={c.update}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {probes.map((p) => (
                <tr key={p.arm}>
                  <th scope="row">{p.own ? p.arm : `${p.arm} ∘`}</th>
                  {p.cps.map((c) => (
                    <td key={c.update}>
                      {pctSigned(c.probe!.winners)} / {pctSigned(c.probe!.losers)}
                      {c.probe!.flagged && p.own ? ' ⚠' : ''}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

const pctSigned = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(100 * v).toFixed(1)}`;
