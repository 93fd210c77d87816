import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend';
import { Rng } from '../rng';
import { initialNoise } from '../diffusion/sample';
import { makeSchedule } from '../diffusion/schedule';
import { disposeTrajectory, sampleTrajectory, seededStepNoise, type Trajectory } from '../diffusion/stochasticDdim';
import { decodeLatents, disposeReducedSD, encodeText, initReducedSD, tinySDConfig, tokensTensor, uncondContext, unetForward, type Params, type ReducedSD } from '../model/sd';
import { commonPrefix } from '../model/layers';
import { rewardHackingPoints, type RewardTracePoint } from './records';
import { disposePairRollout, pairRollout, disposeRollout, rollout, d3poLoss, d3poStep, ddpoClippedLoss, ddpoInnerStep, perPromptAdvantages, preferA, splitByPreference, type TrajectoryContext } from './rewardArms';
import { FlatAdam, type StepOptimizer } from '../optim';

const TINY = tinySDConfig();
const D = 8 * 8 * 4;
const B = 2;
const sched = makeSchedule();
let base: ReducedSD;
let tc: TrajectoryContext;
let noise: tf.Tensor4D;
let trA: Trajectory;
let trB: Trajectory;
let policies = 0;

/** A trainable copy of the base UNet, with its own variable names. */
function freshPolicy(): { params: Params; vars: tf.Variable[] } {
  const params: Params = {};
  const id = `rp${++policies}`;
  const bp = commonPrefix(Object.keys(base.unet));
  for (const [k, v] of Object.entries(base.unet)) params[id + k.slice(bp.length)] = tf.variable(v, true, id + k.slice(bp.length)); // as armUpdate.ts's createArm
  return { params, vars: Object.values(params) as tf.Variable[] };
}
/** The first parameter (same order in every copy): what the determinism checks compare. */
const firstVar = (p: Params) => p[Object.keys(p)[0]];

function sample(params: Params, stepSeed: number): Trajectory {
  return sampleTrajectory({
    eps: (z, t, c) => unetForward(params, TINY.unet, z, t, c),
    ...tc,
    noise,
    steps: 3,
    eta: 1,
    stepNoise: seededStepNoise(stepSeed, B, D),
    schedule: sched,
  });
}

beforeAll(async () => {
  await initNodeBackend('wasm');
  base = initReducedSD('rb', TINY, 21);
  const r = new Rng(4);
  const toks = Array.from({ length: B }, () => new Int32Array(12).map((_, i) => (i < 6 ? 1 + r.int(29) : 0)));
  const ctx = tf.tidy(() => encodeText(base.text, TINY.text, tokensTensor(toks, 12)));
  tc = { ctx, uncondCtx: uncondContext(base.text, TINY.text, 1), guidance: 3 };
  noise = tf.tensor4d(initialNoise(6, B, D), [B, 8, 8, 4]);
  trA = sample(base.unet, 7);
  trB = sample(base.unet, 8); // same x_T, other step noise: D3PO's pair
});
afterAll(() => {
  disposeTrajectory(trA);
  disposeTrajectory(trB);
  tf.dispose([tc.ctx, tc.uncondCtx, noise]);
  disposeReducedSD(base);
});

describe('per-prompt advantage normalisation', () => {
  it('centres and scales within each prompt (population std), 0 for a lone prompt or a constant group', () => {
    const a = perPromptAdvantages([1, 3, 2, 2, 5, 0, 1, 2], ['a', 'a', 'b', 'b', 'c', 'd', 'd', 'd'], 0);
    // a: mean 2, std 1 → −1, 1; b: std 0 → 0 (a constant group, even with eps 0)
    expect(a[0]).toBeCloseTo(-1, 6);
    expect(a[1]).toBeCloseTo(1, 6);
    expect([a[2], a[3]]).toEqual([0, 0]);
    expect(a[4]).toBe(0); // c is alone
    const s = Math.sqrt(2 / 3); // d: 0, 1, 2 → mean 1, std √(2/3)
    expect(a[5]).toBeCloseTo(-1 / s, 5);
    expect(a[6]).toBeCloseTo(0, 6);
    expect(a[7]).toBeCloseTo(1 / s, 5);
    const e = perPromptAdvantages([2, 2], [0, 0]); // constant group with the default eps: 0 / eps = 0
    expect(Array.from(e)).toEqual([0, 0]);
    expect(() => perPromptAdvantages([1], ['a', 'b'])).toThrow(/1 rewards for 2/);
  });
});

