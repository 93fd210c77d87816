import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend';
import { Rng } from '../rng';
import { disposeReducedSD, encodeText, initReducedSD, tinySDConfig, tokensTensor, uncondContext, unetForward, type Params, type ReducedSD } from '../model/sd';
import { ddimSample, ddimStep, guidedEps } from './ddim';
import { initialNoise } from './sample';
import { makeSchedule } from './schedule';
import {
  disposeTrajectory,
  sampleTrajectory,
  seededStepNoise,
  stepMean,
  stochasticDdimCoefficients,
  trajectoryLogProbs,
  type StochasticDdimOptions,
} from './stochasticDdim';

const TINY = tinySDConfig();
const D = 8 * 8 * 4;
const B = 2;
const sched = makeSchedule();
let m: ReducedSD;
let other: ReducedSD;
let ctx: tf.Tensor3D;
let uncond: tf.Tensor3D;
let noise: tf.Tensor4D;

beforeAll(async () => {
  await initNodeBackend('wasm');
  m = initReducedSD('s', TINY, 11);
  other = initReducedSD('o', TINY, 12);
  const r = new Rng(3);
  const toks = Array.from({ length: B }, () => new Int32Array(12).map((_, i) => (i < 7 ? 1 + r.int(29) : 0)));
  ctx = tf.tidy(() => encodeText(m.text, TINY.text, tokensTensor(toks, 12)));
  uncond = uncondContext(m.text, TINY.text, 1);
  noise = tf.tensor4d(initialNoise(5, B, D), [B, 8, 8, 4]);
});
afterAll(() => {
  tf.dispose([ctx, uncond, noise]);
  disposeReducedSD(m);
  disposeReducedSD(other);
});

const epsOf = (unet: Params) => (z: tf.Tensor4D, t: tf.Tensor1D, c: tf.Tensor3D) => unetForward(unet, TINY.unet, z, t, c);
function opts(over: Partial<StochasticDdimOptions> = {}): StochasticDdimOptions {
  return { eps: epsOf(m.unet), ctx, uncondCtx: uncond, guidance: 3, noise, steps: 3, eta: 1, stepNoise: seededStepNoise(7, B, D), schedule: sched, ...over };
}
const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.sub(a, b).abs().max().dataSync()[0]);

describe('coefficients (DDIM eq. 16)', () => {
  it('σ is 0 for η = 0, DDPM posterior std for η = 1, and 0 at the last step when ᾱ_prev = 1', () => {
    expect(stochasticDdimCoefficients(4, 0, sched).every((c) => c.sigma === 0)).toBe(true);
    const c = stochasticDdimCoefficients(4, 1, sched);
    const [ab, abp] = [sched.alphasCumprod[749], sched.alphasCumprod[499]];
    expect(c[1]).toMatchObject({ t: 749, tPrev: 499 });
    expect(c[1].sigma).toBeCloseTo(Math.sqrt(((1 - abp) / (1 - ab)) * (1 - ab / abp)), 7);
    expect(stochasticDdimCoefficients(4, 0.5, sched)[1].sigma).toBeCloseTo(c[1].sigma / 2, 7);
    expect(c[3]).toMatchObject({ tPrev: -1, abPrev: 1, sigma: 0 });
    expect(stochasticDdimCoefficients(4, 1, sched, sched.alphasCumprod[0])[3].sigma).toBeGreaterThan(0); // diffusers' set_alpha_to_one = False
    expect(() => stochasticDdimCoefficients(4, 1.5, sched)).toThrow(/η must be in \[0, 1\]/);
  });
});

describe('η = 0 is ddim.ts', () => {
  it("the mean equals ddimStep on the same inputs, and the sampler reproduces ddimSample", () => {
    const o = opts({ eta: 0, stepNoise: undefined });
    const c0 = stochasticDdimCoefficients(3, 0, sched);
    tf.tidy(() => {
      const z = tf.tensor4d(new Rng(9).normals(B * D), [B, 8, 8, 4]);
      for (const c of c0) expect(maxAbsDiff(stepMean(o, z, c), ddimStep(o, z, c.t, c.tPrev, sched))).toBe(0); // the same ops: exact
    });
    const tr = sampleTrajectory(o);
    const ref = ddimSample({ ...o, onStep: undefined });
    expect(tr.latents.length).toBe(4);
    expect(tr.stochastic).toEqual([false, false, false]);
    expect(Array.from(tr.latents[3].dataSync())).toEqual(Array.from(ref.dataSync()));
    expect(Array.from(tr.logProbs.dataSync())).toEqual(new Array(B * 3).fill(0));
    ref.dispose();
    disposeTrajectory(tr);
  });
});

