import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { dpoLoss } from './loss';
import { diffusionRpoLoss, promptSimilarity } from './rpoLoss';

const sp = (x: number) => Math.log1p(Math.exp(x)); // softplus; −log σ(y) = softplus(−y)

describe('Diffusion-RPO loss', () => {
  it('matches hand-computed numbers (B = 2)', () => {
    tf.tidy(() => {
      const e = { modelW: tf.tensor1d([1, 2]), refW: tf.tensor1d([1.5, 2]), modelL: tf.tensor1d([3, 1]), refL: tf.tensor1d([2, 1.5]) };
      // d_w = m_w − r_w = [−0.5, 0]; d_l = m_l − r_l = [1, −0.5]; β = 2: inside_ij = −(d_w,i − d_l,j)
      // inside = [[1.5, 0], [1, −0.5]]
      const S = tf.tensor2d([[1, 0], [0, 1]]);
      const r = diffusionRpoLoss(e, S, { beta: 2, tau: 1 });
      Array.from(r.inside.dataSync()).forEach((v, i) => expect(v).toBeCloseTo([1.5, 0, 1, -0.5][i], 6));
      const a = Math.E / (Math.E + 1); // ω_ii = e^{1}/(e^{1} + e^{0})
      expect(r.weights.dataSync()[0]).toBeCloseTo(a, 6);
      expect(r.weights.dataSync()[1]).toBeCloseTo(1 - a, 6);
      const want = (a * sp(-1.5) + (1 - a) * sp(0) + (1 - a) * sp(-1) + a * sp(0.5)) / 2;
      expect(r.loss.dataSync()[0]).toBeCloseTo(want, 5);
    });
  });

  it('reduces to Diffusion-DPO as τ → 0 (a prompt is most similar to itself); rejects τ ≤ 0 and a wrong-shaped S', () => {
    tf.tidy(() => {
      const e = { modelW: tf.tensor1d([0.1, 0.3, 0.2]), refW: tf.tensor1d([0.12, 0.25, 0.2]), modelL: tf.tensor1d([0.4, 0.2, 0.3]), refL: tf.tensor1d([0.35, 0.22, 0.31]) };
      const S = tf.tensor2d([[1, 0.9, 0.2], [0.9, 1, 0.5], [0.2, 0.5, 1]]);
      const rpo = diffusionRpoLoss(e, S, { beta: 50, tau: 1e-3 }).loss.dataSync()[0];
      expect(rpo).toBeCloseTo(dpoLoss(e, { beta: 50 }).loss.dataSync()[0], 5);
      const spread = diffusionRpoLoss(e, S, { beta: 50, tau: 10 }).loss.dataSync()[0];
      expect(spread).not.toBeCloseTo(rpo, 3);
      expect(() => diffusionRpoLoss(e, S, { beta: 1, tau: 0 })).toThrow(/τ must be > 0, got 0/);
      expect(() => diffusionRpoLoss(e, tf.eye(2) as tf.Tensor2D, { beta: 1, tau: 1 })).toThrow(/similarity must be \[3, 3\], got \[2,2\]/);
    });
  });

  it('prompt similarity is the cosine of mean-pooled contexts (1 on the diagonal)', () => {
    tf.tidy(() => {
      const ctx = tf.tensor3d([[[1, 0], [1, 0]], [[0, 1], [0, 1]], [[1, 1], [1, 1]]]); // means (1,0), (0,1), (1,1)
      const s = Array.from(promptSimilarity(ctx).dataSync());
      [1, 0, Math.SQRT1_2, 0, 1, Math.SQRT1_2, Math.SQRT1_2, Math.SQRT1_2, 1].forEach((v, i) => expect(s[i]).toBeCloseTo(v, 5));
    });
  });
});