describe('DDPO clipped importance-sampling loss', () => {
  it('matches hand-computed numbers', () => {
    tf.tidy(() => {
      const old = tf.tensor2d([[0, 0], [0, 0]]);
      const lpNew = tf.tensor2d([[Math.log(1.5), Math.log(0.5)], [Math.log(1.5), Math.log(1.1)]]);
      const r = ddpoClippedLoss(lpNew, old, tf.tensor1d([2, -1]), 0.2);
      // A = 2:  ρ 1.5 → max(−3, −2.4) = −2.4;  ρ 0.5 → max(−1, −1.6) = −1
      // A = −1: ρ 1.5 → max(1.5, 1.2) = 1.5;   ρ 1.1 → max(1.1, 1.1) = 1.1
      expect(r.loss.dataSync()[0]).toBeCloseTo((-2.4 - 1 + 1.5 + 1.1) / 4, 5);
      expect(r.clipFrac.dataSync()[0]).toBeCloseTo(3 / 4, 6);
      const ratio = r.ratio.dataSync();
      [1.5, 0.5, 1.5, 1.1].forEach((x, i) => expect(ratio[i]).toBeCloseTo(x, 5));
    });
  });
});

describe('D3PO loss', () => {
  it('matches hand-computed numbers', () => {
    tf.tidy(() => {
      const r = d3poLoss(tf.tensor2d([[1, 2]]), tf.tensor2d([[0, 1]]), tf.tensor2d([[0.5, 2]]), tf.tensor2d([[0.5, 0]]), 2);
      // inside_0 = 2 · ((1 − 0.5) − (0 − 0.5)) = 2;  inside_1 = 2 · ((2 − 2) − (1 − 0)) = −2
      expect(Array.from(r.inside.dataSync())).toEqual([2, -2]);
      const want = (Math.log1p(Math.exp(-2)) + Math.log1p(Math.exp(2))) / 2;
      expect(r.loss.dataSync()[0]).toBeCloseTo(want, 5);
      expect(r.implicitAcc.dataSync()[0]).toBe(0.5);
    });
  });
});

describe('DDPO inner epochs', () => {
  it('the importance ratio is exactly 1 at the first inner epoch, and moves at the second', async () => {
    const { params, vars } = freshPolicy();
    const opt = tf.train.sgd(1e-3) as unknown as Pick<StepOptimizer, 'applyGradients'> & { dispose(): void };
    const tr = sample(params, 9);
    const adv = perPromptAdvantages([0.2, 0.9], [0, 0]);
    const first = await ddpoInnerStep(params, vars, opt, TINY.unet, tr, tc, adv, 1e-4);
    expect(first.ratioMean).toBe(1);
    expect(first.ratioMaxDev).toBe(0);
    expect(first.clipFrac).toBe(0);
    expect(first.loss).toBeCloseTo(0, 5); // mean −A · 1 over a group normalised to mean 0
    const second = await ddpoInnerStep(params, vars, opt, TINY.unet, tr, tc, adv, 1e-4);
    expect(second.ratioMaxDev).toBeGreaterThan(0); // the first step moved θ away from θ_old
    disposeTrajectory(tr);
    opt.dispose();
    tf.dispose(vars);
  });

  it('is leak-free and deterministic for a seed', async () => {
    const adv = perPromptAdvantages([0.2, 0.9], [0, 0]);
    const run = async () => {
      const { params, vars } = freshPolicy();
      const opt = new FlatAdam(1e-3);
      const counts: number[] = [];
      for (let i = 0; i < 3; i++) {
        await ddpoInnerStep(params, vars, opt, TINY.unet, trA, tc, adv, 0.2);
        counts.push(tf.memory().numTensors);
      }
      const w = Array.from(firstVar(params).dataSync());
      opt.dispose();
      tf.dispose(vars);
      return { counts, w };
    };
    const a = await run();
    const b = await run();
    expect(a.counts[2]).toBe(a.counts[1]); // after Adam's slots exist, flat
    expect(a.w).toEqual(b.w);
    expect(a.w).not.toEqual(Array.from(firstVar(base.unet).dataSync())); // it did move
  });
});