describe('stochastic trajectories (η = 1)', () => {
  it('the stored log-probability of a step is the hand-computed Gaussian log-density, and x_{t′} = μ + σ·z with the seeded z', () => {
    const o = opts();
    const tr = sampleTrajectory(o);
    expect(tr.logProbs.shape).toEqual([B, 3]);
    expect(tr.stochastic).toEqual([true, true, false]);
    const k = 1;
    const { t, tPrev } = tr.coeffs[k];
    // ε from the network; everything after it by hand in float64.
    const eps = tf.tidy(() => guidedEps(o, tr.latents[k], t).dataSync());
    const xt = tr.latents[k].dataSync(), xp = tr.latents[k + 1].dataSync();
    const z = seededStepNoise(7, B, D)(k);
    const ab = sched.alphasCumprod[t], abp = sched.alphasCumprod[tPrev];
    const sigma = Math.sqrt((1 - abp) / (1 - ab)) * Math.sqrt(1 - ab / abp);
    const stored = tr.logProbs.arraySync();
    for (let b = 0; b < B; b++) {
      let q = 0, maxNoiseErr = 0;
      for (let j = b * D; j < (b + 1) * D; j++) {
        const x0 = (xt[j] - Math.sqrt(1 - ab) * eps[j]) / Math.sqrt(ab);
        const mu = Math.sqrt(abp) * x0 + Math.sqrt(1 - abp - sigma * sigma) * eps[j];
        const r = (xp[j] - mu) / sigma;
        q += r * r;
        maxNoiseErr = Math.max(maxNoiseErr, Math.abs(r - z[j]));
      }
      const lp = -0.5 * q - D * Math.log(sigma) - (D / 2) * Math.log(2 * Math.PI);
      expect(maxNoiseErr).toBeLessThan(1e-3);
      expect(Math.abs(stored[b][k] - lp)).toBeLessThan(2e-3);
      expect(stored[b][2]).toBe(0); // the last step is deterministic
    }
    disposeTrajectory(tr);
  });

  it('recomputing with the same parameters gives the stored values, other parameters something different; deterministic for a seed', () => {
    const o = opts();
    const tr = sampleTrajectory(o);
    const again = sampleTrajectory(o);
    const stored = Array.from(tr.logProbs.dataSync());
    expect(Array.from(again.logProbs.dataSync())).toEqual(stored);
    tr.latents.forEach((x, i) => expect(Array.from(x.dataSync())).toEqual(Array.from(again.latents[i].dataSync())));
    const otherSeed = sampleTrajectory(opts({ stepNoise: seededStepNoise(8, B, D) }));
    expect(Array.from(otherSeed.latents[0].dataSync())).toEqual(Array.from(tr.latents[0].dataSync())); // same start (D3PO's pairs)
    expect(maxAbsDiff(otherSeed.latents[3], tr.latents[3])).toBeGreaterThan(1e-2);

    // Same parameters, same batch, same backend: the very same float32 values, so DDPO's first
    // importance ratio exp(new − old) is exactly 1.
    const same = trajectoryLogProbs(o, tr);
    expect(Array.from(same.dataSync())).toEqual(stored);
    const sub = trajectoryLogProbs(o, tr, [1]);
    expect(sub.shape).toEqual([B, 1]);
    expect(Array.from(sub.dataSync())).toEqual([stored[1], stored[4]]);
    const diff = trajectoryLogProbs({ ...o, eps: epsOf(other.unet) }, tr);
    const diffData = diff.dataSync();
    expect(Math.max(...[0, 1, 3, 4].map((i) => Math.abs(diffData[i] - stored[i])))).toBeGreaterThan(1);
    expect(() => trajectoryLogProbs(o, tr, [3])).toThrow(/not in 0…2/);
    tf.dispose([same, sub, diff]);
    [tr, again, otherSeed].forEach(disposeTrajectory);
  });

  it("with finalAlphaCumprod = ᾱ_0 (diffusers' set_alpha_to_one = False) the last step is stochastic too; guidance 1 takes the single-forward path", () => {
    for (const guidance of [3, 1]) {
      const o = opts({ finalAlphaCumprod: sched.alphasCumprod[0], guidance });
      const tr = sampleTrajectory(o);
      expect(tr.stochastic).toEqual([true, true, true]);
      expect(tr.coeffs[2].abPrev).toBe(sched.alphasCumprod[0]);
      const stored = Array.from(tr.logProbs.dataSync());
      expect(stored.every((v) => Number.isFinite(v) && v !== 0)).toBe(true);
      const again = trajectoryLogProbs(o, tr);
      expect(Array.from(again.dataSync())).toEqual(stored);
      again.dispose();
      disposeTrajectory(tr);
    }
  });

  it('gradients flow to the UNet parameters through the recomputed log-probability', () => {
    const o = opts();
    const tr = sampleTrajectory(o);
    const vars = Object.values(m.unet) as tf.Variable[];
    const { value, grads } = tf.variableGrads(() => trajectoryLogProbs(o, tr).sum() as tf.Scalar, vars);
    const norms = Object.values(grads).map((g) => tf.tidy(() => g.square().sum().dataSync()[0]));
    expect(norms.every(Number.isFinite)).toBe(true);
    expect(norms.filter((n) => n > 0).length).toBeGreaterThan(norms.length / 2);
    tf.dispose([value, ...Object.values(grads)]);
    disposeTrajectory(tr);
  });

  it('is leak-free: numTensors is flat over sampling, recomputation and gradients', () => {
    const o = opts();
    const round = () => {
      const tr = sampleTrajectory(o);
      const { value, grads } = tf.variableGrads(() => trajectoryLogProbs(o, tr, [0, 1]).sum() as tf.Scalar, Object.values(m.unet) as tf.Variable[]);
      tf.dispose([value, ...Object.values(grads)]);
      trajectoryLogProbs(o, tr).dispose();
      disposeTrajectory(tr);
    };
    round(); // warm-up
    const n0 = tf.memory().numTensors;
    round();
    round();
    expect(tf.memory().numTensors).toBe(n0);
    expect(() => sampleTrajectory(opts({ stepNoise: undefined }))).toThrow(/needs stepNoise/);
    expect(() => sampleTrajectory(opts({ stepNoise: () => new Float32Array(3) }))).toThrow(/gave 3 values/);
    expect(tf.memory().numTensors).toBe(n0);
  });
});
