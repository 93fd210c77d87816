/**
 * Video metrics for the paper's Table 3, named for what they are (plain TypeScript, Float64 maths,
 * no tensors: the clips are small and the numbers must not depend on the backend).
 *
 * Clips are Float32Arrays of F·32·32·3 values in [-1, 1] (world.ts); metrics first map them to
 * [0, 1], so the data range L is 1.
 *
 * SSIM (Wang, Bovik, Sheikh & Simoncelli 2004, "Image quality assessment: from error visibility to
 * structural similarity", eq. 13): with an 11×11 Gaussian window w (σ = 1.5, normalised to sum 1)
 * μ_x = Σ w x, σ_x² = Σ w (x − μ_x)², σ_xy = Σ w (x − μ_x)(y − μ_y), and
 *   SSIM(x, y) = (2 μ_x μ_y + C1)(2 σ_xy + C2) / ((μ_x² + μ_y² + C1)(σ_x² + σ_y² + C2)),
 *   C1 = (0.01 L)², C2 = (0.03 L)².
 * The window slides over 'valid' positions only (the paper's reference code, `filter2(…, 'valid')`;
 * 22×22 positions on a 32×32 frame); the index is the mean over positions, per channel, then over the
 * three channels, then over frames. (scikit-image's `structural_similarity(…, gaussian_weights=True,
 * sigma=1.5, use_sample_covariance=False, data_range=1, channel_axis=-1)` should compute the same,
 * as it averages over the positions whose window lies inside the image; not checked here, as this
 * machine has no scikit-image. The tests check hand-computed cases instead.)
 *
 * PSNR = 10 · log10(L² / MSE) with L = 1, per frame over all pixels and channels; `psnr` of two
 * identical images is +Infinity; `videoPsnr` is the mean over frames of each frame's PSNR capped at
 * `cap` (default PSNR_CAP = 100 dB, so identical clips give exactly 100).
 *
 * Fréchet distance between Gaussians fitted to two sets of feature vectors (Fréchet 1957; Dowson &
 * Landau 1982; used as FID by Heusel et al. 2017 and as FVD by Unterthiner et al. 2018):
 *   d² = ‖μ1 − μ2‖² + Tr(Σ1 + Σ2 − 2 (Σ1 Σ2)^{1/2}).
 * Σ1 Σ2 is not symmetric, but it is similar to the symmetric PSD matrix M = Σ1^{1/2} Σ2 Σ1^{1/2}
 * (Σ1 Σ2 = Σ1^{1/2} M Σ1^{−1/2} when Σ1 is invertible, and by continuity otherwise), so
 * Tr (Σ1 Σ2)^{1/2} = Σ_i √λ_i(M). Σ1^{1/2} and λ(M) come from Jacobi eigen-decompositions of
 * symmetric matrices (cyclic Jacobi rotations, Golub & Van Loan §8.5), with negative eigenvalues
 * from rounding clipped to 0. No dependency: the dimensions here are small (tens) and a symmetric
 * solver is ~40 lines; pytorch-fid uses scipy's general `sqrtm` on Σ1 Σ2 instead, which agrees up
 * to rounding. Covariances are unbiased (divide by N − 1), as numpy.cov and pytorch-fid.
 */
import type { Rng } from '../rng';
import { IMAGE_LEN, IMAGE_SIZE } from '../world/render';

const C1 = 0.01 ** 2;
const C2 = 0.03 ** 2;
export const SSIM_WINDOW = 11;
export const SSIM_SIGMA = 1.5;
export const PSNR_CAP = 100;

