/**
 * Per-update diagnostics of the SePPO loss (DESIGN §5 "Training logs per update"), computed on
 * plain arrays already read back from the device (armUpdate.ts reads one tensor per arm per
 * update). The Diffusion-DPO loss alone is hard to read (it sits near log 2 for a long time);
 * these show what it is doing: the implicit rewards −β·(m − r) of both halves (eq. 8's two
 * terms), the histogram of `inside`, implicit accuracy per timestep bucket and the share of
 * flipped samples (s = +1, eq. 9). No tfjs: the page and the report may import it.
 */
import { INSIDE_HIST_EDGES, T_BUCKETS } from './bins';

export interface LossDiagnostics {
  mW: number;
  mL: number;
  rW: number;
  rL: number;
  /** Mean implicit reward of the winner half, −β·(m_w − r_w). */
  rewardW: number;
  /** Mean implicit reward of the reference/losing half, −β·(m_l − r_l). */
  rewardL: number;
  /** Mean reward margin rewardW − rewardL (positive: the policy prefers the winner more than the reference does). */
  margin: number;
  /**
   * Counts of `inside` in the bins of INSIDE_HIST_EDGES (length edges−1 = 12); values below the
   * first edge count in the first bin and values at or above the last edge in the last bin.
   */
  insideHist: number[];
  /** Implicit accuracy per T_BUCKETS bucket; null where the batch had no sample in that bucket. */
  accByTBucket: (number | null)[];
  /** Share of samples with s = +1 (learn from both halves); 'sign' only, 0 otherwise. */
  flippedShare: number;
}

const mean = (xs: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return xs.length ? s / xs.length : NaN;
};

/** Histogram of `values` over fixed `edges` (clamped into the end bins). */
export function fixedHistogram(values: ArrayLike<number>, edges: readonly number[] = INSIDE_HIST_EDGES): number[] {
  const counts = new Array(edges.length - 1).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) continue;
    let b = 0;
    while (b < counts.length - 1 && v >= edges[b + 1]) b++;
    counts[b]++;
  }
  return counts;
}

export function lossDiagnostics(v: {
  beta: number;
  mW: ArrayLike<number>;
  mL: ArrayLike<number>;
  rW: ArrayLike<number>;
  rL: ArrayLike<number>;
  inside: ArrayLike<number>;
  s: ArrayLike<number>;
  t: ArrayLike<number>;
}): LossDiagnostics {
  const n = v.mW.length;
  const rewW = new Float64Array(n);
  const rewL = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    rewW[i] = -v.beta * (v.mW[i] - v.rW[i]);
    rewL[i] = -v.beta * (v.mL[i] - v.rL[i]);
  }
  const accByTBucket: (number | null)[] = [];
  for (let b = 0; b < T_BUCKETS.length - 1; b++) {
    let hit = 0;
    let cnt = 0;
    for (let i = 0; i < n; i++) {
      if (v.t[i] >= T_BUCKETS[b] && v.t[i] < T_BUCKETS[b + 1]) {
        cnt++;
        if (v.inside[i] > 0) hit++;
      }
    }
    accByTBucket.push(cnt ? hit / cnt : null);
  }
  let flipped = 0;
  for (let i = 0; i < n; i++) if (v.s[i] === 1) flipped++;
  const rewardW = mean(rewW);
  const rewardL = mean(rewL);
  return {
    mW: mean(v.mW),
    mL: mean(v.mL),
    rW: mean(v.rW),
    rL: mean(v.rL),
    rewardW,
    rewardL,
    margin: rewardW - rewardL,
    insideHist: fixedHistogram(v.inside),
    accByTBucket,
    flippedShare: n ? flipped / n : 0,
  };
}

/*
 * Implicit accuracy mean(inside > 0) and AAF rate mean(s == −1) (DESIGN §4), counted on the CPU from
 * the per-sample values read back. `seppoLoss` returns the same two means as float32 tensors, but
 * they are not what the records hold: a float32 mean of k ones over B samples is rounded to float32
 * (1 of 3 is 0.3333333432674408, not 0.3333333333333333), so reading them back would change the
 * records' last bits for every batch size that is not a power of two. Counting keeps the exact k/B.
 */

/** mean(inside > 0): the share of pairs the implicit reward already orders right. */
export function implicitAccuracyOf(inside: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < inside.length; i++) if (inside[i] > 0) n++;
  return n / inside.length;
}

