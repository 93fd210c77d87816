import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { IMAGE_LEN } from '../world/render';
import { PSNR_CAP, featureStats, frechetDistance, gaussianWindow1d, psnr, ssim, ssimChannel, symmetricEigen, sqrtPsd, traceSqrtProduct, videoPsnr, type GaussianStats } from './metrics';
import { allVideoPrompts, renderIdealVideo, renderWithVideoGenerator } from './world';

const C1 = 1e-4, C2 = 9e-4;
const filled = (frames: number, v: number) => new Float32Array(frames * IMAGE_LEN).fill(v);

describe('SSIM (Wang et al. 2004, 11×11 Gaussian σ 1.5, valid windows)', () => {
  it('is 1 for identical clips, symmetric, and below 1 for a noisy copy', () => {
    const v = renderIdealVideo(allVideoPrompts()[1234]);
    expect(ssim(v, v)).toBeCloseTo(1, 12);
    const r = new Rng(1);
    const noisy = v.map((x) => Math.max(-1, Math.min(1, x + 0.2 * r.normal())));
    const s = ssim(v, noisy);
    expect(s).toBeLessThan(0.9);
    expect(ssim(noisy, v)).toBeCloseTo(s, 12);
  });

  it('matches the formula on constant frames (σ = 0: only the luminance term)', () => {
    // [-1,1] values 0 and −0.5 are 0.5 and 0.25 in [0,1]: (2·0.5·0.25 + C1) / (0.5² + 0.25² + C1)
    expect(ssim(filled(2, 0), filled(2, -0.5))).toBeCloseTo((0.25 + C1) / (0.3125 + C1), 12);
    expect(ssim(filled(1, 0), filled(1, -0.5))).toBeCloseTo(0.2501 / 0.3126, 12);
  });

  it('matches hand-computed values on one 11×11 window', () => {
    // a = 0.5 + 0.2·sign(x − 5): the symmetric window gives μ = 0.5 and σ² = 0.04·(1 − g(5)),
    // g(5) = 1 / Σ_{i=−5..5} exp(−i²/4.5) the weight of the centre column.
    const S = 11;
    const a = new Float64Array(S * S).map((_, i) => 0.5 + 0.2 * Math.sign((i % S) - 5));
    let z = 0;
    for (let i = -5; i <= 5; i++) z += Math.exp((-i * i) / 4.5);
    const g5 = 1 / z;
    expect(gaussianWindow1d()[5]).toBeCloseTo(g5, 15);
    const v = 0.04 * (1 - g5);
    // b = a + 0.1: the same structure and contrast, brighter: only the luminance term
    expect(ssimChannel(a, a.map((x) => x + 0.1), S)).toBeCloseTo((2 * 0.5 * 0.6 + C1) / (0.25 + 0.36 + C1), 12);
    // b = 1 − a: same means and variances, covariance −σ²
    expect(ssimChannel(a, a.map((x) => 1 - x), S)).toBeCloseTo((-2 * v + C2) / (2 * v + C2), 12);
    expect(() => ssimChannel(new Float64Array(100), new Float64Array(100), 10)).toThrow(/smaller than the 11×11 window/);
  });

  it('rejects clips of different or partial lengths', () => {
    expect(() => ssim(filled(2, 0), filled(1, 0))).toThrow(/lengths differ/);
    expect(() => ssim(new Float32Array(100), new Float32Array(100))).toThrow(/whole number/);
  });
});

describe('PSNR (L = 1 on [0,1] values)', () => {
  it('is +Infinity for identical images; the clip mean caps each frame at PSNR_CAP', () => {
    const v = renderIdealVideo(allVideoPrompts()[99]);
    expect(psnr(v, v)).toBe(Infinity);
    expect(videoPsnr(v, v)).toBe(PSNR_CAP);
    expect(videoPsnr(v, v, 60)).toBe(60);
  });

  it('matches hand-computed values', () => {
    // a difference of 0.25 in [-1,1] (exact in float32) is 0.125 in [0,1]: MSE 1/64, PSNR 10·log10(64)
    expect(psnr(filled(1, 0), filled(1, 0.25))).toBeCloseTo(10 * Math.log10(64), 12);
    // half the values differ by 0.125: MSE 1/128
    const b = filled(1, 0).map((_, i) => (i % 2 ? 0.25 : 0));
    expect(psnr(filled(1, 0), b)).toBeCloseTo(10 * Math.log10(128), 12);
    // frame 0 identical (capped at 100), frame 1 at 10·log10(64) dB
    const c = filled(2, 0);
    c.fill(0.25, IMAGE_LEN);
    expect(videoPsnr(filled(2, 0), c)).toBeCloseTo((100 + 10 * Math.log10(64)) / 2, 12);
  });

  it('ranks a generated clip below the ideal one on both SSIM and PSNR', () => {
    const p = allVideoPrompts()[4321];
    const ideal = renderIdealVideo(p);
    const gen = renderWithVideoGenerator(p, 1, new Rng(3)).video; // 'lazy'
    expect(ssim(ideal, gen)).toBeLessThan(1);
    expect(videoPsnr(ideal, gen)).toBeLessThan(40);
  });
});

