/**
 * Issue 13's protocol and diagnostics on a tiny random model: the final evaluation on prompts ×
 * noises with its own evaluation seed and paired intervals (round-tripping through JSON), the
 * likelihood-displacement probe and the AAF skill counts against values computed by hand here,
 * warm-up, SFT on losers, and the base-vs-itself arm (lr 0, fresh noise).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend';
import { parseExperimentConfig, PRESETS, type ExperimentInput } from '../config';
import { qSample, makeSchedule } from '../diffusion/schedule';
import { sampleImages } from '../diffusion/sample';
import { comparePaired, fromColumns } from '../eval/intervals';
import { decodeLatents, disposeReducedSD, encodeImages, encodeText, initReducedSD, tokensTensor, uncondContext, unetForward, type ReducedSD, type SDConfig } from '../model/sd';
import { IMAGE_LEN, IMAGE_SIZE, MAX_TOKENS, tokenize, trueUtility, VOCAB, type Dataset } from '../world';
import { warmupLr } from './armUpdate';
import { aafConfusion, confusionRates, displacement } from './diagnostics';
import { perSampleMse } from './loss';
import { refNoise, sampleReferenceLatents } from './refsamples';
import { dropoutMask, updateNoise } from './batch';
import { Experiment, probeDraw, type Evaluator } from './trainer';
import { tinyAlignmentDataset } from './testFixtures';

const TINY: SDConfig = {
  ae: { imageSize: 32, imageChannels: 3, latentChannels: 4, channels: [8, 8, 8], groups: 4 },
  text: { vocabSize: VOCAB.length, maxTokens: MAX_TOKENS, dim: 16, heads: 2, mlpMult: 2 },
  unet: { latentChannels: 4, latentSize: 8, channels: [16, 16], timeDim: 16, ctxDim: 16, heads: 2, groups: 4 },
};

let base: ReducedSD;
let ds: Dataset;

/** Samples, then scores the true utility and the mean pixel (enough to test the protocol). */
const evaluate: Evaluator = (m, prompts, o) => {
  const images = sampleImages(m, prompts.map((p) => tokenize(p)), { seed: o.seed, steps: o.steps, guidance: o.guidance });
  const perImage = images.map((im, i) => ({ trueUtility: trueUtility(prompts[i], im).total, meanPixel: im.reduce((a, b) => a + b, 0) / im.length }));
  const mean = { trueUtility: perImage.reduce((a, b) => a + b.trueUtility, 0) / perImage.length, meanPixel: perImage.reduce((a, b) => a + b.meanPixel, 0) / perImage.length };
  return { images, perImage, mean };
};

beforeAll(async () => {
  await initNodeBackend('wasm');
  base = initReducedSD('tinybase', TINY, 5);
  ds = tinyAlignmentDataset();
});
afterAll(() => disposeReducedSD(base));

const cfg = (over: Partial<ExperimentInput> = {}) => parseExperimentConfig({ ...PRESETS.smoke, dataSize: 8, evalPrompts: 2, updates: 2, ...over });

async function run(c: ReturnType<typeof cfg>, withEval = true, dataset: Parameters<typeof Experiment.create>[2] = ds) {
  const x = await Experiment.create(c, base, dataset, withEval ? { evaluate } : {});
  await x.run();
  return x;
}

