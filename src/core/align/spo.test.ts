/**
 * SPO's pieces (rewardArms.ts, issue 15) on the tiny random model: candidates share their parent x_t, the
 * rollout continues from the seeded candidate and keeps the best and worst of each step, the loss on a
 * hand-built step equals the number computed by hand, and the update is leak-free and deterministic.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend';
import { Rng } from '../rng';
import { makeSchedule } from '../diffusion/schedule';
import { stepLogProb, stepMean, stochasticDdimCoefficients, type StepCoeffs } from '../diffusion/stochasticDdim';
import type { GuidedEpsOptions } from '../diffusion/ddim';
import { decodeLatents, disposeReducedSD, encodeText, initReducedSD, tinySDConfig, tokensTensor, uncondContext, unetForward, type Params, type ReducedSD } from '../model/sd';
import { commonPrefix } from '../model/layers';
import { disposeSpoRollout, spoCandidateNoise, spoGrads, spoLoss, spoRollout, stepCandidates, type SpoRolloutOptions, type TrajectoryContext } from './rewardArms';

const TINY = tinySDConfig();
const D = 8 * 8 * 4;
const P = 2;
const sched = makeSchedule();
let base: ReducedSD;
let tc: TrajectoryContext;
let policies = 0;

function freshPolicy(): { params: Params; vars: tf.Variable[] } {
  const params: Params = {};
  const id = `sp${++policies}`;
  const bp = commonPrefix(Object.keys(base.unet));
  for (const [k, v] of Object.entries(base.unet)) params[id + k.slice(bp.length)] = tf.variable(v, true, id + k.slice(bp.length));
  return { params, vars: Object.values(params) as tf.Variable[] };
}

/** A stand-in reward: the mean pixel of each decoded image (what matters here is that it ranks). */
const meanPixel = async (images: tf.Tensor4D) => {
  const m = tf.tidy(() => images.mean([1, 2, 3]));
  const v = (await m.data()) as Float32Array;
  m.dispose();
  return v;
};

const opts = (over: Partial<SpoRolloutOptions> = {}): SpoRolloutOptions => ({
  policy: base.unet,
  ucfg: TINY.unet,
  ctx: tc.ctx,
  uncondCtx: tc.uncondCtx,
  guidance: 3,
  candidates: 3,
  steps: 3,
  eta: 1,
  seed: 5,
  update: 0,
  decode: (z) => decodeLatents(base, z),
  reward: meanPixel,
  schedule: sched,
  ...over,
});

const rowOf = (t: tf.Tensor, i: number) => Array.from(t.slice([i], [1]).dataSync());

beforeAll(async () => {
  await initNodeBackend('wasm');
  base = initReducedSD('spb', TINY, 31);
  const r = new Rng(4);
  const toks = Array.from({ length: P }, () => new Int32Array(12).map((_, i) => (i < 6 ? 1 + r.int(29) : 0)));
  const ctx = tf.tidy(() => encodeText(base.text, TINY.text, tokensTensor(toks, 12)));
  tc = { ctx, uncondCtx: uncondContext(base.text, TINY.text, 1), guidance: 3 };
});
afterAll(() => {
  tf.dispose([tc.ctx, tc.uncondCtx]);
  disposeReducedSD(base);
});