describe('Fréchet distance', () => {
  const stats1d = (mu: number, sigma: number): GaussianStats => ({ mean: Float64Array.of(mu), cov: Float64Array.of(sigma * sigma), dim: 1, n: 2 });

  it('is 0 for identical statistics (also fitted from samples, d = 6)', () => {
    const r = new Rng(5);
    const feats = Array.from({ length: 50 }, () => Array.from({ length: 6 }, () => r.normal()).map((x, i) => x * (i + 1) + i));
    const s = featureStats(feats);
    expect(frechetDistance(s, s)).toBeLessThan(1e-9);
    expect(frechetDistance(stats1d(0.3, 2), stats1d(0.3, 2))).toBeCloseTo(0, 12);
  });

  it('equals |μ1 − μ2|² + (σ1 − σ2)² for 1-D Gaussians', () => {
    for (const [m1, s1, m2, s2] of [[0, 1, 0, 1], [0, 1, 3, 1], [1, 2, -1, 0.5], [5, 0.1, 5, 3]]) {
      expect(frechetDistance(stats1d(m1, s1), stats1d(m2, s2))).toBeCloseTo((m1 - m2) ** 2 + (s1 - s2) ** 2, 10);
    }
  });

  it('takes the trace of the square root of a non-symmetric product correctly (2-D closed form)', () => {
    // for 2×2 PSD Σ1, Σ2: Tr √(Σ1Σ2) = √(tr(Σ1Σ2) + 2√(det Σ1 · det Σ2))
    const s1 = [2, 0.8, 0.8, 1], s2 = [1, -0.3, -0.3, 3];
    const trProd = s1[0] * s2[0] + s1[1] * s2[2] + s1[2] * s2[1] + s1[3] * s2[3];
    const det = (m: number[]) => m[0] * m[3] - m[1] * m[2];
    const expected = Math.sqrt(trProd + 2 * Math.sqrt(det(s1) * det(s2)));
    expect(traceSqrtProduct(s1, s2, 2)).toBeCloseTo(expected, 12);
    const a: GaussianStats = { mean: Float64Array.of(1, 0), cov: Float64Array.from(s1), dim: 2, n: 2 };
    const b: GaussianStats = { mean: Float64Array.of(0, 2), cov: Float64Array.from(s2), dim: 2, n: 2 };
    expect(frechetDistance(a, b)).toBeCloseTo(1 + 4 + 3 + 4 - 2 * expected, 10);
  });

  it('featureStats gives the mean and the unbiased covariance', () => {
    const s = featureStats([[1, 2], [3, 4], [5, 0]]);
    expect(Array.from(s.mean)).toEqual([3, 2]);
    // deviations (−2, 0), (0, 2), (2, −2): Σ = [[8, −4], [−4, 8]] / 2
    expect(Array.from(s.cov)).toEqual([4, -2, -2, 4]);
    expect(() => featureStats([[1]])).toThrow(/at least 2/);
    expect(() => featureStats([[1, 2], [1]])).toThrow(/different lengths/);
  });

  it('the Jacobi solver decomposes a symmetric matrix: A = V Λ Vᵀ, V orthogonal; √A·√A = A', () => {
    const d = 7, r = new Rng(9);
    const x = Array.from({ length: d * d }, () => r.normal());
    const A = new Float64Array(d * d); // XᵀX + I: symmetric positive definite
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
      let s = i === j ? 1 : 0;
      for (let k = 0; k < d; k++) s += x[k * d + i] * x[k * d + j];
      A[i * d + j] = s;
    }
    const { values, vectors: V } = symmetricEigen(A, d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
      let rec = 0, orth = 0;
      for (let k = 0; k < d; k++) {
        rec += V[i * d + k] * values[k] * V[j * d + k];
        orth += V[k * d + i] * V[k * d + j];
      }
      expect(rec).toBeCloseTo(A[i * d + j], 9);
      expect(orth).toBeCloseTo(i === j ? 1 : 0, 12);
    }
    const R = sqrtPsd(A, d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += R[i * d + k] * R[k * d + j];
      expect(s).toBeCloseTo(A[i * d + j], 9);
    }
    expect(() => symmetricEigen([1, 2, 3, 4], 2)).toThrow(/not symmetric/);
  });
});
