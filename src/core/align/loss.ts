/**
 * The SePPO loss (paper eq. 6, 8, 9; appendix B.2; DESIGN §4) and the two baselines that share
 * its inputs: SFT (mean denoising error on winners) and Diffusion-DPO (SePPO with the flip off,
 * on real losers). Inputs are per-sample mean-squared denoising errors, 1-D tensors of length B:
 *
 *   m_w = mean((ε_θ(x_t^w, t, c)   − ε)²)     m_l = the same on the reference/losing half x^l
 *   r_w = mean((ε_ref(x_t^w, t, c) − ε)²)     r_l = the same on x^l     (r: computed without gradient)
 *
 * Pure tfjs, no DOM. The per-sample diagnostics at the bottom work on plain arrays read back once
 * per update (the trainer reads one concatenated tensor with `await data()`).
 */
import * as tf from '@tensorflow/tfjs';
import { INSIDE_HIST_EDGES, T_BUCKETS } from './bins';

export const FLIPS = ['sign', 'indicator', 'off'] as const;
/** AAF variant: 'sign' (the paper, eq. 9), 'indicator' (Table 4 variant), 'off' (all reference samples are losers). */
export type Flip = (typeof FLIPS)[number];

export interface PairErrors {
  /** m_w: policy error on the winner, [B] (carries the gradient). */
  modelW: tf.Tensor1D;
  /** m_l: policy error on the reference sample (or real loser), [B] (carries the gradient). */
  modelL: tf.Tensor1D;
  /** r_w: reference-model error on the winner, [B] (no gradient). */
  refW: tf.Tensor1D;
  /** r_l: reference-model error on the reference sample, [B] (no gradient). */
  refL: tf.Tensor1D;
}

export interface SeppoLossOptions {
  beta: number;
  flip: Flip;
}

export interface SeppoLossResult {
  /** mean(−log σ(inside)), scalar. */
  loss: tf.Scalar;
  /** −0.5·β·((m_w + s·m_l) − (r_w + s·r_l)), [B]. */
  inside: tf.Tensor1D;
  /** The AAF flipper s ∈ {+1, 0, −1}, [B]; a constant for the gradient. */
  s: tf.Tensor1D;
  /** mean(s == −1): the share of reference samples judged losers. */
  aafRate: tf.Scalar;
  /** mean(inside > 0). */
  implicitAcc: tf.Scalar;
}

/**
 * The AAF flipper (eq. 9, appendix B.2 `sign = where(pos_losses_w > 0, 1, -1)`): with d = m_w − r_w,
 *   'sign':      s = +1 if d > 0 else −1
 *   'indicator': s =  0 if d > 0 else −1
 *   'off':       s = −1
 * The boundary d = 0 gives −1 in every variant (a strict `>`, as in the pseudocode). s is a
 * constant for the gradient: it is built from tf.sign, whose gradient is zero (a `greater` on the
 * tape would make tfjs throw "gradient function not found for Greater").
 */
export function aafFlipper(modelW: tf.Tensor1D, refW: tf.Tensor1D, flip: Flip): tf.Tensor1D {
  return tf.tidy(() => {
    if (flip === 'off') return tf.fill(modelW.shape, -1) as tf.Tensor1D;
    // p = 1 where m_w − r_w > 0, else 0 (sign gives −1/0/+1; relu keeps only the +1).
    const p = tf.relu(tf.sign(tf.sub(modelW, refW)));
    return (flip === 'sign' ? tf.sub(tf.mul(p, 2), 1) : tf.sub(p, 1)) as tf.Tensor1D;
  });
}

/**
 * SePPO loss with the Anchor-based Adaptive Flipper (paper eq. 8–9, DESIGN §4):
 *   inside = −0.5·β·((m_w + s·m_l) − (r_w + s·r_l))
 *   loss   = mean(−log σ(inside)) = mean(softplus(−inside))   (the softplus form is stable for any |inside|)
 * With flip 'off' on real losers this is exactly Diffusion-DPO's loss.
 */
export function seppoLoss(e: PairErrors, opts: SeppoLossOptions): SeppoLossResult {
  if (!(opts.beta > 0) || !Number.isFinite(opts.beta)) {
    throw new Error(`seppoLoss: beta must be a positive finite number, got ${opts.beta}`);
  }
  if (!(FLIPS as readonly string[]).includes(opts.flip)) {
    throw new Error(`seppoLoss: flip must be one of ${FLIPS.join(', ')}, got ${String(opts.flip)}`);
  }
  const n = e.modelW.shape[0];
  for (const [k, t] of Object.entries(e)) {
    if (t.rank !== 1 || t.shape[0] !== n) {
      throw new Error(`seppoLoss: ${k} must be 1-D of length ${n} (like modelW), got shape [${t.shape.join(',')}]`);
    }
  }
  return tf.tidy(() => {
    const s = aafFlipper(e.modelW, e.refW, opts.flip);
    const modelDiff = tf.add(e.modelW, tf.mul(s, e.modelL)); // m_w + s·m_l
    const refDiff = tf.add(e.refW, tf.mul(s, e.refL)); // r_w + s·r_l
    const inside = tf.mul(-0.5 * opts.beta, tf.sub(modelDiff, refDiff)) as tf.Tensor1D;
    const loss = tf.mean(tf.softplus(tf.neg(inside))) as tf.Scalar;
    const implicitAcc = tf.mean(tf.cast(tf.greater(inside, 0), 'float32')) as tf.Scalar;
    const aafRate = tf.mean(tf.cast(tf.equal(s, -1), 'float32')) as tf.Scalar;
    return { loss, inside, s, aafRate, implicitAcc };
  });
}

/** Diffusion-DPO (Wallace et al.): SePPO with the flip off, on real losers from the pairs. */
export function dpoLoss(e: PairErrors, opts: { beta: number }): SeppoLossResult {
  return seppoLoss(e, { beta: opts.beta, flip: 'off' });
}

/** SFT (appendix B.2 `train_method == 'sft'`): the plain denoising loss mean(m_w) on the training images. */
export function sftLoss(modelW: tf.Tensor1D): tf.Scalar {
  return tf.mean(modelW) as tf.Scalar;
}

/** Per-sample mean-squared error over all but the batch axis: [B,…] → [B]. */
export function perSampleMse(pred: tf.Tensor, target: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const axes = pred.shape.slice(1).map((_, i) => i + 1);
    return tf.mean(tf.squaredDifference(pred, target), axes) as tf.Tensor1D;
  });
}

// ---------------------------------------------------------------------------------------------
// Diagnostics (per update, on values already read back). The diffusion-DPO loss alone is hard to
// read (it sits near log 2 for a long time); these show what it is doing.

export { INSIDE_HIST_EDGES, T_BUCKETS };

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