describe('evaluation with power', () => {
  it('the final checkpoint is evaluated on prompts × noises, with paired intervals that survive results.json', async () => {
    const x = await run(cfg({ finalEvalPrompts: 2, finalEvalNoises: 3, evalSeed: 7, keepPerImage: true }));
    try {
      expect(x.finalPrompts!.map((p) => p === ds.validationUnique[0])).toEqual([true, false, true, false, true, false]);
      const r = JSON.parse(JSON.stringify(x.results())) as ReturnType<Experiment['results']>;
      const b = r.base!.finalEval!;
      expect(b).toMatchObject({ n: 6, prompts: 2, noises: 3, split: 'validation', vsBase: null });
      const a = r.arms[0].finalEval!;
      expect(a.update).toBe(2);
      // Six images from six different noises (no two alike).
      expect(new Set(b.perImage.meanPixel).size).toBe(6);
      // The intervals stored are the ones the per-image metrics give, after the JSON round trip.
      const again = comparePaired(fromColumns(a.perImage), fromColumns(b.perImage), ['trueUtility', 'meanPixel']);
      expect(a.vsBase).toEqual(JSON.parse(JSON.stringify(again)));
      expect(a.vsBase!.trueUtility.win.n).toBe(6);
      // keepPerImage: every checkpoint's per-image metrics, as columns, paired with the base's.
      expect(r.arms[0].checkpoints[0].perImage!.trueUtility.length).toBe(2);
      expect(r.base!.perImage!.trueUtility.length).toBe(2);
    } finally {
      x.dispose();
    }
  });

  it("finalEvalOod: the final checkpoint also on the world's two out-of-distribution prompt sets (Table 2), with intervals", async () => {
    const oodDs = { ...ds, oodComposition: ds.trainingPrompts.slice(0, 3), oodRaters: { prompts: ds.trainingPrompts.slice(3, 5) } };
    const x = await run(cfg({ finalEvalPrompts: 2, finalEvalNoises: 2, finalEvalOod: true, evalSeed: 7 }), true, oodDs);
    try {
      expect(x.oodPrompts.oodComposition).toEqual([...oodDs.oodComposition.slice(0, 2), ...oodDs.oodComposition.slice(0, 2)]);
      const r = x.results();
      const b = r.base!.finalEvalOod!;
      expect(b.oodRaters).toMatchObject({ n: 4, prompts: 2, noises: 2, split: 'oodRaters', vsBase: null });
      const a = r.arms[0].finalEvalOod!.oodComposition!;
      expect(a.vsBase).toEqual(comparePaired(fromColumns(a.perImage), fromColumns(b.oodComposition!.perImage), ['trueUtility', 'meanPixel']));
      // Its own noise: the base's images on another prompt set are not those of the main final evaluation.
      expect(b.oodRaters!.perImage.meanPixel).not.toEqual(r.base!.finalEval!.perImage.meanPixel);
    } finally {
      x.dispose();
    }
    await expect(Experiment.create(cfg({ finalEvalPrompts: 2, finalEvalOod: true }), base, ds)).rejects.toThrow(/no oodComposition prompts/);
  });

  it('evaluation noise follows evalSeed, not the training seed; without the options results are as before', async () => {
    const a = await run(cfg({ seed: 1, evalSeed: 7, updates: 1, checkpointEvery: 1 }));
    const b = await run(cfg({ seed: 2, evalSeed: 7, updates: 1, checkpointEvery: 1 }));
    const c = await run(cfg({ seed: 2, updates: 1, checkpointEvery: 1 }));
    try {
      expect(a.baseEval!.perImage).toEqual(b.baseEval!.perImage);
      expect(c.baseEval!.perImage).not.toEqual(b.baseEval!.perImage);
      const plain = c.results();
      expect(Object.keys(plain.base!)).toEqual(['metrics']);
      expect(Object.keys(plain.arms[0])).toEqual(['name', 'config', 'beta', 'lr', 'halted', 'updates', 'checkpoints']);
      expect(Object.keys(plain.arms[0].checkpoints[0])).not.toContain('probe');
      expect(Object.keys(plain.arms[0].updates[0])).not.toContain('aafSkill');
    } finally {
      [a, b, c].forEach((x) => x.dispose());
    }
  });

  it("the tuning split replaces the evaluation prompts; 'fresh' noise and lr 0 give the base against itself", async () => {
    const tuning = ds.trainingPrompts.slice(0, 3);
    const arms = [{ name: 'base again', method: 'sft', data: 'winners', lr: 0, evalNoise: 'fresh' }] as const;
    const x = await run(cfg({ evalSplit: 'tuning', arms: arms.map((a) => ({ ...a })) }), true, { ...ds, tuning });
    try {
      expect(x.evalPrompts).toEqual(tuning.slice(0, 2));
      // lr 0: Adam moves nothing, the arm is θ₀ bit for bit …
      const p = x.armParams('base again');
      const names = Object.keys(base.unet);
      Object.values(p).forEach((v, i) => expect(v.dataSync()).toEqual(base.unet[names[i]].dataSync()));
      // … yet its evaluation used noise of its own, so its images differ from the base's.
      expect(x.checkpointRecords('base again')[0].perImage).not.toEqual(x.baseEval!.perImage);
    } finally {
      x.dispose();
    }
    await expect(Experiment.create(cfg({ evalSplit: 'tuning' }), base, ds)).rejects.toThrow(/no tuning prompts/);
  });
});

