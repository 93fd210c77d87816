import type { DataSummary } from '../../worker/protocol-views';
import { num, pct } from './format';
import { poolLabel, splitLabel } from './wording';

/** The dataset's figures: pairs, unique prompts and ties per split; rater agreement by utility gap. */
export function DatasetFigures({ summary }: { summary: DataSummary }) {
  return (
    <div className="data-figures">
      <section className="data-card" aria-label="Splits">
        <h3>Pairs per split</h3>
        <table className="data-table" data-testid="data-splits">
          <thead>
            <tr><th>split</th><th>pairs</th><th>unique prompts</th><th>ties dropped</th></tr>
          </thead>
          <tbody>
            {summary.splits.filter((s) => s.pairs > 0).map((s) => (
              <tr key={s.name}>
                <td>{splitLabel(s.name)}</td><td>{s.pairs}</td><td>{s.uniquePrompts}</td><td>{s.tiesDropped}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="data-note">
          Seed {summary.seed}, built in the worker in {(summary.buildMs / 1000).toFixed(1)} s. Ties: pairs whose utility gap falls inside the
          raters' tie band are dropped, as the paper drops tied Pick-a-Pic pairs. The scorers' training splits are not built in the
          browser: PickScore-mini and HPS-mini ship pretrained.
        </p>
      </section>
      <section className="data-card" aria-label="Rater agreement">
        <h3>Raters agree with the higher utility</h3>
        <table className="data-table" data-testid="data-agreement">
          <thead>
            <tr>
              <th>utility gap</th>
              {summary.agreement.map((a) => <th key={a.pool}>{poolLabel(a.pool)}</th>)}
            </tr>
          </thead>
          <tbody>
            <tr className="data-total">
              <td>all pairs</td>
              {summary.agreement.map((a) => <td key={a.pool}>{pct(a.overall)} <span className="data-n">(n={a.n})</span></td>)}
            </tr>
            {summary.agreement[0].byGap.map((bin, i) => (
              <tr key={i}>
                <td>{num(bin.lo, 2)}–{num(bin.hi, 2)}</td>
                {summary.agreement.map((a) => {
                  const b = a.byGap[i];
                  return <td key={a.pool}>{b ? <>{pct(b.agreement)} <span className="data-n">(n={b.n})</span></> : '—'}</td>;
                })}
              </tr>
            ))}
          </tbody>
        </table>
        <p className="data-note">Bradley–Terry raters: the bigger the gap in true utility, the more often they pick the better image.</p>
      </section>
      <section className="data-card" aria-label="Generators">
        <h3>Generators (train split)</h3>
        <table className="data-table" data-testid="data-generators">
          <thead>
            <tr><th>generator</th><th>style</th><th>images</th><th>win rate</th><th>mean utility</th></tr>
          </thead>
          <tbody>
            {summary.generators.map((g) => (
              <tr key={g.name}>
                <td><code>{g.name}</code></td><td className="data-desc">{g.description}</td><td>{g.appearances}</td><td>{pct(g.winRate)}</td><td>{num(g.meanUtility)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p className="data-note">
          True utility U = {Object.entries(summary.utilityWeights).map(([k, w]) => `${w}·${k}`).join(' + ')} (each part 0–1, from pixels).
        </p>
      </section>
    </div>
  );
}

/** A few evaluation prompts: validation (in distribution) and the held-out shape×colour set. */
export function PromptLists({ summary }: { summary: DataSummary }) {
  return (
    <div className="data-figures">
      <section className="data-card" aria-label="Validation prompts">
        <h3>Validation prompts <span className="data-n">({summary.promptCounts.validationUnique} in all)</span></h3>
        <ul className="data-prompts" data-testid="data-validation">
          {summary.validationPrompts.map((p) => <li key={p}>{p}</li>)}
        </ul>
      </section>
      <section className="data-card" aria-label="Out-of-distribution prompts">
        <h3>Out-of-distribution prompts <span className="data-n">({summary.promptCounts.oodComposition} in all)</span></h3>
        <ul className="data-prompts" data-testid="data-ood">
          {summary.oodCompositionPrompts.map((p) => <li key={p}>{p}</li>)}
        </ul>
        <p className="data-note">
          Held-out shape×colour pairs, never in any training split: {summary.heldOutCombos.map((c) => `${c.colour} ${c.shape}`).join(', ')}.
        </p>
      </section>
    </div>
  );
}
