/**
 * Stochastic DDIM (Song et al. 2021, η > 0) with classifier-free guidance, and the log-probability
 * of every step: the policy of the reward-model methods (DDPO, D3PO, SPO; issue 15). Every step
 * x_t → x_{t'} (t' = the next, smaller timestep) is a Gaussian with a known mean and std:
 *
 *   ε      = ε_u + w · (ε_c − ε_u)                                   (CFG, Ho & Salimans eq. 6; ddim.ts guidedEps)
 *   x̂_0    = (x_t − √(1−ᾱ_t) · ε) / √ᾱ_t                              (DDIM eq. 12, "predicted x_0")
 *   σ_t    = η · √((1−ᾱ_{t'}) / (1−ᾱ_t)) · √(1 − ᾱ_t / ᾱ_{t'})        (DDIM eq. 16; η = 1: DDPM's posterior std)
 *   μ_θ    = √ᾱ_{t'} · x̂_0 + √(1 − ᾱ_{t'} − σ_t²) · ε                 (DDIM eq. 12, "direction pointing to x_t")
 *   x_{t'} = μ_θ + σ_t · z,  z ~ N(0, I)                              (DDIM eq. 12, "random noise")
 *   log p_θ(x_{t'} | x_t, c) = −½ ‖(x_{t'} − μ_θ)/σ_t‖² − D · log σ_t − (D/2) · log 2π,   D = S·S·C
 *
 * The log-density is the true one, summed over the D latent dimensions (DDPO's reference code
 * averages over them instead: that is this value / D). η = 0 is ddim.ts's deterministic DDIM.
 *
 * Timesteps are ddim.ts's "trailing" ones. The last step goes to ᾱ_{t'} = 1 (as in ddim.ts), where
 * σ = 0 for every η: that step is deterministic, has no density, and is marked `stochastic: false`
 * with log-probability 0. `finalAlphaCumprod = schedule.alphasCumprod[0]` instead ends at ᾱ_0, as
 * diffusers' scheduler with `set_alpha_to_one = False` does for SD (DDPO's setting), so the last
 * step is stochastic too (then x_0 keeps a trace of noise of std √(1−ᾱ_0) ≈ 0.03).
 *
 * Noise is drawn in JS from `Rng`, never tf.random: x_T is the caller's (e.g. sample.ts's
 * `initialNoise`, so that η = 0 reproduces `sampleImages`), and the step noise of image i at step k
 * is `Rng(seed).fork('stepnoise/<offset+i>/<k>')` by default (`seededStepNoise`): independent of the
 * batch it is in. A trajectory is kept as latents (x_T … x_0, owned tensors, `disposeTrajectory`);
 * decoding is only for the reward, elsewhere. `trajectoryLogProbs` recomputes the log-probabilities
 * of a stored trajectory under any parameters (the `eps` closure), differentiably: DDPO's importance
 * ratio and D3PO's per-step DPO term. Nothing here reads back from the device (WebGPU-safe).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { guidedEps, type GuidedEpsOptions } from './ddim';
import { ddimTimesteps, makeSchedule, type Schedule } from './schedule';

const LOG_2PI = Math.log(2 * Math.PI);

/** The fixed numbers of one step x_t → x_{tPrev}: timesteps, ᾱ at both ends and σ (eq. 16). */
export interface StepCoeffs {
  t: number;
  /** −1 at the last step. */
  tPrev: number;
  /** ᾱ_t */
  ab: number;
  /** ᾱ_{tPrev}; 1 (or `finalAlphaCumprod`) at the last step. */
  abPrev: number;
  /** σ_t of eq. 16. */
  sigma: number;
}

/** The per-step coefficients of `steps` trailing DDIM steps at noise level η ∈ [0, 1]. */
export function stochasticDdimCoefficients(steps: number, eta: number, schedule?: Schedule, finalAlphaCumprod = 1): StepCoeffs[] {
  if (!Number.isFinite(eta) || eta < 0 || eta > 1) throw new Error(`stochastic DDIM: η must be in [0, 1], got ${eta}`);
  if (!(finalAlphaCumprod > 0 && finalAlphaCumprod <= 1)) throw new Error(`stochastic DDIM: finalAlphaCumprod must be in (0, 1], got ${finalAlphaCumprod}`);
  const sched = schedule ?? makeSchedule();
  return ddimTimesteps(steps, sched.T).map(([t, tPrev]) => {
    const ab = sched.alphasCumprod[t];
    const abPrev = tPrev >= 0 ? sched.alphasCumprod[tPrev] : finalAlphaCumprod;
    const sigma = eta * Math.sqrt((1 - abPrev) / (1 - ab)) * Math.sqrt(Math.max(0, 1 - ab / abPrev)); // eq. 16
    return { t, tPrev, ab, abPrev, sigma };
  });
}