describe('diagnostics a known truth gives', () => {
  it('displacement and AAF confusion: the pure functions, by hand', () => {
    // winners: (1.1 + 0.9 + 1.3) / (1 + 1 + 1) − 1 = 0.1; losers: (2 + 2.2 + 2.3) / (2 + 2 + 2) − 1 = 0.08333
    const d = displacement([1.1, 0.9, 1.3, 2, 2.2, 2.3], [1, 1, 1, 2, 2, 2], 3);
    expect(d.winners).toBeCloseTo(0.1, 12);
    expect(d.losers).toBeCloseTo(0.5 / 6, 12);
    expect(d.flagged).toBe(true);
    expect(displacement([1, 1], [1, 1], 1)).toEqual({ winners: 0, losers: 0, flagged: false });
    // s = +1 on a better sample, +1 on a worse one, −1 on an equal one, −1 on a worse one, 0 (indicator) on a better one.
    const c = aafConfusion([1, 1, -1, -1, 0], [0.6, 0.2, 0.5, 0.1, 0.9], [0.5, 0.5, 0.5, 0.5, 0.5]);
    expect(c).toEqual({ goodAtLeast: 2, goodWorse: 1, loserAtLeast: 1, loserWorse: 1 });
    expect(confusionRates(c)).toEqual({ n: 5, agreement: 3 / 5, goodPrecision: 2 / 3, loserPrecision: 1 / 2 });
  });

  it('the probe at a checkpoint is the policy error on fixed winners and losers relative to θ₀, as computed by hand', async () => {
    const arms = [{ name: 'SFT', method: 'sft', data: 'winners', lr: 3e-3 }] as const;
    const c = cfg({ probePairs: 3, updates: 3, checkpointEvery: 3, evalSeed: 4, arms: arms.map((a) => ({ ...a })) });
    const x = await run(c, false);
    try {
      const rec = x.checkpointRecords('SFT')[0].probe!;
      // By hand: the same three pairs, t and ε, noised and denoised by θ (the arm now) and by θ₀.
      const S = 8, C = 4, P = 3;
      const d = probeDraw(4, 8, P, S * S * C);
      const pairs = ds.train.slice(0, 8);
      const err = tf.tidy(() => {
        const imgs = new Float32Array(2 * P * IMAGE_LEN);
        d.items.forEach((it, j) => {
          imgs.set(pairs[it].winner, j * IMAGE_LEN);
          imgs.set(pairs[it].loser, (P + j) * IMAGE_LEN);
        });
        const z0 = encodeImages(base, tf.tensor4d(imgs, [2 * P, IMAGE_SIZE, IMAGE_SIZE, 3]));
        const t = tf.tensor1d(d.t, 'int32');
        const eps = tf.tensor4d(d.eps, [2 * P, S, S, C]);
        const zt = qSample(z0, t, eps, makeSchedule());
        const toks = [...d.items, ...d.items].map((it) => tokenize(pairs[it].prompt));
        const ctx = encodeText(base.text, base.config.text, tokensTensor(toks, MAX_TOKENS));
        const m = (u: typeof base.unet) => perSampleMse(unetForward(u, base.config.unet, zt, t.toFloat() as tf.Tensor1D, ctx), eps).arraySync() as number[];
        return { pol: m(x.armParams('SFT')), b: m(base.unet) };
      });
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      expect(rec.winners).toBeCloseTo(sum(err.pol.slice(0, P)) / sum(err.b.slice(0, P)) - 1, 4);
      expect(rec.losers).toBeCloseTo(sum(err.pol.slice(P)) / sum(err.b.slice(P)) - 1, 4);
      expect(rec.winners).not.toBe(0);
      expect(rec.flagged).toBe(rec.winners > 0.05);
    } finally {
      x.dispose();
    }
  });

  it('AAF skill: update 1 (s = −1 everywhere, θ = θ₀) against decoded true utilities computed by hand; counts add up over updates', async () => {
    const arms = [{ name: 'SePPO', method: 'seppo', data: 'winners', refStrategy: 'random', flip: 'sign' }] as const;
    const c = cfg({ aafSkill: true, probePairs: 2, updates: 3, checkpointEvery: 3, batchSize: 4, arms: arms.map((a) => ({ ...a })) });
    const before = tf.memory().numTensors;
    const x = await run(c, false);
    try {
      const ups = x.updateRecords('SePPO');
      for (const u of ups) {
        const k = u.aafSkill!;
        expect(k.goodAtLeast + k.goodWorse + k.loserAtLeast + k.loserWorse).toBe(4);
        expect((k.loserAtLeast + k.loserWorse) / 4).toBeCloseTo(u.aafRate!, 12);
      }
      const total = x.results().arms[0].aafSkill!;
      expect(total.loserWorse).toBe(ups.reduce((s, u) => s + u.aafSkill!.loserWorse, 0));
      // By hand for update 1: x^l = DDIM samples of θ₀ from the update's reference noise, x^w the winners.
      const idx = x.batchIndices(0);
      const pairs = ds.train.slice(0, 8);
      const S = 8, C = 4, B = 4;
      const px = tf.tidy(() => {
        const ctxAll = encodeText(base.text, base.config.text, tokensTensor(pairs.map((p) => tokenize(p.prompt)), MAX_TOKENS));
        const ctx = tf.gather(ctxAll, tf.tensor1d(idx, 'int32')) as tf.Tensor3D;
        const z = tf.tensor4d(refNoise(c.seed, 0, B, S * S * C), [B, S, S, C]);
        const xl = sampleReferenceLatents(base.unet, base.config.unet, ctx, uncondContext(base.text, base.config.text, 1), z, { steps: c.refSteps, guidance: c.refGuidance });
        const all = new Float32Array(8 * IMAGE_LEN);
        pairs.forEach((p, i) => all.set(p.winner, i * IMAGE_LEN));
        const xwAll = encodeImages(base, tf.tensor4d(all, [8, IMAGE_SIZE, IMAGE_SIZE, 3]));
        const xw = tf.gather(xwAll, tf.tensor1d(idx, 'int32')) as tf.Tensor4D;
        return tf.clipByValue(decodeLatents(base, tf.concat([xw, xl]) as tf.Tensor4D), -1, 1).dataSync() as Float32Array;
      });
      const u = (i: number) => trueUtility(pairs[idx[i % B]].prompt, px.subarray(i * IMAGE_LEN, (i + 1) * IMAGE_LEN)).total;
      const atLeast = [0, 1, 2, 3].filter((i) => u(B + i) >= u(i)).length;
      expect(ups[0].aafSkill).toEqual({ goodAtLeast: 0, goodWorse: 0, loserAtLeast: atLeast, loserWorse: B - atLeast });
      expect(ups[0].skillMs).toBeGreaterThanOrEqual(0);
    } finally {
      x.dispose();
    }
    expect(tf.memory().numTensors).toBe(before); // the probe and the skill check leave nothing behind
  });
});

