/**
 * Rows for the live charts, built from RunState (plain numbers; no tensor maths). Series keys are
 * positional (`a0`, `p1`, …) so arm names with any characters are safe as recharts data keys.
 */
import type { ExpUpdateRecord } from '../../worker/protocol-experiment';
import type { RunState } from './runState';
import type { ExperimentConfig } from '../../core/config';

export type Row = Record<string, number | null>;

/** Metrics selectable in the checkpoint chart (Fig. 2 and the others), with labels. */
export const CHECKPOINT_SERIES = [
  { key: 'pickScore', label: 'PickScore-mini', winRate: false },
  { key: 'hps', label: 'HPS-mini', winRate: false },
  { key: 'alignment', label: 'Alignment', winRate: false },
  { key: 'aesthetic', label: 'Aesthetic', winRate: false },
  { key: 'trueUtility', label: 'True preference', winRate: false },
  { key: 'winRate.trueUtility', label: 'Win rate vs base (true preference)', winRate: true },
  { key: 'winRate.pickScore', label: 'Win rate vs base (PickScore-mini)', winRate: true },
] as const;
export type CheckpointSeriesKey = (typeof CHECKPOINT_SERIES)[number]['key'];

export const UPDATE_SERIES = [
  { key: 'loss', label: 'Loss' },
  { key: 'implicitAcc', label: 'Implicit accuracy' },
  { key: 'aafRate', label: 'AAF rate' },
  { key: 'margin', label: 'Reward margin' },
  { key: 'flippedShare', label: 'Share flipped to winners' },
] as const;
export type UpdateSeriesKey = (typeof UPDATE_SERIES)[number]['key'];

function checkpointValue(s: RunState, arm: string, update: number, key: CheckpointSeriesKey): number | null {
  if (update === 0) {
    if (key.startsWith('winRate.')) return 0.5; // the base against itself
    return s.base?.metrics[key] ?? null;
  }
  const c = (s.checkpoints[arm] ?? []).find((x) => x.update === update);
  if (!c) return null;
  if (key.startsWith('winRate.')) return c.winRate?.[key.slice('winRate.'.length)] ?? null;
  return c.metrics?.[key] ?? null;
}

/**
 * Arms whose AAF rate is 1 by construction: no flipper (Diffusion-DPO, Diffusion-RPO, SePPO with flip
 * 'off'), so every reference sample is learned as a loser and the recorded rate (the share of s = −1)
 * is 1 at every update. The chart leaves their flat line out and says why; the records are unchanged.
 */
export function aafByConstruction(arm: Pick<ExperimentConfig['arms'][number], 'method' | 'flip'>): boolean {
  return arm.method === 'dpo' || arm.method === 'rpo' || (arm.method === 'seppo' && arm.flip === 'off');
}

/**
 * The paper's Fig. 3 (left): per arm, AAF rate at every update (`a<i>`) and PickScore-mini at
 * every checkpoint (`p<i>`; update 0 = the base model, shared by every arm).
 */
export function aafPickScoreRows(s: RunState): Row[] {
  const arms = s.config.arms.map((a) => a.name);
  const byUpdate = new Map<number, Row>();
  const row = (u: number) => {
    let r = byUpdate.get(u);
    if (!r) byUpdate.set(u, (r = { update: u }));
    return r;
  };
  if (s.base) arms.forEach((_, i) => (row(0)[`p${i}`] = s.base!.metrics.pickScore ?? null));
  arms.forEach((name, i) => {
    for (const r of s.records[name] ?? []) row(r.update)[`a${i}`] = r.aafRate;
    for (const c of s.checkpoints[name] ?? []) row(c.update)[`p${i}`] = c.metrics?.pickScore ?? null;
  });
  return [...byUpdate.values()].sort((a, b) => (a.update as number) - (b.update as number));
}

/** A checkpoint metric per arm (`v<i>`) against update, base at 0 (Fig. 2 for PickScore-mini). */
export function checkpointRows(s: RunState, key: CheckpointSeriesKey): Row[] {
  const arms = s.config.arms.map((a) => a.name);
  const updates = new Set<number>();
  if (s.base) updates.add(0);
  for (const a of arms) for (const c of s.checkpoints[a] ?? []) updates.add(c.update);
  return [...updates]
    .sort((a, b) => a - b)
    .map((u) => {
      const r: Row = { update: u };
      arms.forEach((a, i) => (r[`v${i}`] = checkpointValue(s, a, u, key)));
      return r;
    });
}

/** A per-update value per arm (`v<i>`) against update. */
export function updateRows(s: RunState, key: UpdateSeriesKey): Row[] {
  const arms = s.config.arms.map((a) => a.name);
  const byUpdate = new Map<number, Row>();
  arms.forEach((name, i) => {
    for (const r of s.records[name] ?? []) {
      let row = byUpdate.get(r.update);
      if (!row) byUpdate.set(r.update, (row = { update: r.update }));
      row[`v${i}`] = r[key] as number | null;
    }
  });
  return [...byUpdate.values()].sort((a, b) => (a.update as number) - (b.update as number));
}

