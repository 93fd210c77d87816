/**
 * The video run's results as plain data and its tables (no tfjs): results.json and summary.md of
 * `npm run video-experiment`, and the pooled table of `npm run video-seeds` (the paper's Table 3
 * shape: the raw model, SFT and SePPO by FID, LPIPS, SSIM, PSNR, FVD, here with the true preference
 * and a 95 % interval on every comparison with the raw model).
 */
import { comparePaired, toColumns, fromColumns, type MetricColumns, type PairedComparison } from '../eval/intervals';
import { formatDelta, formatWin } from '../align/protocolReport';
import type { VideoConfig } from './config';
import { CLIP_METRIC_KEYS, type VideoCheckpointRecord, type VideoClipMetrics, type VideoUpdateRecord } from './records';
import { featureStats, frechetDistance, pairedBootstrapFrechetDelta } from './metrics';
import { Rng } from '../rng';

export interface VideoModelResult {
  name: string;
  /** Per-clip metrics as columns (clip i: prompt i mod P, noise i). */
  columns: MetricColumns;
  fid: number;
  fvd: number;
  vsRaw?: Record<string, PairedComparison>;
}

export interface VideoResults {
  kind: 'video';
  config: VideoConfig;
  date: string;
  wallS: number;
  backend: string;
  motion: string;
  features: string | null;
  arms: { name: string; halted: string | null; updates: VideoUpdateRecord[]; checkpoints: VideoCheckpointRecord[] }[];
  final: { prompts: string[]; models: VideoModelResult[] };
}

/** Features behind FID-like / FVD-like, per model (features.json beside results.json). */
export interface VideoFeatureFile {
  ideal: { frame: number[][]; clip: number[][] };
  models: Record<string, { frame: number[][]; clip: number[][] }>;
}

const LABEL: Record<(typeof CLIP_METRIC_KEYS)[number], string> = {
  trueUtility: 'True pref.',
  frame: 'frame part',
  temporal: 'temporal part',
  follow: 'follow part',
  ssim: 'SSIM ↑',
  psnr: 'PSNR (dB) ↑',
  lpips: 'LPIPS-like ↓',
};
const DIG: Record<string, number> = { trueUtility: 3, frame: 3, temporal: 3, follow: 3, ssim: 3, psnr: 2, lpips: 4 };
const f = (v: number, d: number) => (Number.isFinite(v) ? v.toFixed(d) : '—');
const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
/** A number read back from results.json, where JSON wrote NaN as null. */
const num = (x: unknown) => (typeof x === 'number' ? x : NaN);

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

const present = (models: readonly VideoModelResult[]) => CLIP_METRIC_KEYS.filter((k) => models.every((m) => (m.columns[k] ?? []).length > 0 && (m.columns[k] ?? []).every((v) => Number.isFinite(v))));

/** The means table (Table 3's shape) and the paired comparison of every model with the raw model. */
export function videoFinalMarkdown(models: readonly VideoModelResult[], n: number, fidDelta?: Record<string, { fid: Interval; fvd: Interval }>, armNames: readonly string[] = []): string {
  const keys = present(models);
  const means = table(
    ['model', 'FID-like ↓', 'FVD-like ↓', ...keys.map((k) => LABEL[k])],
    models.map((m) => [m.name, f(m.fid, 2), f(m.fvd, 2), ...keys.map((k) => f(mean(m.columns[k]), DIG[k]))]),
  );
  const rows: string[][] = [];
  for (const m of models.slice(1)) {
    if (!m.vsRaw) continue;
    const d = fidDelta?.[m.name];
    rows.push([
      m.name,
      formatWin(m.vsRaw.trueUtility.win),
      formatDelta(m.vsRaw.trueUtility.delta, 'trueUtility'),
      ...keys.filter((k) => k !== 'trueUtility').map((k) => formatDelta(m.vsRaw![k].delta, k)),
      d ? fmtInterval(d.fid) : '—',
      d ? fmtInterval(d.fvd) : '—',
    ]);
  }
  const cmp = table(['model − raw', 'win rate by true pref. [95 %]', 'Δ true pref. [95 %]', ...keys.filter((k) => k !== 'trueUtility').map((k) => `Δ ${LABEL[k]} [95 %]`), 'Δ FID-like [95 %, bootstrap]', 'Δ FVD-like [95 %, bootstrap]'], rows);
  return `Means over ${n} clips per model (the same prompts and noise for every model):\n\n${means}\n\nPaired with the raw model, clip by clip (win rate: Wilson, ties ½; Δ: paired t; FID/FVD: paired bootstrap over clips, 1,000 resamples):\n\n${cmp}${armPairsMarkdown(models, armNames, keys)}`;
}

