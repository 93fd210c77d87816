/**
 * The report parts of issue 13's protocol, on plain results (no tfjs, no DOM):
 *
 *   finalEvalMarkdown       the final evaluation: per arm and metric, win rate vs base [Wilson] (ties
 *                           stated) and Δ vs base [paired t]
 *   displacementMarkdown    the likelihood-displacement probe per arm and checkpoint (flag past +5 %)
 *   aafSkillMarkdown        the AAF decision against the truth, a confusion matrix per arm
 *   separation              time to visible separation of two named arms (or an arm and 'base')
 *   sweepMarkdown           an lr sweep scored by true preference on the tuning split
 *   pooledComparison        several seeds' paired images pooled, for `npm run seeds` and the gates
 */
import { comparePaired, fromColumns, overlaps, pairedDelta, type MeanInterval, type MetricColumns, type PairedComparison } from '../eval/intervals';
import { METRIC_INFO, type MetricKey } from '../eval/metrics';
import { pearson, spearman } from '../eval/stats';
import { confusionRates, DISPLACEMENT_FLAG } from './diagnostics';
import type { ArmResults, Metrics, RunResults } from './records';
import { probeIsTrainingData } from '../config';

const pct = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(1)}%` : '—');
const signed = (v: number, d: number) => (Number.isFinite(v) ? `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(d)}` : '—');
const label = (k: string) => (k in METRIC_INFO ? METRIC_INFO[k as MetricKey].label : k);
const DIGITS: Record<string, number> = { pickScore: 2, hps: 2, alignment: 3, aesthetic: 3, trueUtility: 3 };
const digits = (k: string) => DIGITS[k] ?? 4;

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((x) => `| ${x.join(' | ')} |`)].join('\n');
}

/** "62.5% [59.5%, 65.4%] (3 ties)". */
export function formatWin(c: PairedComparison['win']): string {
  return `${pct(c.rate)} [${pct(c.lo)}, ${pct(c.hi)}]${c.ties ? ` (${c.ties} ties)` : ''}`;
}

/** "+0.030 [+0.025, +0.035]". */
export function formatDelta(d: MeanInterval, k: string): string {
  const n = digits(k);
  return `${signed(d.mean, n)} [${signed(d.lo, n)}, ${signed(d.hi, n)}]`;
}

/** Metric keys in display order: the headline ones first. */
function orderedKeys(keys: string[]): string[] {
  const first = ['trueUtility', 'pickScore'];
  return [...first.filter((k) => keys.includes(k)), ...keys.filter((k) => !first.includes(k))];
}

/** The final evaluation table (null when the run has none); with `ood`, the one on that out-of-distribution prompt set (Table 2). */
export function finalEvalMarkdown(r: RunResults, ood?: 'oodComposition' | 'oodRaters'): string | null {
  const bf = ood ? r.base?.finalEvalOod?.[ood] : r.base?.finalEval;
  if (!bf) return null;
  const rec = (a: ArmResults) => (ood ? a.finalEvalOod?.[ood] : a.finalEval);
  const keys = orderedKeys(Object.keys(bf.mean));
  const head = ['Arm', ...keys.flatMap((k) => [`${label(k)}: win rate vs base [95 % Wilson]`, `Δ ${label(k)} [95 % paired t]`])];
  const rows = [['base (θ₀)', ...keys.flatMap((k) => [`mean ${bf.mean[k].toFixed(digits(k))}`, '—'])]];
  for (const a of r.arms) {
    const f = rec(a);
    if (!f?.vsBase) {
      rows.push([a.halted ? `${a.name} (halted)` : a.name, ...keys.flatMap(() => ['—', '—'])]);
      continue;
    }
    rows.push([a.name, ...keys.flatMap((k) => [formatWin(f.vsBase![k].win), formatDelta(f.vsBase![k].delta, k)])]);
  }
  const what = ood ? `out of distribution, ${ood === 'oodComposition' ? 'held-out shape×colour combinations' : 'the second rater pool\'s prompts'} (Table 2)` : 'the protocol';
  return [
    `## Final evaluation${ood ? ` on ${ood}` : ''}: ${bf.n} paired images (${bf.prompts} ${bf.split} prompts × ${bf.noises} noises, update ${r.arms.map(rec).find((x) => x)?.update ?? r.updatesDone}; ${what})`,
    '',
    `Each arm's image against the base's for the same prompt and noise (evaluation seed ${r.config.evalSeed ?? `from seed ${r.config.seed}`}). ` +
      'Win rate: a tie counts ½ (ties are stated), interval Wilson at n = all images. Δ: mean of the paired differences with a Student-t interval.',
    '',
    table(head, rows),
    '',
  ].join('\n');
}

