/**
 * Reports of an experiment's results, shared by the headless runner and the page's export:
 * `metricsCsv` (one row per arm per update), `summaryMarkdown` (the paper's Table 4 shape, plus
 * the Fig. 2 / Fig. 3-left curves per checkpoint). Pure functions on plain data; no tfjs (it reads
 * the bins from bins.ts and the records' types from records.ts), so the page could import it too.
 */
import { pairedWin, type MetricColumns } from '../eval/intervals';
import { METRIC_KEYS, type MetricKey } from '../eval/metrics';
import { INSIDE_HIST_EDGES, T_BUCKETS } from './bins';
import { aafCorrelationMarkdown, aafSkillMarkdown, displacementMarkdown, finalEvalMarkdown, formatDelta, formatWin, pooledComparison, sweepMarkdown, type OodSet } from './protocolReport';
import type { Metrics, RunResults, UpdateRecord } from './records';
import { isRewardMethod } from '../config';

export interface RunMeta {
  engine: 'browser' | 'node';
  backend: string;
  preset: string | null;
  /** How the base model and scorers were obtained (shipped weights, or random for a dry run). */
  assets: string;
  startedAt: string;
  wallMs: number;
  /** Extra facts (adapter, Node version, …). */
  notes?: Record<string, string>;
}

export type ExperimentResults = RunResults & { meta: RunMeta };

const CSV_SCALARS = ['loss', 'implicitAcc', 'aafRate', 'mW', 'mL', 'rW', 'rL', 'rewardW', 'rewardL', 'margin', 'flippedShare', 'refK', 'ms', 'refMs'] as const;

const REWARD_CSV = ['trainReward', 'rewardModel', 'clipFrac', 'ratioMaxDev', 'insideAbs', 'raterTies'] as const;
/** Diffusion-RPO's and SPO's own diagnostics (columns only when some record has one). */
const METHOD_CSV = ['rpoSelfWeight', 'spoScoreGap'] as const;

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(+v.toPrecision(7)) : '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One row per arm and update: the scalars, implicit accuracy per t bucket, and the inside histogram. */
export function metricsCsv(r: Pick<ExperimentResults, 'arms'>): string {
  const buckets = T_BUCKETS.slice(0, -1).map((lo, i) => `acc_t${lo}_${T_BUCKETS[i + 1]}`);
  const hist = INSIDE_HIST_EDGES.slice(0, -1).map((lo, i) => `inside_${lo}_${INSIDE_HIST_EDGES[i + 1]}`);
  // With aafSkill: the update's AAF confusion (columns only when some record has it, so older runs keep their shape).
  const skill = r.arms.some((a) => (a.updates as UpdateRecord[]).some((u) => u.aafSkill)) ? (['goodAtLeast', 'goodWorse', 'loserAtLeast', 'loserWorse'] as const) : [];
  // Reward arms (DDPO, D3PO): their training reward and method diagnostics (columns only when some record has them).
  const reward = r.arms.some((a) => (a.updates as UpdateRecord[]).some((u) => u.trainReward !== undefined)) ? REWARD_CSV : [];
  const extras = r.arms.some((a) => (a.updates as UpdateRecord[]).some((u) => METHOD_CSV.some((k) => u[k] !== undefined))) ? METHOD_CSV : [];
  const lines = [['arm', 'update', ...CSV_SCALARS, ...buckets, ...hist, ...skill.map((k) => `aaf_${k}`), ...(skill.length ? ['skillMs'] : []), ...reward, ...extras].join(',')];
  for (const a of r.arms) {
    for (const u of a.updates as UpdateRecord[]) {
      lines.push(
        [
          csvCell(a.name),
          u.update,
          ...CSV_SCALARS.map((k) => csvCell(u[k])),
          ...buckets.map((_, i) => csvCell(u.accByTBucket?.[i] ?? null)),
          ...hist.map((_, i) => csvCell(u.insideHist?.[i] ?? null)),
          ...skill.map((k) => csvCell(u.aafSkill?.[k] ?? null)),
          ...(skill.length ? [csvCell(u.skillMs ?? null)] : []),
          ...reward.map((k) => csvCell(u[k] ?? null)),
          ...extras.map((k) => csvCell(u[k] ?? null)),
        ].join(','),
      );
    }
  }
  return lines.join('\n') + '\n';
}

/** The summary table's column heading and digits of each metric (eval/metrics.ts's keys, in their order). */
const COLUMN: Record<MetricKey, { label: string; digits: number }> = {
  pickScore: { label: 'PickScore-mini', digits: 2 },
  hps: { label: 'HPS-mini', digits: 2 },
  alignment: { label: 'Alignment', digits: 3 },
  aesthetic: { label: 'Aesthetic', digits: 3 },
  trueUtility: { label: 'True pref.', digits: 3 },
};
const COLS = METRIC_KEYS.map((key) => ({ key, ...COLUMN[key] }));

