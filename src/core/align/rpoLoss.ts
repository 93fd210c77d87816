/**
 * Diffusion-RPO's loss (Gu et al. 2024, "Diffusion-RPO: Aligning Diffusion Models through Relative
 * Preference Optimization"; the paper's Table 2 baseline, DESIGN §9): Diffusion-DPO's implicit rewards,
 * but every winner of the batch is contrasted with every loser, each pair weighted by how similar the
 * two prompts are (RPO, Yin et al. 2024):
 *
 *   inside_ij = −½·β·((m_w,i − r_w,i) − (m_l,j − r_l,j))       (Diffusion-DPO's, for winner i and loser j)
 *   ω_ij      = exp(S_ij / τ) / Σ_j' exp(S_ij' / τ)              (S: prompt similarity, e.g. cosine of the text embeddings)
 *   loss      = (1/B) Σ_i Σ_j ω_ij · (−log σ(inside_ij))
 *
 * With S_ii the row maximum (a prompt is most similar to itself) and τ → 0, ω → the identity and the
 * loss is exactly Diffusion-DPO's (loss.ts's dpoLoss); a large τ spreads each winner over every loser.
 * Each half keeps its own t and ε (m and r are per-sample errors); the cross pairs share none.
 * A loss function only (with tests): not yet an arm.
 */
import * as tf from '@tensorflow/tfjs';
import type { PairErrors } from './loss';

export interface RpoLossResult {
  loss: tf.Scalar;
  /** inside_ij [B, B]. */
  inside: tf.Tensor2D;
  /** ω_ij [B, B], rows summing to 1. */
  weights: tf.Tensor2D;
}

/** Prompt similarity S [B, B]: the cosine of mean-pooled text contexts [B, L, D]. */
export function promptSimilarity(ctx: tf.Tensor3D): tf.Tensor2D {
  return tf.tidy(() => {
    const e = tf.mean(ctx, 1) as tf.Tensor2D; // [B, D]
    const n = tf.div(e, tf.maximum(tf.norm(e, 'euclidean', 1, true), 1e-12));
    return tf.matMul(n, n, false, true) as tf.Tensor2D;
  });
}

export function diffusionRpoLoss(e: PairErrors, similarity: tf.Tensor2D, opts: { beta: number; tau: number }): RpoLossResult {
  if (!(opts.tau > 0)) throw new Error(`diffusionRpoLoss: τ must be > 0, got ${opts.tau}`);
  const B = e.modelW.shape[0];
  if (similarity.shape[0] !== B || similarity.shape[1] !== B) throw new Error(`diffusionRpoLoss: similarity must be [${B}, ${B}], got [${similarity.shape}]`);
  return tf.tidy(() => {
    const dW = tf.sub(e.modelW, e.refW).reshape([B, 1]); // winner i's error gap against the reference
    const dL = tf.sub(e.modelL, e.refL).reshape([1, B]); // loser j's
    const inside = tf.mul(-0.5 * opts.beta, tf.sub(dW, dL)) as tf.Tensor2D; // [B, B]
    const weights = tf.softmax(tf.div(similarity, opts.tau)) as tf.Tensor2D; // row-wise over j
    const loss = tf.div(tf.sum(tf.mul(weights, tf.softplus(tf.neg(inside)))), B) as tf.Scalar;
    return { loss, inside, weights };
  });
}