/** The normalised 1-D Gaussian of the SSIM window (the 2-D window is its outer product). */
export function gaussianWindow1d(size = SSIM_WINDOW, sigma = SSIM_SIGMA): Float64Array {
  const w = new Float64Array(size);
  const c = (size - 1) / 2;
  let s = 0;
  for (let i = 0; i < size; i++) s += w[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
  for (let i = 0; i < size; i++) w[i] /= s;
  return w;
}
const G = gaussianWindow1d();

function checkPair(a: Float32Array, b: Float32Array, what: string): void {
  if (!(a instanceof Float32Array) || !(b instanceof Float32Array)) throw new Error(`${what}: expected Float32Arrays`);
  if (a.length !== b.length) throw new Error(`${what}: lengths differ (${a.length} vs ${b.length})`);
  if (a.length === 0 || a.length % IMAGE_LEN !== 0) throw new Error(`${what}: length ${a.length} is not a whole number of 32×32×3 frames`);
}

/** SSIM of one channel of two [0,1] images of size S×S (row-major), valid-window mean. */
export function ssimChannel(x: Float64Array, y: Float64Array, S: number, g: Float64Array = G): number {
  const k = g.length;
  const n = S - k + 1;
  if (n < 1) throw new Error(`ssim: image ${S}×${S} is smaller than the ${k}×${k} window`);
  let total = 0;
  for (let oy = 0; oy < n; oy++) {
    for (let ox = 0; ox < n; ox++) {
      let mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
      for (let i = 0; i < k; i++) {
        const row = (oy + i) * S + ox;
        for (let j = 0; j < k; j++) {
          const w = g[i] * g[j];
          const a = x[row + j], b = y[row + j];
          mx += w * a; my += w * b;
          xx += w * a * a; yy += w * b * b; xy += w * a * b;
        }
      }
      const vx = xx - mx * mx, vy = yy - my * my, cxy = xy - mx * my;
      total += ((2 * mx * my + C1) * (2 * cxy + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2));
    }
  }
  return total / (n * n);
}

function channel01(img: Float32Array, off: number, c: number): Float64Array {
  const out = new Float64Array(IMAGE_SIZE * IMAGE_SIZE);
  for (let i = 0; i < out.length; i++) out[i] = (img[off + 3 * i + c] + 1) / 2;
  return out;
}

/** Mean SSIM over frames (and channels) of two clips (or two images: one frame) in [-1, 1]. */
export function ssim(a: Float32Array, b: Float32Array): number {
  checkPair(a, b, 'ssim');
  const frames = a.length / IMAGE_LEN;
  let s = 0;
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < 3; c++) s += ssimChannel(channel01(a, f * IMAGE_LEN, c), channel01(b, f * IMAGE_LEN, c), IMAGE_SIZE);
  }
  return s / (3 * frames);
}

/** PSNR in dB of two images in [-1, 1] (compared in [0, 1], L = 1); +Infinity when identical. */
export function psnr(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length || a.length === 0) throw new Error(`psnr: lengths differ or are zero (${a.length} vs ${b.length})`);
  let se = 0;
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] - b[i]) / 2;
    se += d * d;
  }
  const mse = se / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10(1 / mse);
}

/** Mean over frames of each frame's PSNR, capped at `cap` dB (identical clips: exactly `cap`). */
export function videoPsnr(a: Float32Array, b: Float32Array, cap = PSNR_CAP): number {
  checkPair(a, b, 'videoPsnr');
  const frames = a.length / IMAGE_LEN;
  let s = 0;
  for (let f = 0; f < frames; f++) s += Math.min(cap, psnr(a.subarray(f * IMAGE_LEN, (f + 1) * IMAGE_LEN), b.subarray(f * IMAGE_LEN, (f + 1) * IMAGE_LEN)));
  return s / frames;
}

// ---------------------------------------------------------------------------------------------
// Fréchet distance

export interface GaussianStats {
  mean: Float64Array; // [d]
  cov: Float64Array; // [d·d], row-major, symmetric
  dim: number;
  n: number;
}

/** Mean and unbiased covariance of N ≥ 2 feature vectors of one dimension d. */
export function featureStats(features: readonly ArrayLike<number>[]): GaussianStats {
  const N = features.length;
  if (N < 2) throw new Error(`featureStats: need at least 2 feature vectors, got ${N}`);
  const d = features[0].length;
  const mean = new Float64Array(d);
  for (const f of features) {
    if (f.length !== d) throw new Error(`featureStats: feature vectors have different lengths (${d} and ${f.length})`);
    for (let i = 0; i < d; i++) mean[i] += f[i] / N;
  }
  const cov = new Float64Array(d * d);
  for (const f of features) {
    for (let i = 0; i < d; i++) {
      const di = f[i] - mean[i];
      for (let j = i; j < d; j++) cov[i * d + j] += di * (f[j] - mean[j]);
    }
  }
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      cov[i * d + j] /= N - 1;
      cov[j * d + i] = cov[i * d + j];
    }
  }
  return { mean, cov, dim: d, n: N };
}