/**
 * Every trained arm against every other on the same clips (A − B, paired t; win rate of A by true
 * preference): the comparison the paper's Table 3 makes between SFT and SePPO. Empty with < 2 arms.
 */
function armPairsMarkdown(models: readonly VideoModelResult[], armNames: readonly string[], keys: readonly (typeof CLIP_METRIC_KEYS)[number][]): string {
  const arms = armNames.map((a) => models.find((m) => m.name === a)).filter((m): m is VideoModelResult => !!m);
  if (arms.length < 2) return '';
  const rows: string[][] = [];
  for (let i = 0; i < arms.length; i++) {
    for (let j = i + 1; j < arms.length; j++) {
      const c = comparePaired(fromColumns(arms[i].columns) as unknown as VideoClipMetrics[], fromColumns(arms[j].columns) as unknown as VideoClipMetrics[], keys) as Record<string, PairedComparison>;
      rows.push([`${arms[i].name} − ${arms[j].name}`, formatWin(c.trueUtility.win), ...keys.map((k) => formatDelta(c[k].delta, k))]);
    }
  }
  return `\n\nArm against arm on the same clips (win rate of the first: Wilson, ties ½; Δ: paired t):\n\n${table(['arms', 'win rate by true pref. [95 %]', ...keys.map((k) => `Δ ${LABEL[k]} [95 %]`)], rows)}`;
}

export interface Interval {
  mean: number;
  lo: number;
  hi: number;
}
const fmtInterval = (i: Interval) => `${i.mean >= 0 ? '+' : '−'}${Math.abs(i.mean).toFixed(2)} [${i.lo >= 0 ? '+' : '−'}${Math.abs(i.lo).toFixed(2)}, ${i.hi >= 0 ? '+' : '−'}${Math.abs(i.hi).toFixed(2)}]`;

/**
 * d(A, ideal) − d(B, ideal) for a Fréchet distance, with a 95 % percentile interval from resampling
 * the paired clip indices (A[i], B[i] and ideal[i] share prompt and noise). Per-frame features: each
 * clip contributes its F rows (`rowsPerClip`). metrics.ts's pairedBootstrapFrechetDelta, seeded, as an Interval.
 */
export function pairedFrechetDelta(a: readonly number[][], b: readonly number[][], ideal: readonly number[][], rowsPerClip: number, resamples: number, seed: number): Interval {
  const d = pairedBootstrapFrechetDelta(a, b, ideal, resamples, new Rng(seed), rowsPerClip);
  return { mean: d.delta, lo: d.lo, hi: d.hi };
}

/** Δ FID-like and Δ FVD-like of every model against the raw one (models[0]), from features.json. */
export function frechetDeltas(feat: VideoFeatureFile, names: readonly string[], frames: number, resamples = 1000, seed = 1): Record<string, { fid: Interval; fvd: Interval }> {
  const raw = feat.models[names[0]];
  const out: Record<string, { fid: Interval; fvd: Interval }> = {};
  for (const n of names.slice(1)) {
    const m = feat.models[n];
    if (!m || !raw) continue;
    out[n] = { fid: pairedFrechetDelta(m.frame, raw.frame, feat.ideal.frame, frames, resamples, seed), fvd: pairedFrechetDelta(m.clip, raw.clip, feat.ideal.clip, 1, resamples, seed) };
  }
  return out;
}