/** mean(s == −1): the share of reference samples the flipper judges losers (eq. 9). */
export function aafRateOf(s: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s[i] === -1) n++;
  return n / s.length;
}

/**
 * The AAF decision against the truth (issue 13, 3b), for one update: per sample, the decision
 * (s ≠ −1: "the reference sample is probably good", s = +1 under 'sign', 0 under 'indicator';
 * s = −1: "it is a loser") against whether the decoded reference sample's true utility is at least
 * the decoded x^w's. `goodAtLeast + loserWorse` are the decisions the truth agrees with.
 */
export interface AafConfusion {
  /** s ≠ −1 and U(x^l) ≥ U(x^w): learned as a winner, rightly. */
  goodAtLeast: number;
  /** s ≠ −1 and U(x^l) < U(x^w): learned as a winner, though worse than the winner. */
  goodWorse: number;
  /** s = −1 and U(x^l) ≥ U(x^w): pushed away as a loser, though at least as good as the winner. */
  loserAtLeast: number;
  /** s = −1 and U(x^l) < U(x^w): pushed away as a loser, rightly. */
  loserWorse: number;
}

export function emptyConfusion(): AafConfusion {
  return { goodAtLeast: 0, goodWorse: 0, loserAtLeast: 0, loserWorse: 0 };
}

/** The confusion counts of one update from s [B], U(x^l) [B] and U(x^w) [B]. */
export function aafConfusion(s: ArrayLike<number>, uRef: ArrayLike<number>, uWin: ArrayLike<number>): AafConfusion {
  if (s.length !== uRef.length || s.length !== uWin.length) throw new Error(`aafConfusion: ${s.length} decisions, ${uRef.length} reference and ${uWin.length} winner utilities`);
  const c = emptyConfusion();
  for (let i = 0; i < s.length; i++) {
    const atLeast = uRef[i] >= uWin[i];
    if (s[i] === -1) atLeast ? c.loserAtLeast++ : c.loserWorse++;
    else atLeast ? c.goodAtLeast++ : c.goodWorse++;
  }
  return c;
}

/** Sum of confusion counts (over updates). */
export function addConfusion(a: AafConfusion, b: AafConfusion): AafConfusion {
  return { goodAtLeast: a.goodAtLeast + b.goodAtLeast, goodWorse: a.goodWorse + b.goodWorse, loserAtLeast: a.loserAtLeast + b.loserAtLeast, loserWorse: a.loserWorse + b.loserWorse };
}

/** Share of AAF decisions the truth agrees with, and of s ≠ −1 decisions that fell on a sample at least as good as the winner. */
export function confusionRates(c: AafConfusion): { n: number; agreement: number; goodPrecision: number | null; loserPrecision: number | null } {
  const n = c.goodAtLeast + c.goodWorse + c.loserAtLeast + c.loserWorse;
  const good = c.goodAtLeast + c.goodWorse;
  const loser = c.loserAtLeast + c.loserWorse;
  return {
    n,
    agreement: n ? (c.goodAtLeast + c.loserWorse) / n : NaN,
    goodPrecision: good ? c.goodAtLeast / good : null,
    loserPrecision: loser ? c.loserWorse / loser : null,
  };
}

/** Displacement flag: the winners' probe error relative to θ₀ above this (+5 %). */
export const DISPLACEMENT_FLAG = 0.05;

/**
 * Likelihood-displacement monitor (issue 13, 3a): the policy's denoising error on the fixed probe
 * set relative to θ₀'s, as ratio of the summed errors − 1, for the winners (first P values) and
 * the losers (last P values). `flagged` when the winners' rises past DISPLACEMENT_FLAG.
 */
export function displacement(policy: ArrayLike<number>, base: ArrayLike<number>, pairs: number): { winners: number; losers: number; flagged: boolean } {
  if (policy.length !== 2 * pairs || base.length !== 2 * pairs) throw new Error(`displacement: expected ${2 * pairs} errors (winners then losers), got ${policy.length} and ${base.length}`);
  const sum = (xs: ArrayLike<number>, a: number, b: number) => {
    let s = 0;
    for (let i = a; i < b; i++) s += xs[i];
    return s;
  };
  const winners = sum(policy, 0, pairs) / sum(base, 0, pairs) - 1;
  const losers = sum(policy, pairs, 2 * pairs) / sum(base, pairs, 2 * pairs) - 1;
  return { winners, losers, flagged: winners > DISPLACEMENT_FLAG };
}