/**
 * Eigen-decomposition of a symmetric d×d matrix (row-major) by cyclic Jacobi rotations:
 * A = V diag(values) Vᵀ, columns of V the eigenvectors. Converges quadratically; stops when the
 * off-diagonal mass is below 1e-22 of the total (or after 100 sweeps, then throws).
 */
export function symmetricEigen(A: ArrayLike<number>, d: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(A as ArrayLike<number>);
  if (a.length !== d * d) throw new Error(`symmetricEigen: ${a.length} values for a ${d}×${d} matrix`);
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) {
    if (Math.abs(a[i * d + j] - a[j * d + i]) > 1e-9 * (Math.abs(a[i * d + j]) + Math.abs(a[j * d + i]) + 1e-300)) throw new Error(`symmetricEigen: matrix is not symmetric at (${i}, ${j})`);
  }
  const v = new Float64Array(d * d);
  for (let i = 0; i < d; i++) v[i * d + i] = 1;
  let total = 0;
  for (let i = 0; i < d * d; i++) total += a[i] * a[i];
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < d; i++) for (let j = i + 1; j < d; j++) off += 2 * a[i * d + j] ** 2;
    if (off <= 1e-22 * total || off === 0) {
      const values = new Float64Array(d);
      for (let i = 0; i < d; i++) values[i] = a[i * d + i];
      return { values, vectors: v };
    }
    for (let p = 0; p < d; p++) {
      for (let q = p + 1; q < d; q++) {
        const apq = a[p * d + q];
        if (apq === 0) continue;
        const theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < d; k++) { // A ← A J (columns p, q)
          const akp = a[k * d + p], akq = a[k * d + q];
          a[k * d + p] = c * akp - s * akq;
          a[k * d + q] = s * akp + c * akq;
        }
        for (let k = 0; k < d; k++) { // A ← Jᵀ A (rows p, q)
          const apk = a[p * d + k], aqk = a[q * d + k];
          a[p * d + k] = c * apk - s * aqk;
          a[q * d + k] = s * apk + c * aqk;
        }
        for (let k = 0; k < d; k++) { // V ← V J
          const vkp = v[k * d + p], vkq = v[k * d + q];
          v[k * d + p] = c * vkp - s * vkq;
          v[k * d + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  throw new Error('symmetricEigen: no convergence in 100 sweeps');
}

/** Square root of a symmetric PSD matrix: V diag(√max(λ, 0)) Vᵀ. */
export function sqrtPsd(A: ArrayLike<number>, d: number): Float64Array {
  const { values, vectors: V } = symmetricEigen(A, d);
  const out = new Float64Array(d * d);
  for (let k = 0; k < d; k++) {
    const s = Math.sqrt(Math.max(0, values[k]));
    if (s === 0) continue;
    for (let i = 0; i < d; i++) {
      const vik = V[i * d + k] * s;
      for (let j = 0; j < d; j++) out[i * d + j] += vik * V[j * d + k];
    }
  }
  return out;
}

function matMul(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) {
    const aik = a[i * d + k];
    if (aik === 0) continue;
    for (let j = 0; j < d; j++) out[i * d + j] += aik * b[k * d + j];
  }
  return out;
}

/** Tr (Σ1 Σ2)^{1/2} = Σ √λ(Σ1^{1/2} Σ2 Σ1^{1/2}) (see the file comment). */
export function traceSqrtProduct(s1: ArrayLike<number>, s2: ArrayLike<number>, d: number): number {
  const r = sqrtPsd(s1, d);
  const m = matMul(matMul(r, Float64Array.from(s2 as ArrayLike<number>), d), r, d);
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) m[i * d + j] = m[j * d + i] = (m[i * d + j] + m[j * d + i]) / 2; // symmetric up to rounding
  const { values } = symmetricEigen(m, d);
  let t = 0;
  for (const l of values) t += Math.sqrt(Math.max(0, l));
  return t;
}