describe('D3PO update', () => {
  it('loss is log 2 at policy = reference, leak-free and deterministic for a seed', async () => {
    const { w, l } = splitByPreference(trA, trB, preferA([0.1, 0.7], [0.5, 0.3]));
    const run = async () => {
      const { params, vars } = freshPolicy();
      const opt = new FlatAdam(1e-3);
      const counts: number[] = [];
      const res = [];
      for (let i = 0; i < 3; i++) {
        res.push(await d3poStep(params, base.unet, vars, opt, TINY.unet, w, l, tc, 0.1));
        counts.push(tf.memory().numTensors);
      }
      const wt = Array.from(firstVar(params).dataSync());
      opt.dispose();
      tf.dispose(vars);
      return { counts, res, wt };
    };
    const a = await run();
    const b = await run();
    expect(a.res[0].loss).toBeCloseTo(Math.LN2, 5);
    expect(a.res[2].loss).toBeLessThan(a.res[0].loss); // it learns to prefer w
    expect(a.counts[2]).toBe(a.counts[1]);
    expect(a.wt).toEqual(b.wt);
    disposeTrajectory(w);
    disposeTrajectory(l);
  });

  it('splitByPreference picks rows of a or b by the preference', () => {
    const { w, l } = splitByPreference(trA, trB, Uint8Array.from([0, 1]));
    const row = (t: tf.Tensor4D, i: number) => Array.from(t.slice([i], [1]).dataSync());
    const last = trA.latents.length - 1;
    expect(row(w.latents[last], 0)).toEqual(row(trB.latents[last], 0));
    expect(row(w.latents[last], 1)).toEqual(row(trA.latents[last], 1));
    expect(row(l.latents[last], 0)).toEqual(row(trA.latents[last], 0));
    expect(Array.from(w.logProbs.dataSync().slice(0, 3))).toEqual(Array.from(trB.logProbs.dataSync().slice(0, 3)));
    disposeTrajectory(w);
    disposeTrajectory(l);
  });
});

describe('reward trace', () => {
  it('marks the checkpoints where the training reward rises while the true preference falls', () => {
    const p = (update: number, trainReward: number, truePreference: number | null): RewardTracePoint => ({ update, reward: 'aesthetic', trainReward, truePreference });
    expect(rewardHackingPoints([p(0, 1, 0.5), p(10, 2, 0.6), p(20, 3, 0.55), p(30, 2.5, 0.4), p(40, 3, null), p(50, 4, 0.3)])).toEqual([2]);
  });
});