describe('SPO candidates', () => {
  it('share their x_t: bit-identical parents, each candidate a draw of N(μ_θ(x_t), σ²) from that one parent, all different', () => {
    const o: GuidedEpsOptions = { eps: (z, t, c) => unetForward(base.unet, TINY.unet, z, t, c), ...tc };
    const c = stochasticDdimCoefficients(3, 1, sched)[0];
    const K = 3;
    tf.tidy(() => {
      const z = tf.tensor4d(new Rng(2).normals(P * D), [P, 8, 8, 4]);
      const noise = tf.tensor4d(spoCandidateNoise(5, 0, 0, K, P, D), [K * P, 8, 8, 4]);
      const cand = stepCandidates(o, z, c, noise);
      expect(cand.candidates.shape).toEqual([K * P, 8, 8, 4]);
      for (let j = 0; j < K; j++) {
        for (let p = 0; p < P; p++) expect(rowOf(cand.parents, j * P + p)).toEqual(rowOf(z, p)); // the same x_t, bit for bit
        // Each candidate's stored log-probability is that of the step from the single parent z (recomputed on its own).
        const cj = cand.candidates.slice([j * P], [P]) as tf.Tensor4D;
        const lp = stepLogProb(o, z, cj, c).dataSync();
        for (let p = 0; p < P; p++) expect(cand.logProbs.dataSync()[j * P + p]).toBeCloseTo(lp[p], 2);
        // x^j − σ·noise_j is the one mean μ_θ(z) for every j.
        const mean = stepMean(o, z, c);
        const back = tf.sub(cj, tf.mul(c.sigma, noise.slice([j * P], [P])));
        expect(tf.max(tf.abs(tf.sub(back, mean))).dataSync()[0]).toBeLessThan(1e-5);
      }
      expect(rowOf(cand.candidates, 0)).not.toEqual(rowOf(cand.candidates, P)); // candidates 0 and 1 of prompt 0 differ
      expect(() => stepCandidates(o, z, { ...c, sigma: 0 }, noise)).toThrow(/need a stochastic step \(σ > 0\)/);
    });
  });
});