describe('a regime per arm', () => {
  it('warm-up scales the first updates linearly; SFT on losers trains on the losers', async () => {
    expect([1, 2, 3, 4, 5].map((u) => warmupLr(1e-3, 4, u))).toEqual([2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3]);
    expect(warmupLr(1e-3, undefined, 1)).toBe(1e-3);
    const arms = [
      { name: 'warm', method: 'sft', data: 'winners', lr: 1e-3, warmup: 2 },
      { name: 'half', method: 'sft', data: 'winners', lr: 5e-4 },
      { name: 'losers', method: 'sft', data: 'losers', lr: 5e-4 },
    ] as const;
    const x = await run(cfg({ updates: 1, checkpointEvery: 1, arms: arms.map((a) => ({ ...a })) }), false);
    try {
      const w = Object.values(x.armParams('warm')).map((v) => v.dataSync());
      const h = Object.values(x.armParams('half')).map((v) => v.dataSync());
      w.forEach((v, i) => expect(v).toEqual(h[i])); // lr 1e-3 · ½ at update 1 = lr 5e-4
      expect(x.updateRecords('losers')[0].mW).not.toBe(x.updateRecords('half')[0].mW);
    } finally {
      x.dispose();
    }
  });
});

describe('EMA of the evaluated weights', () => {
  it('evaluations score ema ← d·ema + (1 − d)·θ (by hand over 2 updates); d = 0 is the raw policy; training is unchanged; leak-free', async () => {
    const before = tf.memory().numTensors;
    const arms = [
      { name: 'raw', method: 'sft', data: 'winners', lr: 1e-2 },
      { name: 'ema0', method: 'sft', data: 'winners', lr: 1e-2, ema: 0 },
      { name: 'ema', method: 'sft', data: 'winners', lr: 1e-2, ema: 0.5 },
    ] as const;
    // One update at a time, so the policy after update 1 can be read.
    const c = cfg({ updates: 2, checkpointEvery: 2, arms: arms.map((a) => ({ ...a })) });
    const x = await Experiment.create(c, base, ds, { evaluate });
    try {
      const read = (p: Record<string, tf.Variable>) => Object.values(p).map((v) => Float32Array.from(v.dataSync()));
      const theta0 = read(base.unet);
      await x.step();
      const theta1 = read(x.armParams('ema'));
      await x.step();
      const theta2 = read(x.armParams('ema'));
      // The EMA does not touch training: all three policies are the same (same data, noise, lr).
      read(x.armParams('raw')).forEach((v, i) => expect(v).toEqual(theta2[i]));
      const st = (x as unknown as { arms: Array<{ cfg: { name: string }; ema: Record<string, tf.Variable> | null }> }).arms;
      const ema = st.find((a) => a.cfg.name === 'ema')!.ema!;
      const ema0 = st.find((a) => a.cfg.name === 'ema0')!.ema!;
      read(ema).forEach((v, i) => {
        // ema₀ = θ₀; ema₁ = ½θ₀ + ½θ₁; ema₂ = ½ema₁ + ½θ₂ (float32 steps, as the engine computes them)
        const want = theta0[i].map((t0, j) => Math.fround(Math.fround(Math.fround(Math.fround(t0 * 0.5) + Math.fround(theta1[i][j] * 0.5)) * 0.5) + Math.fround(theta2[i][j] * 0.5)));
        for (let j = 0; j < v.length; j += 97) expect(v[j]).toBeCloseTo(want[j], 6);
      });
      read(ema0).forEach((v, i) => expect(v).toEqual(theta2[i]));
      // Evaluations score the EMA: ema0's checkpoint metrics are raw's; the ½-EMA's differ.
      const r = x.results();
      const m = (n: string) => r.arms.find((a) => a.name === n)!.checkpoints.at(-1)!.metrics;
      expect(m('ema0')).toEqual(m('raw'));
      expect(m('ema')).not.toEqual(m('raw'));
    } finally {
      x.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(() => parseExperimentConfig({ ...PRESETS.smoke, arms: [{ name: 'bad', method: 'sft', data: 'winners', ema: 1 }] })).toThrow(/ema/);
  });
});

describe('the unconditional branch', () => {
  it('alignDropout: dropped items see the empty prompt in the loss (by hand at update 1), seeded by update, leak-free', async () => {
    expect(dropoutMask(3, 5, 8, 0.5)).toEqual(dropoutMask(3, 5, 8, 0.5));
    expect(dropoutMask(3, 5, 64, 0.5)).not.toEqual(dropoutMask(3, 6, 64, 0.5));
    expect(dropoutMask(3, 5, 8, 1).every((m) => m)).toBe(true);
    const arms = [{ name: 'SFT', method: 'sft', data: 'winners' }] as const;
    const mk = (p?: number) => cfg({ updates: 2, checkpointEvery: 2, batchSize: 4, ...(p !== undefined ? { alignDropout: p } : {}), arms: arms.map((a) => ({ ...a })) });
    const before = tf.memory().numTensors;
    const all = await run(mk(1), false);
    const none = await run(mk(), false);
    try {
      const idx = all.batchIndices(0);
      const pairs = ds.train.slice(0, 8);
      const S = 8, C = 4, B = 4;
      const n = updateNoise(0, 0, B, S * S * C);
      const mW = tf.tidy(() => {
        const imgs = new Float32Array(B * IMAGE_LEN);
        idx.forEach((it, j) => imgs.set(pairs[it].winner, j * IMAGE_LEN));
        const t = tf.tensor1d(n.t, 'int32');
        const eps = tf.tensor4d(n.eps, [B, S, S, C]);
        const zt = qSample(encodeImages(base, tf.tensor4d(imgs, [B, IMAGE_SIZE, IMAGE_SIZE, 3])), t, eps, makeSchedule());
        const ctx = tf.tile(uncondContext(base.text, base.config.text, 1), [B, 1, 1]) as tf.Tensor3D;
        return perSampleMse(unetForward(base.unet, base.config.unet, zt, t.toFloat() as tf.Tensor1D, ctx), eps).mean().dataSync()[0];
      });
      expect(all.updateRecords('SFT')[0].mW).toBeCloseTo(mW, 4);
      expect(all.updateRecords('SFT')[0].mW).not.toBeCloseTo(none.updateRecords('SFT')[0].mW, 6);
    } finally {
      all.dispose();
      none.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