/** The likelihood-displacement table (null without probe records). */
export function displacementMarkdown(r: RunResults): string | null {
  const arms = r.arms.filter((a) => a.checkpoints.some((c) => c.probe));
  if (arms.length === 0) return null;
  const updates = [...new Set(arms.flatMap((a) => a.checkpoints.map((c) => c.update)))].sort((x, y) => x - y);
  const own = (a: ArmResults) => probeIsTrainingData(a.config.method);
  const cell = (a: ArmResults, u: number) => {
    const p = a.checkpoints.find((c) => c.update === u)?.probe;
    return p ? `${signed(100 * p.winners, 1)} / ${signed(100 * p.losers, 1)}${p.flagged && own(a) ? ' ⚠' : ''}` : '—';
  };
  const flagged = arms.filter((a) => own(a) && a.checkpoints.some((c) => c.probe?.flagged)).map((a) => a.name);
  const unseen = arms.filter((a) => !own(a)).map((a) => a.name);
  return [
    `## Likelihood displacement: error on ${r.config.probePairs} fixed training pairs relative to θ₀, winners / losers (%)`,
    '',
    `Same pairs, t and ε at every checkpoint (ratio of summed errors − 1). ⚠: the winners' error rose past +${100 * DISPLACEMENT_FLAG} % ` +
      `(${flagged.length ? `flagged: ${flagged.join(', ')}` : 'no arm flagged'}).` +
      (unseen.length ? ` ${unseen.join(', ')} learn${unseen.length === 1 ? 's' : ''} from ${unseen.length === 1 ? 'its' : 'their'} own samples and never see${unseen.length === 1 ? 's' : ''} these pairs: ${unseen.length === 1 ? 'its' : 'their'} row${unseen.length === 1 ? ' is' : 's are'} drift on unseen data (marked ∘), not displacement, and never flagged.` : ''),
    '',
    table(['Arm', ...updates.map((u) => `u=${u}`)], arms.map((a) => [own(a) ? a.name : `${a.name} ∘`, ...updates.map((u) => cell(a, u))])),
    '',
  ].join('\n');
}

