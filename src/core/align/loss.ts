/**
 * The SePPO loss (paper eq. 6, 8, 9; appendix B.2; DESIGN §4) and the two baselines that share
 * its inputs: SFT (mean denoising error on winners) and Diffusion-DPO (SePPO with the flip off,
 * on real losers). Inputs are per-sample mean-squared denoising errors, 1-D tensors of length B:
 *
 *   m_w = mean((ε_θ(x_t^w, t, c)   − ε)²)     m_l = the same on the reference/losing half x^l
 *   r_w = mean((ε_ref(x_t^w, t, c) − ε)²)     r_l = the same on x^l     (r: computed without gradient)
 *
 * Pure tfjs, no DOM. The per-sample diagnostics computed from the values read back once per update
 * (inside histogram, implicit rewards, accuracy per t bucket) are in diagnostics.ts, without tfjs.
 */
import * as tf from '@tensorflow/tfjs';

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