describe('SPO rollout', () => {
  it('keeps the best and worst candidate of each stochastic step, continues from the seeded pick; deterministic by (seed, update) and leak-free', async () => {
    const before = tf.memory().numTensors;
    const o = opts();
    const a = await spoRollout(o);
    const coeffs = stochasticDdimCoefficients(3, 1, sched);
    const stochastic = coeffs.flatMap((c, k) => (c.sigma > 0 ? [k] : []));
    expect(a.steps.map((s) => s.k)).toEqual(stochastic); // the last step (to ᾱ = 1) is deterministic: no candidates there
    expect(a.steps.length).toBe(2);
    expect(a.finalReward.length).toBe(P);
    expect(a.scoreGap).toBeGreaterThan(0);
    const ep: GuidedEpsOptions = { eps: (z, t, c) => unetForward(base.unet, TINY.unet, z, t, c), ...tc };
    a.steps.forEach((s, i) => {
      const { best, worst, next } = a.picks[i];
      expect(best.every((b, p) => b !== worst[p])).toBe(true); // a continuous reward: distinct best and worst
      tf.tidy(() => {
        const noise = tf.tensor4d(spoCandidateNoise(o.seed, o.update, s.k, 3, P, D), [3 * P, 8, 8, 4]);
        const mean = stepMean(ep, s.parent, s.coeffs);
        const cand = (j: number, p: number) => tf.add(mean.slice([p], [1]), tf.mul(s.coeffs.sigma, noise.slice([j * P + p], [1])));
        const dev = (x: tf.Tensor, y: tf.Tensor) => tf.max(tf.abs(tf.sub(x, y))).dataSync()[0];
        for (let p = 0; p < P; p++) {
          expect(dev(s.win.slice([p], [1]), cand(best[p], p))).toBeLessThan(1e-5); // winner and loser: candidates of this parent
          expect(dev(s.lose.slice([p], [1]), cand(worst[p], p))).toBeLessThan(1e-5);
          // the next step's parent is the candidate drawn to continue from (bit for bit: a gather)
          if (i + 1 < a.steps.length) expect(dev(a.steps[i + 1].parent.slice([p], [1]), cand(next[p], p))).toBeLessThan(1e-5);
        }
      });
    });
    const b = await spoRollout(o);
    expect(b.picks).toEqual(a.picks);
    expect(Array.from(b.finalReward)).toEqual(Array.from(a.finalReward));
    expect(Array.from(b.steps[1].win.dataSync())).toEqual(Array.from(a.steps[1].win.dataSync()));
    const c = await spoRollout({ ...o, update: 1 });
    expect(Array.from(c.finalReward)).not.toEqual(Array.from(a.finalReward)); // noise keyed by update
    [a, b, c].forEach(disposeSpoRollout);
    expect(tf.memory().numTensors).toBe(before);
    await expect(spoRollout({ ...o, candidates: 1 })).rejects.toThrow(/candidates must be an integer ≥ 2, got 1/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('SPO loss', () => {
  it('equals the hand-computed number on a hand-built step', () => {
    tf.tidy(() => {
      // One step, one prompt, a latent of 2 values; ε_θ ≡ 0 and ε_ref ≡ 0.5 (no guidance), ᾱ_t = 0.25,
      // ᾱ_{t'} = 0.64, σ = 0.3, so √(1 − ᾱ_{t'} − σ²) = √0.27:
      //   μ_θ   = 0.8 · (x_t / 0.5) = [1.6, −1.6]                       (x_t = [1, −1])
      //   μ_ref = 0.8 · (x_t − √0.75 · 0.5) / 0.5 + √0.27 · 0.5 = [1.1669873, −2.0330127]
      // winner [1.5, −1.5], loser [1, −2]:
      //   ‖w − μ_θ‖² = 0.02,  ‖l − μ_θ‖² = 0.52,  ‖w − μ_ref‖² = 0.395,  ‖l − μ_ref‖² = 0.0289746
      //   inside = β · (−1/(2σ²)) · ((0.02 − 0.395) − (0.52 − 0.0289746)) = 0.1 · 5.5556 · 0.8660254 = 0.4811252
      //   loss = −log σ(0.4811252) = softplus(−0.4811252) = 0.4812449
      const coeffs: StepCoeffs = { t: 500, tPrev: 300, ab: 0.25, abPrev: 0.64, sigma: 0.3 };
      const ctx = tf.zeros([1, 1, 1]) as tf.Tensor3D;
      const constEps = (v: number): GuidedEpsOptions => ({ eps: (z) => tf.fill(z.shape, v) as tf.Tensor4D, ctx, uncondCtx: ctx, guidance: 1 });
      const step = { k: 0, coeffs, parent: tf.tensor4d([1, -1], [1, 1, 1, 2]), win: tf.tensor4d([1.5, -1.5], [1, 1, 1, 2]), lose: tf.tensor4d([1, -2], [1, 1, 1, 2]) };
      const r = spoLoss(constEps(0), constEps(0.5), [step], 0.1);
      expect(r.inside.dataSync()[0]).toBeCloseTo(0.4811252, 4);
      expect(r.loss.dataSync()[0]).toBeCloseTo(0.4812449, 4);
      expect(r.implicitAcc.dataSync()[0]).toBe(1);
      // Policy = reference: inside 0, loss log 2.
      expect(spoLoss(constEps(0.5), constEps(0.5), [step], 0.1).loss.dataSync()[0]).toBeCloseTo(Math.LN2, 6);
    });
  });

  it('an update is log 2 at policy = reference, learns, is leak-free and deterministic for a seed', async () => {
    const ro = await spoRollout(opts({ candidates: 2 }));
    const run = async () => {
      const { params, vars } = freshPolicy();
      const opt: tf.Optimizer = tf.train.adam(1e-3);
      const counts: number[] = [];
      const losses: number[] = [];
      for (let i = 0; i < 3; i++) {
        const { grads, packed } = spoGrads(params, base.unet, vars, TINY.unet, ro.steps, ro.tc, 0.1);
        opt.applyGradients(grads);
        tf.dispose(grads);
        losses.push((await packed.data())[0]);
        packed.dispose();
        counts.push(tf.memory().numTensors);
      }
      const w = Array.from(params[Object.keys(params)[0]].dataSync());
      opt.dispose();
      tf.dispose(vars);
      return { counts, losses, w };
    };
    const a = await run();
    const b = await run();
    expect(a.losses[0]).toBeCloseTo(Math.LN2, 5);
    expect(a.losses[2]).toBeLessThan(a.losses[0]);
    expect(a.counts[2]).toBe(a.counts[1]);
    expect(a.w).toEqual(b.w);
    disposeSpoRollout(ro);
  });
});