/** μ_θ(x_t, t, c) of one step (eq. 12 without its noise term): z [B,S,S,C] → [B,S,S,C]. Differentiable. */
export function stepMean(o: GuidedEpsOptions, z: tf.Tensor4D, c: StepCoeffs): tf.Tensor4D {
  return tf.tidy(() => {
    const eps = guidedEps(o, z, c.t); // [B,S,S,C]
    const x0 = tf.div(tf.sub(z, tf.mul(Math.sqrt(1 - c.ab), eps)), Math.sqrt(c.ab)); // predicted x_0
    const dir = Math.sqrt(Math.max(0, 1 - c.abPrev - c.sigma * c.sigma)); // √(1 − ᾱ_{t'} − σ²)
    return tf.add(tf.mul(Math.sqrt(c.abPrev), x0), tf.mul(dir, eps)) as tf.Tensor4D;
  });
}

/** log N(x; mean, σ² I) per sample, summed over the latent dimensions: x, mean [B,S,S,C] → [B]. σ > 0. */
export function gaussianLogProb(x: tf.Tensor4D, mean: tf.Tensor4D, sigma: number): tf.Tensor1D {
  if (!(sigma > 0)) throw new Error(`gaussianLogProb: σ must be > 0, got ${sigma}`);
  return tf.tidy(() => {
    const D = x.shape[1] * x.shape[2] * x.shape[3];
    const q = tf.sub(x, mean).div(sigma).square().sum([1, 2, 3]); // [B]
    return tf.sub(tf.mul(q, -0.5), D * Math.log(sigma) + 0.5 * D * LOG_2PI) as tf.Tensor1D; // constant in float64, then float32
  });
}

/** log p_θ(xPrev | z, c) of one step [B] (0 where σ = 0: a deterministic step has no density). Differentiable in θ through `o.eps`. */
export function stepLogProb(o: GuidedEpsOptions, z: tf.Tensor4D, xPrev: tf.Tensor4D, c: StepCoeffs): tf.Tensor1D {
  if (c.sigma === 0) return tf.zeros([z.shape[0]]) as tf.Tensor1D;
  return tf.tidy(() => gaussianLogProb(xPrev, stepMean(o, z, c), c.sigma));
}

/**
 * One stochastic step from z [B,S,S,C] with standard-normal `noise` [B,S,S,C] (ignored, may be
 * null, when σ = 0): x_{t'} = μ_θ + σ · noise, and its log-probability [B] under the same θ. SPO's
 * candidates are several calls from one z with different noise. The caller disposes both.
 */
export function stochasticDdimStep(o: GuidedEpsOptions, z: tf.Tensor4D, c: StepCoeffs, noise: tf.Tensor4D | null): { xPrev: tf.Tensor4D; logProb: tf.Tensor1D } {
  return tf.tidy(() => {
    const mean = stepMean(o, z, c);
    if (c.sigma === 0) return { xPrev: mean, logProb: tf.zeros([z.shape[0]]) as tf.Tensor1D };
    if (!noise) throw new Error(`stochastic DDIM: step at t = ${c.t} has σ = ${c.sigma} and needs noise`);
    const xPrev = tf.add(mean, tf.mul(c.sigma, noise)) as tf.Tensor4D;
    // From xPrev − μ, not from the noise, so the stored value is exactly what trajectoryLogProbs recomputes.
    return { xPrev, logProb: gaussianLogProb(xPrev, mean, c.sigma) };
  });
}

/** Step noise keyed by image and step: image i at step k is `Rng(seed).fork('stepnoise/<offset+i>/<k>').normals(latentLen)`. Returns k → n·latentLen normals. */
export function seededStepNoise(seed: number, n: number, latentLen: number, offset = 0): (k: number) => Float32Array {
  const rng = new Rng(seed);
  return (k) => {
    const out = new Float32Array(n * latentLen);
    for (let i = 0; i < n; i++) out.set(rng.fork(`stepnoise/${offset + i}/${k}`).normals(latentLen), i * latentLen);
    return out;
  };
}

export interface StochasticDdimOptions extends GuidedEpsOptions {
  /** Initial latents x_T [B,S,S,C] (from an Rng). Not disposed. */
  noise: tf.Tensor4D;
  steps: number;
  /** η of eq. 16: 0 = deterministic DDIM (ddim.ts), 1 = DDPM-like (DDPO's setting). */
  eta: number;
  /** Standard-normal step noise for step k (0-based) as B·S·S·C values; e.g. `seededStepNoise(seed, B, S·S·C)`. Needed when η > 0. */
  stepNoise?: (k: number) => Float32Array;
  /** ᾱ after the last step: 1 (default, as ddim.ts) or `schedule.alphasCumprod[0]` (diffusers' set_alpha_to_one = False). */
  finalAlphaCumprod?: number;
  schedule?: Schedule;
}