/** Points each arm has on the AAF-rate/PickScore chart (AAF-rate points + PickScore points). */
export function pointsPerArm(s: RunState): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of s.config.arms) {
    const aaf = (s.records[a.name] ?? []).filter((r) => r.aafRate !== null).length;
    const ps = (s.checkpoints[a.name] ?? []).filter((c) => c.metrics?.pickScore !== undefined).length + (s.base ? 1 : 0);
    out[a.name] = aaf + ps;
  }
  return out;
}

/** Mean of the last `n` records' values (nulls skipped), or null. */
export function recentMean(recs: ExpUpdateRecord[], pick: (r: ExpUpdateRecord) => number | null, n = 10): number | null {
  const xs = recs.slice(-n).map(pick).filter((v): v is number => v !== null && Number.isFinite(v));
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

/** Implicit accuracy per timestep bucket, averaged over the last `n` updates (null where no sample fell in a bucket). */
export function accByBucket(recs: ExpUpdateRecord[], n = 10): (number | null)[] {
  const recent = recs.slice(-n).filter((r) => r.accByTBucket);
  const len = recent[0]?.accByTBucket?.length ?? 4;
  const out: (number | null)[] = [];
  for (let b = 0; b < len; b++) {
    const xs = recent.map((r) => r.accByTBucket![b]).filter((v): v is number => v !== null);
    out.push(xs.length ? xs.reduce((a, c) => a + c, 0) / xs.length : null);
  }
  return out;
}

/** Most points a chart line draws: long series are downsampled to this (extremes kept). */
export const MAX_CHART_POINTS = 480;

/**
 * At most about `maxPoints` rows of a long series: the rows are split into runs of consecutive
 * updates, and each run keeps its first and last row and, for every series key, the rows holding
 * that series' minimum and maximum, so spikes and dips survive. Short series come back as is.
 */
export function downsampleRows(rows: Row[], keys: string[], maxPoints = MAX_CHART_POINTS): Row[] {
  if (rows.length <= maxPoints) return rows;
  const perRun = 2 + 2 * keys.length;
  const runs = Math.max(1, Math.floor(maxPoints / perRun));
  const size = Math.ceil(rows.length / runs);
  const keep = new Set<number>();
  for (let s = 0; s < rows.length; s += size) {
    const e = Math.min(rows.length, s + size);
    keep.add(s);
    keep.add(e - 1);
    for (const k of keys) {
      let lo = -1;
      let hi = -1;
      for (let i = s; i < e; i++) {
        const v = rows[i][k];
        if (v === null || v === undefined || !Number.isFinite(v)) continue;
        if (lo < 0 || v < (rows[lo][k] as number)) lo = i;
        if (hi < 0 || v > (rows[hi][k] as number)) hi = i;
      }
      if (lo >= 0) keep.add(lo);
      if (hi >= 0) keep.add(hi);
    }
  }
  return [...keep].sort((a, b) => a - b).map((i) => rows[i]);
}

/** Adds `s<i>`, an exponential moving average of `v<i>` over `span` updates (nulls skipped), to copies of the rows. */
export function withSmoothed(rows: Row[], arms: number, span = 20): Row[] {
  const alpha = 2 / (span + 1);
  const ema: (number | null)[] = Array.from({ length: arms }, () => null);
  return rows.map((r) => {
    const out: Row = { ...r };
    for (let i = 0; i < arms; i++) {
      const v = r[`v${i}`];
      if (v !== null && v !== undefined && Number.isFinite(v)) ema[i] = ema[i] === null ? v : ema[i]! + alpha * (v - ema[i]!);
      out[`s${i}`] = v === null || v === undefined ? null : ema[i];
    }
    return out;
  });
}

/**
 * One update axis for every chart: domain [0, top] and the same ticks (1, 2 or 5 × 10^k apart,
 * at most 6), so a given update sits at the same place and label in every chart.
 */
export function updateAxis(maxUpdate: number): { domain: [number, number]; ticks: number[] } {
  const m = Math.max(1, Math.ceil(maxUpdate));
  let step = 1;
  for (let p = 1; ; p *= 10) {
    const s = [1, 2, 5].map((k) => k * p).find((k) => m / k <= 5);
    if (s) {
      step = s;
      break;
    }
  }
  const top = Math.ceil(m / step) * step;
  const ticks: number[] = [];
  for (let t = 0; t <= top; t += step) ticks.push(t);
  return { domain: [0, top], ticks };
}

/** The latest update the run has data for (records or checkpoints). */
export function lastUpdate(s: RunState): number {
  let m = s.update;
  for (const a of Object.values(s.records)) if (a.length) m = Math.max(m, a[a.length - 1].update);
  return m;
}