describe('DDPO rollout', () => {
  it('R trajectories per prompt, rewarded on decoded images, advantages normalised per prompt; deterministic and leak-free', async () => {
    const seen: number[][] = [];
    const reward = async (images: tf.Tensor4D, promptOf: readonly number[]) => {
      seen.push([...images.shape, ...promptOf]);
      const m = tf.tidy(() => images.mean([1, 2, 3])); // a stand-in reward: mean pixel value
      const v = (await m.data()) as Float32Array;
      m.dispose();
      return v;
    };
    const o = { policy: base.unet, ucfg: TINY.unet, ctx: tc.ctx, uncondCtx: tc.uncondCtx, guidance: 3, samplesPerPrompt: 2, steps: 3, eta: 1, seed: 5, update: 0, decode: (z: tf.Tensor4D) => decodeLatents(base, z), reward, schedule: sched };
    const before = tf.memory().numTensors;
    const a = await rollout(o);
    expect(a.promptOf).toEqual([0, 0, 1, 1]);
    expect(seen[0]).toEqual([4, 32, 32, 3, 0, 0, 1, 1]);
    expect(a.tr.latents[0].shape).toEqual([4, 8, 8, 4]);
    expect(Array.from(a.advantages)).toEqual(Array.from(perPromptAdvantages(a.rewards, [0, 0, 1, 1])));
    expect(a.advantages[0] + a.advantages[1]).toBeCloseTo(0, 5);
    expect(Math.abs(a.advantages[0])).toBeGreaterThan(0.5); // two distinct rewards → ±1
    const b = await rollout(o);
    expect(Array.from(b.rewards)).toEqual(Array.from(a.rewards));
    const c = await rollout({ ...o, update: 1 });
    expect(Array.from(c.rewards)).not.toEqual(Array.from(a.rewards)); // noise keyed by update
    [a, b, c].forEach(disposeRollout);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('D3PO loss with dropped pairs (the raters\' ties)', () => {
  it('averages over the kept pairs only; 0 with none kept', () => {
    tf.tidy(() => {
      const pw = tf.tensor2d([[1, 2], [3, 0]]);
      const pl = tf.tensor2d([[0, 1], [0, 0]]);
      const z = tf.zeros([2, 2]) as tf.Tensor2D;
      // β = 1, ref 0: inside = [[1, 1], [3, 0]]; keep only pair 0 → mean(softplus(−1), softplus(−1))
      const r = d3poLoss(pw, pl, z, z, 1, tf.tensor1d([1, 0]));
      expect(r.loss.dataSync()[0]).toBeCloseTo(Math.log1p(Math.exp(-1)), 5);
      expect(r.implicitAcc.dataSync()[0]).toBe(1);
      const all = d3poLoss(pw, pl, z, z, 1, tf.tensor1d([1, 1]));
      expect(all.loss.dataSync()[0]).toBeCloseTo(d3poLoss(pw, pl, z, z, 1).loss.dataSync()[0], 6); // all kept = no mask
      expect(d3poLoss(pw, pl, z, z, 1, tf.tensor1d([0, 0])).loss.dataSync()[0]).toBe(0);
    });
  });
});

describe('D3PO pair rollout', () => {
  it('two trajectories per prompt from one x_T, their own step noise; deterministic by (seed, update) and leak-free', async () => {
    const reward = async (images: tf.Tensor4D) => {
      const m = tf.tidy(() => images.mean([1, 2, 3]));
      const v = (await m.data()) as Float32Array;
      m.dispose();
      return v;
    };
    const o = { policy: base.unet, ucfg: TINY.unet, ctx: tc.ctx, uncondCtx: tc.uncondCtx, guidance: 3, steps: 3, eta: 1, seed: 5, update: 0, decode: (z: tf.Tensor4D) => decodeLatents(base, z), reward, schedule: sched, pixels: true };
    const before = tf.memory().numTensors;
    const a = await pairRollout(o);
    expect(Array.from(a.a.latents[0].dataSync())).toEqual(Array.from(a.b.latents[0].dataSync())); // same x_T
    expect(Array.from(a.a.latents[3].dataSync())).not.toEqual(Array.from(a.b.latents[3].dataSync()));
    expect(a.rewardA.length).toBe(B);
    expect(a.pixels!.length).toBe(2 * B * 32 * 32 * 3);
    // The rewards are those of the decoded pixels returned (a's B images, then b's).
    const mean0 = a.pixels!.subarray(0, 32 * 32 * 3).reduce((x, y) => x + y, 0) / (32 * 32 * 3);
    expect(a.rewardA[0]).toBeCloseTo(mean0, 4);
    const b = await pairRollout(o);
    expect(Array.from(b.rewardB)).toEqual(Array.from(a.rewardB));
    const c = await pairRollout({ ...o, update: 1 });
    expect(Array.from(c.rewardA)).not.toEqual(Array.from(a.rewardA));
    [a, b, c].forEach(disposePairRollout);
    expect(tf.memory().numTensors).toBe(before);
  });
});