const fmt = (v: number | null | undefined, d: number) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d));
const pct = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '—' : `${(100 * v).toFixed(0)}%`);

/** A Markdown table from a header row and body rows. */
function markdownTable(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((x) => `| ${x.join(' | ')} |`)].join('\n');
}

/** Mean AAF rate over the arm's last `n` updates (one update's batch is too small to read alone). */
export function finalAafRate(updates: readonly UpdateRecord[], n: number): number | null {
  const xs = updates.slice(-n).map((u) => u.aafRate).filter((x): x is number => x !== null);
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/** "75% / 81%", or with per-image metrics kept (keepPerImage) "75% [63%, 84%] / 81% [70%, 89%]" (Wilson, ties ½). */
function winCell(r: RunResults, per: MetricColumns | undefined, w: Metrics): string {
  const base = r.base?.perImage;
  if (!per || !base) return `${pct(w.trueUtility)} / ${pct(w.pickScore)}`;
  const one = (k: string) => {
    if (!per[k] || !base[k]) return pct(w[k]);
    const c = pairedWin(per[k], base[k]);
    return `${pct(c.rate)} [${pct(c.lo)}, ${pct(c.hi)}]`;
  };
  return `${one('trueUtility')} / ${one('pickScore')}`;
}

/** "lr X", or, where arms set their own (the regime, a sweep), each arm's lr beside the experiment's default. */
export function lrNote(c: { lr: number; arms: { name: string; lr?: number }[] }): string {
  if (!c.arms.some((a) => a.lr !== undefined && a.lr !== c.lr)) return `lr ${c.lr}`;
  return `lr per arm (${c.arms.map((a) => `${a.name} ${a.lr ?? c.lr}`).join(', ')}; experiment default ${c.lr})`;
}

/** The Table-4-shaped summary (final checkpoint per arm) and per-checkpoint curves, as Markdown. */
export function summaryMarkdown(r: ExperimentResults): string {
  const N = r.config.checkpointEvery;
  const head = ['Arm', ...COLS.map((c) => c.label), 'Win rate vs base (true pref. / PickScore)', `Final AAF rate (last ${N} updates)`];
  const rows: string[][] = [];
  if (r.base) rows.push(['base (θ₀)', ...COLS.map((c) => fmt(r.base!.metrics[c.key], c.digits)), '—', '—']);
  for (const a of r.arms) {
    const last = a.checkpoints.at(-1);
    const m: Metrics | null = last?.metrics ?? null;
    const w = last?.winRate ?? null;
    const label = a.halted ? `${a.name} (halted)` : a.name;
    rows.push([
      label,
      ...COLS.map((c) => fmt(m?.[c.key], c.digits)),
      w ? winCell(r, last!.perImage, w) : '—',
      a.config.method === 'sft' ? 'n/a (SFT)' : isRewardMethod(a.config.method) ? `n/a (${a.config.method.toUpperCase()})` : fmt(finalAafRate(a.updates as UpdateRecord[], N), 3),
    ]);
  }

  // Fig. 2 / Fig. 3 (left): PickScore-mini and AAF rate at each checkpoint.
  const updates = [...new Set(r.arms.flatMap((a) => a.checkpoints.map((c) => c.update)))].sort((x, y) => x - y);
  const curveHead = ['Arm', ...updates.map((u) => `u=${u}`)];
  const psRows = r.arms.map((a) => [a.name, ...updates.map((u) => fmt(a.checkpoints.find((c) => c.update === u)?.metrics?.pickScore, 2))]);
  const tuRows = r.arms.map((a) => [a.name, ...updates.map((u) => fmt(a.checkpoints.find((c) => c.update === u)?.metrics?.trueUtility, 3))]);
  const aafRows = r.arms
    .filter((a) => a.config.method !== 'sft' && !isRewardMethod(a.config.method))
    .map((a) => [
      a.name,
      ...updates.map((u) => {
        const us = (a.updates as UpdateRecord[]).filter((x) => x.update > u - N && x.update <= u);
        return fmt(finalAafRate(us, N), 3);
      }),
    ]);

  const m = r.meta;
  const lines = [
    `# Experiment results${m.preset ? `: ${m.preset}` : ''}`,
    '',
    `Engine ${m.engine}, backend ${m.backend}, assets: ${m.assets}. Wall time ${(m.wallMs / 1000).toFixed(1)} s. ` +
      `${r.updatesDone} updates × ${r.arms.length} arms, batch ${r.config.batchSize}, checkpoint every ${N}, seed ${r.config.seed}, ` +
      `β ${r.config.beta}, ${lrNote(r.config)}, reference DDIM ${r.config.refSteps} steps (guidance ${r.config.refGuidance}), ` +
      `evaluation on ${r.config.evalPrompts} validation prompts × ${r.config.evalSteps} DDIM steps (guidance ${r.config.evalGuidance}), same noise for every arm.`,
    '',
    markdownTable(head, rows),
    '',
    '## PickScore-mini per checkpoint (Fig. 2)',
    '',
    markdownTable(curveHead, psRows),
    '',
    '## True preference per checkpoint',
    '',
    markdownTable(curveHead, tuRows),
    '',
    `## AAF rate, mean over the ${N} updates before each checkpoint (Fig. 3 left)`,
    '',
    markdownTable(curveHead, aafRows),
    '',
  ];
  // Issue 13's protocol and diagnostics, where the run has them.
  for (const extra of [finalEvalMarkdown(r), finalEvalMarkdown(r, 'oodComposition'), finalEvalMarkdown(r, 'oodRaters'), displacementMarkdown(r), aafSkillMarkdown(r), aafCorrelationMarkdown(r), sweepMarkdown(r), rewardTraceMarkdown(r)]) if (extra) lines.push(extra);
  return lines.join('\n');
}

/**
 * The reward-model arms' trace (issue 15): per checkpoint, the mean training reward of the updates
 * before it and the true preference measured at it; ⚠ where the reward rose while the true preference
 * fell since the previous checkpoint (reward hacking). Null when the run has no reward arm.
 */
export function rewardTraceMarkdown(r: Pick<RunResults, 'arms'>): string | null {
  const arms = r.arms.filter((a) => a.rewardTrace && a.rewardTrace.length > 0);
  if (arms.length === 0) return null;
  const updates = [...new Set(arms.flatMap((a) => a.rewardTrace!.map((p) => p.update)))].sort((x, y) => x - y);
  const rows = arms.map((a) => [
    `${a.name} (${a.rewardTrace![0].reward})`,
    ...updates.map((u) => {
      const p = a.rewardTrace!.find((x) => x.update === u);
      if (!p) return '—';
      return `${fmt(p.trainReward, 3)} / ${fmt(p.truePreference, 3)}${a.rewardHacking?.includes(u) ? ' ⚠' : ''}`;
    }),
  ]);
  return [
    '## Reward hacking: training reward / true preference per checkpoint',
    '',
    "Training reward: the mean reward-model score of the arm's own samples in the updates before the checkpoint (the reward it optimises); true preference: the checkpoint's evaluation. ⚠: the reward rose and the true preference fell since the previous checkpoint.",
    '',
    markdownTable(['Arm (reward)', ...updates.map((u) => `u=${u}`)], rows),
    '',
  ].join('\n');
}

/**
 * 95 % Wilson score interval for a share `p` observed over `n` trials (ties counted ½ make the
 * number of successes fractional; the formula takes it as is).
 */
export function wilsonInterval(p: number, n: number, z = 1.959964): [number, number] {
  if (!(n > 0) || !(p >= 0 && p <= 1)) throw new Error(`wilsonInterval: need 0 ≤ p ≤ 1 and n > 0, got p ${p}, n ${n}`);
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/**
 * Several seeds of one preset side by side: per arm, the final checkpoint's win rate against the
 * base (true preference and PickScore-mini) in each seed, pooled over all seeds' prompts with a
 * 95 % Wilson interval (an interval that excludes 50 % is a real difference from the base at this
 * sample size), and the change in mean true preference. Throws, naming the difference, when the
 * runs are not the same preset and arms, or when a run is unfinished.
 */
export function seedsSummaryMarkdown(runs: ExperimentResults[]): string {
  if (runs.length === 0) throw new Error('seedsSummaryMarkdown: no runs');
  const first = runs[0];
  const armNames = first.arms.map((a) => a.name);
  for (const r of runs) {
    const names = r.arms.map((a) => a.name);
    if (names.join('\u0000') !== armNames.join('\u0000')) throw new Error(`runs differ in their arms: [${armNames.join(', ')}] vs [${names.join(', ')}] (seed ${r.config.seed})`);
    if (r.config.evalPrompts !== first.config.evalPrompts) throw new Error(`runs differ in evalPrompts: ${first.config.evalPrompts} vs ${r.config.evalPrompts} (seed ${r.config.seed})`);
    if (r.updatesDone !== r.config.updates) throw new Error(`run with seed ${r.config.seed} is unfinished: ${r.updatesDone} of ${r.config.updates} updates`);
    if (!r.base) throw new Error(`run with seed ${r.config.seed} has no base evaluation`);
  }
  const seeds = runs.map((r) => r.config.seed);
  const n = first.config.evalPrompts;
  const pooled = (xs: number[]) => {
    const p = xs.reduce((a, b) => a + b, 0) / xs.length;
    const [lo, hi] = wilsonInterval(p, n * xs.length);
    return `${pct(p)} [${pct(lo)}, ${pct(hi)}]`;
  };
  const head = [
    'Arm',
    `Win rate by true pref. (seeds ${seeds.join(', ')})`,
    `pooled, ${n * runs.length} prompts [95 % CI]`,
    'Win rate by PickScore-mini',
    'pooled [95 % CI]',
    'Δ true pref. vs base',
    'seeds won (true-pref. win rate > 50 %)',
  ];
  const rows = armNames.map((name, i) => {
    const finals = runs.map((r) => {
      const a = r.arms[i];
      if (a.halted) return null;
      const last = a.checkpoints.at(-1);
      return last?.winRate && last.metrics ? { w: last.winRate, m: last.metrics, base: r.base!.metrics } : null;
    });
    if (finals.some((f) => f === null)) return [name, 'halted or not evaluated in some seed', '—', '—', '—', '—', '—'];
    const f = finals as { w: Metrics; m: Metrics; base: Metrics }[];
    const wt = f.map((x) => x.w.trueUtility), wp = f.map((x) => x.w.pickScore);
    const dt = f.map((x) => x.m.trueUtility - x.base.trueUtility);
    const signed = (v: number) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(3)}`;
    return [
      name,
      wt.map(pct).join(' / '),
      pooled(wt),
      wp.map(pct).join(' / '),
      pooled(wp),
      dt.map(signed).join(' / '),
      `${wt.filter((w) => w > 0.5).length} of ${runs.length}`,
    ];
  });
  const paired = pooledPairedMarkdown(runs);
  // Table 2: the out-of-distribution sets, pooled the same way where every run evaluated them.
  const oodPooled = (['oodComposition', 'oodRaters'] as const).map((s) => pooledPairedMarkdown(runs, s)).filter((x): x is string => x !== null);
  const evalSeeds = runs.map((r) => r.config.evalSeed);
  const sharedEvalSeed = runs.length > 1 && evalSeeds[0] !== undefined && evalSeeds.every((s) => s === evalSeeds[0]);
  return [
    `# ${first.meta.preset ?? 'experiment'} over ${runs.length} seed${runs.length > 1 ? 's' : ''}`,
    '',
    `Final checkpoint (update ${first.config.updates}) of each seed; win rates against the base on ${n} validation prompts with the same noise for every arm (ties ½).`,
    `The pooled intervals treat every (prompt, noise) as independent; runs with the same dataset seed evaluate the same prompts with new noise, so read them as somewhat optimistic.`,
    `Assets: ${[...new Set(runs.map((r) => r.meta.assets))].join('; ')}.`,
    ...(sharedEvalSeed
      ? [
          `**Warning: every run evaluated with evalSeed ${evalSeeds[0]}: the base's images are the same in every seed, so the pooled intervals count them ${runs.length} times and are too narrow. Give each seed its own --eval-seed (npm run gates uses 1013 + seed).**`,
        ]
      : []),
    '',
    markdownTable(head, rows),
    '',
    ...(paired ? [paired] : []),
    ...oodPooled,
  ].join('\n');
}

/**
 * Pooled over seeds from the paired images themselves (final evaluations, or the last checkpoint's
 * per-image metrics with keepPerImage): per arm, win rate against the base [Wilson] and Δ [paired
 * t] for the true preference and PickScore-mini. Null when some run has no per-image metrics.
 */
export function pooledPairedMarkdown(runs: RunResults[], ood?: OodSet): string | null {
  const names = runs[0].arms.map((a) => a.name);
  const keys = ['trueUtility', 'pickScore'];
  const rows: string[][] = [];
  let n = 0;
  let source = '';
  for (const name of names) {
    const p = pooledComparison(runs, name, null, keys.filter((k) => runs[0].base?.metrics[k] !== undefined), ood);
    if (!p) return null;
    n = p.n;
    source = p.source;
    rows.push([name, ...Object.keys(p.cmp).flatMap((k) => [formatWin(p.cmp[k].win), formatDelta(p.cmp[k].delta, k)])]);
  }
  const present = keys.filter((k) => runs[0].base?.metrics[k] !== undefined);
  const head = ['Arm', ...present.flatMap((k) => [`${COLUMN[k as MetricKey]?.label ?? k}: win rate vs base [95 % Wilson]`, `Δ [95 % paired t]`])];
  return [
    ood
      ? `## Pooled over the seeds' paired images on ${ood} (${n} per arm, final evaluations; out of distribution, Table 2)`
      : `## Pooled over the seeds' paired images (${n} per arm, ${source === 'final' ? 'final evaluations' : 'last checkpoint'})`,
    '',
    'Every (prompt, noise) image of every seed paired with the base image of the same seed, prompt and noise; a tie counts ½ (ties stated).',
    '',
    markdownTable(head, rows),
    '',
  ].join('\n');
}