export function videoSummaryMarkdown(r: VideoResults, fidDelta?: Record<string, { fid: Interval; fvd: Interval }>): string {
  const c = r.config;
  const n = r.final.prompts.length;
  const lines = [
    `# Video run (issue 17, the paper's Table 3): ${c.arms.map((a) => a.name).join(', ')}`,
    '',
    `${r.date}, ${r.backend}, ${r.wallS.toFixed(0)} s. Seed ${c.seed}, dataset seed ${c.dataSeed}, ${c.updates} updates of ${c.batchSize} clips × ${c.frames} frames, LoRA rank ${c.loraRank}, lr ${c.lr} (arms may override), β ${c.beta}; reference samples ${c.refSteps} DDIM steps, guidance ${c.refGuidance}. Evaluation: ${c.evalPrompts} ${c.evalSplit} prompts × ${c.evalNoises} noises = ${n} paired clips per model, ${c.evalSteps} DDIM steps, guidance ${c.evalGuidance}, eval seed ${c.evalSeed}. Motion modules: ${r.motion}; feature networks: ${r.features ?? 'none (FID-, FVD-, LPIPS-like not computed)'}.`,
    '',
    videoFinalMarkdown(r.final.models, n, fidDelta, r.arms.map((a) => a.name)),
    '',
    '## Training',
    '',
    table(
      ['arm', 'updates', 'mean loss (last 20)', 'AAF rate (last 20)', 'implicit acc. (last 20)', 'ms / update', 'halted'],
      r.arms.map((a) => {
        const last = a.updates.slice(-20);
        return [a.name, String(a.updates.length), f(mean(last.map((u) => u.loss)), 4), f(mean(last.map((u) => u.aafRate)), 2), f(mean(last.map((u) => u.implicitAcc)), 2), f(mean(a.updates.map((u) => u.ms)), 0), a.halted ?? '—'];
      }),
    ),
  ];
  const ck = r.arms.filter((a) => a.checkpoints.length);
  if (ck.length) {
    lines.push('', `Checkpoints (${c.checkpointEvalClips} clips each, paired with the raw model's): Δ true preference [95 %]`, '');
    const ups = ck[0].checkpoints.map((x) => x.update);
    lines.push(table(['arm', ...ups.map((u) => `u ${u}`)], ck.map((a) => [a.name, ...a.checkpoints.map((x) => formatDelta(x.deltaVsRaw.delta, 'trueUtility'))])));
  }
  return lines.join('\n') + '\n';
}

/** Several seeds of one video config: per-clip comparisons pooled over every seed's paired clips. */
export function videoSeedsMarkdown(runs: readonly VideoResults[], feats?: readonly (VideoFeatureFile | null)[]): string {
  if (runs.length === 0) throw new Error('videoSeedsMarkdown: no runs');
  const names = runs[0].final.models.map((m) => m.name);
  for (const r of runs) {
    const n2 = r.final.models.map((m) => m.name);
    if (n2.join('|') !== names.join('|')) throw new Error(`video seeds: runs have different models (${names.join(', ')} vs ${n2.join(', ')})`);
  }
  const pooled: VideoModelResult[] = names.map((name) => {
    const rows = runs.flatMap((r) => fromColumns(r.final.models.find((m) => m.name === name)!.columns));
    return { name, columns: toColumns(rows), fid: mean(runs.map((r) => num(r.final.models.find((m) => m.name === name)!.fid))), fvd: mean(runs.map((r) => num(r.final.models.find((m) => m.name === name)!.fvd))) };
  });
  const raw = fromColumns(pooled[0].columns) as unknown as VideoClipMetrics[];
  const keys = present(pooled);
  for (const m of pooled.slice(1)) m.vsRaw = comparePaired(fromColumns(m.columns) as unknown as VideoClipMetrics[], raw, keys) as Record<string, PairedComparison>;
  let fidDelta: Record<string, { fid: Interval; fvd: Interval }> | undefined;
  if (feats && feats.length === runs.length && feats.every((x) => x)) {
    const merged: VideoFeatureFile = { ideal: { frame: [], clip: [] }, models: {} };
    for (const x of feats as VideoFeatureFile[]) {
      merged.ideal.frame.push(...x.ideal.frame);
      merged.ideal.clip.push(...x.ideal.clip);
      for (const [k, v] of Object.entries(x.models)) {
        merged.models[k] ??= { frame: [], clip: [] };
        merged.models[k].frame.push(...v.frame);
        merged.models[k].clip.push(...v.clip);
      }
    }
    fidDelta = frechetDeltas(merged, names, runs[0].config.frames);
    for (const m of pooled) {
      const mm = merged.models[m.name];
      if (mm) {
        m.fid = frechetDistance(featureStats(mm.frame), featureStats(merged.ideal.frame));
        m.fvd = frechetDistance(featureStats(mm.clip), featureStats(merged.ideal.clip));
      }
    }
  }
  const n = pooled[0].columns.trueUtility.length;
  return `# Video runs over ${runs.length} seeds (${runs.map((r) => r.config.seed).join(', ')})\n\nPooled: ${n} paired clips per model (${runs.map((r) => r.final.prompts.length).join(' + ')}). FID-/FVD-like here: over the pooled clips.\n\n${videoFinalMarkdown(pooled, n, fidDelta, runs[0].arms.map((a) => a.name))}\n`;
}