/** The AAF confusion per arm (null without aafSkill). */
export function aafSkillMarkdown(r: RunResults): string | null {
  const arms = r.arms.filter((a) => a.aafSkill);
  if (arms.length === 0) return null;
  const rows = arms.map((a) => {
    const c = a.aafSkill!;
    const q = confusionRates(c);
    const ms = a.updates.map((u) => u.skillMs ?? 0);
    return [
      a.name,
      a.config.flip,
      String(c.goodAtLeast),
      String(c.goodWorse),
      String(c.loserAtLeast),
      String(c.loserWorse),
      pct(q.agreement),
      q.goodPrecision === null ? '—' : pct(q.goodPrecision),
      q.loserPrecision === null ? '—' : pct(q.loserPrecision),
      `${(ms.reduce((s, v) => s + v, 0) / Math.max(1, ms.length)).toFixed(0)} ms`,
    ];
  });
  return [
    '## The AAF decision against the truth (confusion over all updates)',
    '',
    "Per training sample: the decision (s ≠ −1, 'learn it as a winner': s = +1 under sign, 0 under indicator; s = −1: 'a loser') against whether the reference " +
      'sample x^l, decoded by the frozen decoder, has a true utility at least that of the decoded x^w. Both go through the same decoder.',
    '',
    table(
      ['Arm', 'flip', 's≠−1, x^l ≥ x^w', 's≠−1, x^l < x^w', 's=−1, x^l ≥ x^w', 's=−1, x^l < x^w', 'agreement with the truth', 's≠−1 right', 's=−1 right', 'cost per update'],
      rows,
    ),
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Time to visible separation.

export interface SeparationRow {
  update: number;
  /** 'final' for the final evaluation. */
  kind: 'checkpoint' | 'final';
  n: number;
  a: MeanInterval;
  b: MeanInterval;
  /** The two Δ-vs-base intervals overlap. */
  overlap: boolean;
  /** The paired a − b interval on the same images. */
  aMinusB: MeanInterval;
}

export interface Separation {
  metric: string;
  armA: string;
  armB: string;
  rows: SeparationRow[];
  /** First checkpoint (update) where the Δ intervals no longer overlap; null if never. */
  firstNoOverlap: number | null;
  /** First checkpoint where the paired a − b interval excludes 0. */
  firstPairedExcludesZero: number | null;
}

const ZERO = (n: number): MeanInterval => ({ n, mean: 0, sd: 0, lo: 0, hi: 0 });

function armPerImage(r: RunResults, name: string, update: number): Metrics[] | null {
  const a = r.arms.find((x) => x.name === name);
  if (!a) throw new Error(`unknown arm '${name}'; arms: ${r.arms.map((x) => `'${x.name}'`).join(', ')}, or 'base'`);
  const cp = a.checkpoints.find((c) => c.update === update);
  return cp?.perImage ? fromColumns(cp.perImage) : null;
}

/**
 * For two named arms (either may be 'base'), at every checkpoint with per-image metrics
 * (`keepPerImage`) and at the final evaluation: each arm's Δ against the base with its paired
 * t-interval, whether the two intervals overlap, and the paired interval of a − b on the same images.
 */
export function separation(r: RunResults, armA: string, armB: string, metric = 'trueUtility'): Separation {
  if (armA === armB) throw new Error('separation: name two different arms');
  const basePer = r.base?.perImage ? fromColumns(r.base.perImage) : null;
  const rows: SeparationRow[] = [];
  const one = (per: Metrics[] | null, base: Metrics[], name: string): { d: MeanInterval; v: number[] } | null => {
    if (name === 'base') return { d: ZERO(base.length), v: base.map((x) => x[metric]) };
    if (!per) return null;
    return { d: pairedDelta(per.map((x) => x[metric]), base.map((x) => x[metric])), v: per.map((x) => x[metric]) };
  };
  const push = (update: number, kind: SeparationRow['kind'], base: Metrics[], pa: Metrics[] | null, pb: Metrics[] | null) => {
    const A = one(pa, base, armA);
    const B = one(pb, base, armB);
    if (!A || !B) return;
    rows.push({ update, kind, n: base.length, a: A.d, b: B.d, overlap: overlaps(A.d, B.d), aMinusB: pairedDelta(A.v, B.v) });
  };
  const updates = [...new Set(r.arms.flatMap((a) => a.checkpoints.map((c) => c.update)))].sort((x, y) => x - y);
  if (basePer) for (const u of updates) push(u, 'checkpoint', basePer, armA === 'base' ? null : armPerImage(r, armA, u), armB === 'base' ? null : armPerImage(r, armB, u));
  const bf = r.base?.finalEval;
  if (bf) {
    const fin = (name: string) => {
      if (name === 'base') return null;
      const f = r.arms.find((x) => x.name === name)?.finalEval;
      return f ? fromColumns(f.perImage) : null;
    };
    push(r.arms.find((x) => x.finalEval)?.finalEval?.update ?? r.updatesDone, 'final', fromColumns(bf.perImage), fin(armA), fin(armB));
  }
  if (armA !== 'base') armPerImage(r, armA, -1); // validates the names even when nothing is kept
  if (armB !== 'base') armPerImage(r, armB, -1);
  const firstNo = rows.find((x) => x.kind === 'checkpoint' && !x.overlap);
  const firstEx = rows.find((x) => x.kind === 'checkpoint' && (x.aMinusB.lo > 0 || x.aMinusB.hi < 0));
  return { metric, armA, armB, rows, firstNoOverlap: firstNo?.update ?? null, firstPairedExcludesZero: firstEx?.update ?? null };
}

export function separationMarkdown(s: Separation): string {
  const k = s.metric;
  const rows = s.rows.map((x) => [
    x.kind === 'final' ? `final (u=${x.update})` : `u=${x.update}`,
    String(x.n),
    formatDelta(x.a, k),
    formatDelta(x.b, k),
    x.overlap ? 'overlap' : '**apart**',
    formatDelta(x.aMinusB, k),
  ]);
  const when = (u: number | null) => (u === null ? 'never (at the checkpoints recorded)' : `update ${u}`);
  return [
    `## Time to visible separation: ${s.armA} vs ${s.armB} by ${label(k)}`,
    '',
    `Each arm's Δ against the base with its 95 % paired t-interval ('base' is 0 exactly); the intervals first stop overlapping at ${when(s.firstNoOverlap)}; ` +
      `the paired interval of ${s.armA} − ${s.armB} on the same images first excludes 0 at ${when(s.firstPairedExcludesZero)}.` +
      (() => {
        const f = s.rows.find((x) => x.kind === 'final');
        if (!f) return '';
        const ex = f.aMinusB.lo > 0 || f.aMinusB.hi < 0;
        return ` At the final evaluation (${f.n} images) the intervals ${f.overlap ? 'overlap' : 'are apart'} and the paired interval ${ex ? 'excludes' : 'contains'} 0.`;
      })(),
    '',
    s.rows.length ? table(['Checkpoint', 'images', `Δ ${s.armA}`, `Δ ${s.armB}`, 'intervals', `${s.armA} − ${s.armB} [paired]`], rows) : '(no per-image metrics in this run: set keepPerImage or finalEvalPrompts)',
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Pooling over seeds and sweeps.

/** The out-of-distribution prompt sets of the final evaluation (finalEvalOod; the paper's Table 2). */
export type OodSet = 'oodComposition' | 'oodRaters';

/**
 * The per-image metrics of an arm's final result: the final evaluation if any, else the last
 * checkpoint's (keepPerImage); null otherwise. With `ood`, the final evaluation on that
 * out-of-distribution set only (null where the run has none).
 */
export function finalPerImage(r: RunResults, arm: string | null, ood?: OodSet): { per: Metrics[]; source: 'final' | 'checkpoint' } | null {
  if (ood) {
    const rec = arm === null ? r.base?.finalEvalOod?.[ood] : r.arms.find((x) => x.name === arm && !x.halted)?.finalEvalOod?.[ood];
    return rec ? { per: fromColumns(rec.perImage), source: 'final' } : null;
  }
  if (arm === null) {
    if (r.base?.finalEval) return { per: fromColumns(r.base.finalEval.perImage), source: 'final' };
    return r.base?.perImage ? { per: fromColumns(r.base.perImage), source: 'checkpoint' } : null;
  }
  const a = r.arms.find((x) => x.name === arm);
  if (!a || a.halted) return null;
  if (a.finalEval && r.base?.finalEval) return { per: fromColumns(a.finalEval.perImage), source: 'final' };
  const last = a.checkpoints.at(-1)?.perImage;
  return last && r.base?.perImage ? { per: fromColumns(last), source: 'checkpoint' } : null;
}

/**
 * Several runs' paired images of arm `a` against arm `b` (null: the base) pooled into one paired
 * comparison per metric. Null when some run lacks per-image metrics for either.
 */
export function pooledComparison(runs: RunResults[], a: string, b: string | null, keys: string[], ood?: OodSet): { n: number; source: string; cmp: Record<string, PairedComparison> } | null {
  const A: Metrics[] = [];
  const B: Metrics[] = [];
  const sources = new Set<string>();
  for (const r of runs) {
    const pa = finalPerImage(r, a, ood);
    const pb = finalPerImage(r, b, ood);
    if (!pa || !pb || pa.source !== pb.source || pa.per.length !== pb.per.length) return null;
    sources.add(pa.source);
    A.push(...pa.per);
    B.push(...pb.per);
  }
  return { n: A.length, source: [...sources].join('+'), cmp: comparePaired(A, B, keys) };
}

/** Columns of per-image metrics → their mean per key. */
export function columnMeans(c: MetricColumns): Metrics {
  const out: Metrics = {};
  for (const [k, v] of Object.entries(c)) out[k] = v.reduce((s, x) => s + x, 0) / v.length;
  return out;
}

/**
 * An lr sweep (arms named `<family> @ lr <value>`, see config.ts's sweepArms) scored by true
 * preference: per family, each lr's Δ against the base [paired t] and win rate [Wilson], and the
 * best lr by mean Δ. Null when the run has no swept arms.
 */
export function sweepMarkdown(r: RunResults, metric = 'trueUtility'): string | null {
  const swept = r.arms.map((a) => ({ a, m: /^(.*) @ lr (\S+)$/.exec(a.name) })).filter((x) => x.m);
  if (swept.length === 0) return null;
  const families = [...new Set(swept.map((x) => x.m![1]))];
  const rows: string[][] = [];
  const best: string[] = [];
  for (const fam of families) {
    let top: { lr: string; d: number } | null = null;
    for (const { a, m } of swept.filter((x) => x.m![1] === fam)) {
      const pa = finalPerImage(r, a.name);
      const pb = finalPerImage(r, null);
      if (!pa || !pb) {
        rows.push([fam, m![2], '—', '—', a.halted ? 'halted' : 'no per-image metrics']);
        continue;
      }
      const c = comparePaired(pa.per, pb.per, [metric])[metric];
      rows.push([fam, m![2], formatDelta(c.delta, metric), formatWin(c.win), `${pa.per.length} images (${pa.source})`]);
      if (!top || c.delta.mean > top.d) top = { lr: m![2], d: c.delta.mean };
    }
    if (top) best.push(`${fam}: lr ${top.lr}`);
  }
  const split = r.config.evalSplit ?? 'validation';
  return [
    `## lr sweep, scored by ${label(metric)} on the ${split} split`,
    '',
    split === 'tuning'
      ? 'The tuning split is disjoint from the evaluation split (validation_unique) and from every training split: choosing lr here leaves the evaluation untouched.'
      : '**Warning: this sweep was scored on the evaluation split; choose lr on the tuning split (evalSplit: tuning).**',
    '',
    table(['Arm', 'lr', `Δ ${label(metric)} vs base [95 % paired t]`, 'win rate vs base [95 % Wilson]', 'from'], rows),
    '',
    `Best lr by mean Δ: ${best.join('; ') || '—'}.`,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// The sanity gates (issue 13, point 4) over seeds.

export interface GateVerdict {
  gate: string;
  arm: string;
  against: string;
  rule: string;
  n: number;
  win: PairedComparison['win'] | null;
  delta: MeanInterval | null;
  pass: boolean | null;
}

/** The gates' rules on pooled true-preference win rates (null arms are skipped when a run lacks them). */
export function gateVerdicts(runs: RunResults[]): GateVerdict[] {
  const rules: { gate: string; arm: string; against: string | null; rule: string; ok: (w: PairedComparison['win']) => boolean }[] = [
    { gate: '1. base vs itself, fresh noise', arm: 'base (fresh noise)', against: null, rule: 'win rate within 50 ± 3 %', ok: (w) => Math.abs(w.rate - 0.5) <= 0.03 },
    { gate: '2. SFTʷ beats the base', arm: 'SFTʷ', against: null, rule: 'win rate ≥ 70 %, lower end > 60 %', ok: (w) => w.rate >= 0.7 && w.lo > 0.6 },
    { gate: '3. SFT on losers loses', arm: 'SFT on losers', against: null, rule: 'upper end < 50 %', ok: (w) => w.hi < 0.5 },
    { gate: '4. Diffusion-DPO beats the base', arm: 'Diffusion-DPO', against: null, rule: 'lower end > 50 %', ok: (w) => w.lo > 0.5 },
    { gate: '4b. Diffusion-DPO vs SFTʷ (head to head)', arm: 'Diffusion-DPO', against: 'SFTʷ', rule: 'reported, no threshold', ok: () => true },
  ];
  const out: GateVerdict[] = [];
  for (const g of rules) {
    if (!runs.every((r) => r.arms.some((a) => a.name === g.arm) && (g.against === null || r.arms.some((a) => a.name === g.against)))) continue;
    const p = pooledComparison(runs, g.arm, g.against, ['trueUtility']);
    const win = p?.cmp.trueUtility.win ?? null;
    out.push({
      gate: g.gate,
      arm: g.arm,
      against: g.against ?? 'base',
      rule: g.rule,
      n: p?.n ?? 0,
      win,
      delta: p?.cmp.trueUtility.delta ?? null,
      pass: win ? (g.against === null ? g.ok(win) : null) : null,
    });
  }
  return out;
}

/** The gates' pooled table, with each arm's final displacement per seed (the diagnostics a failing gate is read with). */
export function gatesMarkdown(runs: RunResults[]): string {
  const v = gateVerdicts(runs);
  const rows = v.map((g) => [
    g.gate,
    `${g.arm} vs ${g.against}`,
    String(g.n),
    g.win ? formatWin(g.win) : '—',
    g.delta ? formatDelta(g.delta, 'trueUtility') : '—',
    g.rule,
    g.pass === null ? (g.win ? 'reported' : 'no per-image data') : g.pass ? '**pass**' : '**FAIL**',
  ]);
  const disp = runs[0].arms.map((a) => [
    a.name,
    ...runs.map((r) => {
      const p = r.arms.find((x) => x.name === a.name)?.checkpoints.at(-1)?.probe;
      return p ? `${signed(100 * p.winners, 1)} / ${signed(100 * p.losers, 1)}${p.flagged ? ' ⚠' : ''}` : '—';
    }),
  ]);
  return [
    `# Sanity gates over ${runs.length} seed${runs.length > 1 ? 's' : ''} (${runs.map((r) => r.config.seed).join(', ')})`,
    '',
    'True preference, final evaluation, every seed\'s paired images pooled (a tie counts ½, stated); Wilson interval for the win rate, paired t for Δ.',
    '',
    table(['Gate', 'comparison', 'images', 'win rate [95 %]', 'Δ true pref. [95 %]', 'rule', 'verdict'], rows),
    '',
    '## Likelihood displacement at the last checkpoint, winners / losers (%), per seed',
    '',
    table(['Arm', ...runs.map((r) => `seed ${r.config.seed}`)], disp),
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Fig. 3 (left) as a number: AAF rate against PickScore-mini across checkpoints.

/** Per non-SFT arm with ≥ 3 evaluated checkpoints: the AAF rate (mean over the N updates before each checkpoint) and PickScore-mini, and their correlations. */
export function aafCorrelations(r: RunResults): { arm: string; k: number; pearson: number; spearman: number }[] {
  const N = r.config.checkpointEvery;
  const out: { arm: string; k: number; pearson: number; spearman: number }[] = [];
  for (const a of r.arms) {
    if (a.config.method === 'sft') continue;
    const xs: number[] = [];
    const ys: number[] = [];
    for (const c of a.checkpoints) {
      const us = a.updates.filter((u) => u.update > c.update - N && u.update <= c.update && u.aafRate !== null);
      const ps = c.metrics?.pickScore;
      if (us.length === 0 || ps === undefined) continue;
      xs.push(us.reduce((s, u) => s + u.aafRate!, 0) / us.length);
      ys.push(ps);
    }
    if (xs.length >= 3) out.push({ arm: a.name, k: xs.length, pearson: pearson(xs, ys), spearman: spearman(xs, ys) });
  }
  return out;
}

export function aafCorrelationMarkdown(r: RunResults): string | null {
  const c = aafCorrelations(r);
  if (c.length === 0) return null;
  const f = (v: number) => (Number.isFinite(v) ? v.toFixed(2) : '—');
  return [
    '## AAF rate against PickScore-mini across checkpoints (Fig. 3 left, as a correlation)',
    '',
    `Per arm: the AAF rate over the ${r.config.checkpointEvery} updates before each checkpoint against that checkpoint's PickScore-mini (k checkpoints; with k ≈ 7 only a large correlation means much).`,
    '',
    table(['Arm', 'k', 'Pearson', 'Spearman'], c.map((x) => [x.arm, String(x.k), f(x.pearson), f(x.spearman)])),
    '',
  ].join('\n');
}