/** A sampled trajectory, kept as latents. Owns its tensors: `disposeTrajectory`. */
export interface Trajectory {
  /** x_T … x_0: steps + 1 latents [B,S,S,C]; step k maps latents[k] to latents[k + 1]. */
  latents: tf.Tensor4D[];
  /** log p(latents[k+1] | latents[k], c) under the sampling parameters, [B, steps]; 0 at a deterministic step. */
  logProbs: tf.Tensor2D;
  /** Per step: t, tPrev, ᾱ's and σ (what recomputation uses, so it cannot disagree with sampling). */
  coeffs: StepCoeffs[];
  /** σ_k > 0 per step: the steps that carry a log-probability (the ones DDPO and D3PO train on). */
  stochastic: boolean[];
  eta: number;
}

let defaultSchedule: Schedule | null = null;

/** Samples a trajectory x_T → x_0 with stochastic guided DDIM. The caller disposes it (`disposeTrajectory`). */
export function sampleTrajectory(o: StochasticDdimOptions): Trajectory {
  const B = o.noise.shape[0];
  if (o.ctx.shape[0] !== B) throw new Error(`stochastic DDIM: ctx batch ${o.ctx.shape[0]} ≠ noise batch ${B}`);
  if (!(o.uncondCtx.shape[0] === 1 || o.uncondCtx.shape[0] === B)) throw new Error(`stochastic DDIM: uncondCtx batch must be 1 or ${B}, got ${o.uncondCtx.shape[0]}`);
  if (!Number.isFinite(o.guidance)) throw new Error(`stochastic DDIM: guidance must be a finite number, got ${o.guidance}`);
  const sched = o.schedule ?? (defaultSchedule ??= makeSchedule());
  const coeffs = stochasticDdimCoefficients(o.steps, o.eta, sched, o.finalAlphaCumprod ?? 1);
  const shape = o.noise.shape;
  const len = shape[1] * shape[2] * shape[3];
  if (coeffs.some((c) => c.sigma > 0) && !o.stepNoise) throw new Error('stochastic DDIM: η > 0 needs stepNoise (e.g. seededStepNoise(seed, B, S·S·C))');
  const latents: tf.Tensor4D[] = [tf.clone(o.noise)];
  const lps: tf.Tensor1D[] = [];
  try {
    coeffs.forEach((c, k) => {
      let noise: tf.Tensor4D | null = null;
      if (c.sigma > 0) {
        const data = o.stepNoise!(k);
        if (data.length !== B * len) throw new Error(`stochastic DDIM: stepNoise(${k}) gave ${data.length} values, expected ${B * len}`);
        noise = tf.tensor4d(data, shape);
      }
      try {
        const { xPrev, logProb } = stochasticDdimStep(o, latents[k], c, noise);
        latents.push(xPrev);
        lps.push(logProb);
      } finally {
        noise?.dispose();
      }
    });
    const logProbs = tf.stack(lps, 1) as tf.Tensor2D; // [B, steps]
    return { latents, logProbs, coeffs, stochastic: coeffs.map((c) => c.sigma > 0), eta: o.eta };
  } catch (e) {
    tf.dispose(latents);
    throw e;
  } finally {
    tf.dispose(lps);
  }
}

export function disposeTrajectory(tr: Trajectory): void {
  tf.dispose(tr.latents);
  tr.logProbs.dispose();
}

/**
 * log p_θ(x_{k+1} | x_k, c) of a stored trajectory under the parameters behind `o.eps` (policy,
 * old policy or reference: one forward serves all), for steps `steps` (default all): [B, steps.length].
 * Differentiable in θ (the latents are constants); `o.ctx`, `o.uncondCtx` and `o.guidance` must be the
 * ones it was sampled with for the ratio to mean anything. One guided forward per listed step, all
 * kept on the tape under a gradient: for many steps, call `stepLogProb` per step and accumulate.
 */
export function trajectoryLogProbs(o: GuidedEpsOptions, tr: Trajectory, steps?: readonly number[]): tf.Tensor2D {
  const ks = steps ?? tr.coeffs.map((_, k) => k);
  for (const k of ks) if (!Number.isInteger(k) || k < 0 || k >= tr.coeffs.length) throw new Error(`trajectoryLogProbs: step ${k} is not in 0…${tr.coeffs.length - 1}`);
  return tf.tidy(() => tf.stack(ks.map((k) => stepLogProb(o, tr.latents[k], tr.latents[k + 1], tr.coeffs[k])), 1) as tf.Tensor2D); // [B, n]
}