/** Squared Fréchet distance between N(μ1, Σ1) and N(μ2, Σ2) (the FID/FVD formula). Never negative. */
export function frechetDistance(a: GaussianStats, b: GaussianStats): number {
  const d = a.dim;
  if (b.dim !== d) throw new Error(`frechetDistance: dimensions differ (${a.dim} vs ${b.dim})`);
  let m = 0;
  for (let i = 0; i < d; i++) m += (a.mean[i] - b.mean[i]) ** 2;
  let tr = 0;
  for (let i = 0; i < d; i++) tr += a.cov[i * d + i] + b.cov[i * d + i];
  return Math.max(0, m + tr - 2 * traceSqrtProduct(a.cov, b.cov, d));
}

/** FID-like: the squared Fréchet distance between the Gaussians of two sets of frame features. */
export function fidLike(genFrameFeats: readonly ArrayLike<number>[], refFrameFeats: readonly ArrayLike<number>[]): number {
  return frechetDistance(featureStats(genFrameFeats), featureStats(refFrameFeats));
}

/** FVD-like: the squared Fréchet distance between the Gaussians of two sets of clip features. */
export function fvdLike(genClipFeats: readonly ArrayLike<number>[], refClipFeats: readonly ArrayLike<number>[]): number {
  return frechetDistance(featureStats(genClipFeats), featureStats(refClipFeats));
}

export interface FrechetDelta {
  /** d(A, ref) and d(B, ref) on the full sets. */
  dA: number;
  dB: number;
  /** dA − dB. */
  delta: number;
  /** 95 % percentile interval of dA − dB over paired resamples. */
  lo: number;
  hi: number;
  resamples: number;
}

/**
 * Fréchet distances of A and B against ref, and a 95 % percentile bootstrap interval of d_A − d_B:
 * each resample draws G paired groups with replacement (group i = A's, B's and ref's rows
 * i·rowsPerGroup … (i+1)·rowsPerGroup − 1, paired by prompt and noise) and recomputes both
 * distances on the same draw. `rowsPerGroup` = F for per-frame features (a clip's frames stay
 * together), 1 for clip features.
 */
export function pairedBootstrapFrechetDelta(genA: readonly ArrayLike<number>[], genB: readonly ArrayLike<number>[], ref: readonly ArrayLike<number>[], resamples: number, rng: Rng, rowsPerGroup = 1): FrechetDelta {
  if (genA.length !== genB.length || genA.length !== ref.length) throw new Error(`pairedBootstrapFrechetDelta: the sets are paired but have ${genA.length}, ${genB.length} and ${ref.length} rows`);
  if (!Number.isInteger(rowsPerGroup) || rowsPerGroup < 1 || genA.length % rowsPerGroup !== 0) throw new Error(`pairedBootstrapFrechetDelta: ${genA.length} rows is not a whole number of groups of ${rowsPerGroup}`);
  if (!Number.isInteger(resamples) || resamples < 1) throw new Error(`pairedBootstrapFrechetDelta: resamples must be a positive integer, got ${resamples}`);
  const G = genA.length / rowsPerGroup;
  if (G < 2) throw new Error(`pairedBootstrapFrechetDelta: need at least 2 paired groups, got ${G}`);
  const pick = (s: readonly ArrayLike<number>[], idx: number[]) => idx.flatMap((g) => s.slice(g * rowsPerGroup, (g + 1) * rowsPerGroup));
  const dists = (idx: number[]) => {
    const r = featureStats(pick(ref, idx));
    return [frechetDistance(featureStats(pick(genA, idx)), r), frechetDistance(featureStats(pick(genB, idx)), r)];
  };
  const all = Array.from({ length: G }, (_, i) => i);
  const [dA, dB] = dists(all);
  const boots: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const [a, b] = dists(all.map(() => rng.int(G)));
    boots.push(a - b);
  }
  boots.sort((x, y) => x - y);
  return { dA, dB, delta: dA - dB, lo: boots[Math.floor(0.025 * (resamples - 1))], hi: boots[Math.ceil(0.975 * (resamples - 1))], resamples };
}
