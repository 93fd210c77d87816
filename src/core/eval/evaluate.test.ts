import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend';
import { Rng } from '../rng';
import { disposeReducedSD, defaultSDConfig, initReducedSD, type ReducedSD } from '../model/sd';
import { IMAGE_LEN, MAX_TOKENS, VOCAB, allPrompts, renderIdeal, renderWithGenerator, type Prompt } from '../world';
import { evaluate, evaluateModel, type Scorers } from './evaluate';
import { METRIC_KEYS, meanMetrics, winRate, winRates, type ImageMetrics } from './metrics';
import { defaultScorerConfig, disposeScorer, initScorer } from './scorer';

let scorers: Scorers;
let model: ReducedSD;
let model2: ReducedSD;

beforeAll(async () => {
  await initNodeBackend('wasm');
  const cfg = { ...defaultScorerConfig(VOCAB.length, MAX_TOKENS), channels: [4, 8, 8] };
  scorers = { pickScore: initScorer('pickscore-mini', 'ev-ps', cfg, 1), hps: initScorer('hps-mini', 'ev-hps', cfg, 2) };
  // A tiny, untrained reduced SD: enough to check plumbing, determinism and leaks of evaluateModel.
  const sd = defaultSDConfig(VOCAB.length, MAX_TOKENS);
  const tiny = { ...sd, ae: { ...sd.ae, channels: [4, 8, 8], groups: 4 }, text: { ...sd.text, dim: 16, heads: 2 }, unet: { ...sd.unet, latentSize: 8, patch: 1, channels: [8, 8] as [number, number], timeDim: 8, ctxDim: 16, heads: 2, groups: 4 } };
  model = initReducedSD('ev-m1', tiny, 1);
  model2 = initReducedSD('ev-m2', tiny, 2);
});
afterAll(() => {
  disposeScorer(scorers.pickScore);
  disposeScorer(scorers.hps);
  disposeReducedSD(model);
  disposeReducedSD(model2);
});

const prompts: Prompt[] = new Rng(3).shuffle(allPrompts()).slice(0, 10);

describe('evaluate', () => {
  it('gives all five metrics per image and their mean, deterministically and without leaking tensors', async () => {
    const rng = new Rng(4);
    const images = prompts.map((p, i) => renderWithGenerator(p, i % 4, rng).image);
    const first = await evaluate(prompts, images, scorers, { batchSize: 4 });
    const n0 = tf.memory().numTensors;
    const second = await evaluate(prompts, images, scorers, { batchSize: 4 });
    expect(tf.memory().numTensors).toBe(n0);
    expect(second).toEqual(first);
    expect(first.perImage).toHaveLength(10);
    for (const k of METRIC_KEYS) {
      expect(first.mean[k]).toBeCloseTo(first.perImage.reduce((s, r) => s + r[k], 0) / 10, 5);
      for (const r of first.perImage) expect(Number.isFinite(r[k])).toBe(true);
    }
    // The batch size changes nothing.
    expect((await evaluate(prompts, images, scorers, { batchSize: 64 })).perImage).toEqual(first.perImage);
  });

  it('is finite for blank, saturated, out-of-range, random-noise and NaN images', async () => {
    const rng = new Rng(5);
    const withNaN = renderIdeal(prompts[0]);
    withNaN[17] = NaN;
    const odd = [
      new Float32Array(IMAGE_LEN).fill(-1),
      new Float32Array(IMAGE_LEN).fill(1),
      Float32Array.from({ length: IMAGE_LEN }, () => (rng.bool() ? 1 : -1)),
      Float32Array.from({ length: IMAGE_LEN }, () => rng.uniform(-3, 3)),
      Float32Array.from({ length: IMAGE_LEN }, () => rng.normal()),
      withNaN,
    ];
    const ev = await evaluate(prompts.slice(0, odd.length), odd, scorers);
    for (const r of ev.perImage) for (const k of METRIC_KEYS) expect(Number.isFinite(r[k]), k).toBe(true);
  });

  it('ranks ideal renders above defective ones on alignment, aesthetic and true utility', async () => {
    const rng = new Rng(6);
    const ideal = await evaluate(prompts, prompts.map(renderIdeal), scorers);
    const bad = await evaluate(prompts, prompts.map((p) => renderWithGenerator(p, 2, rng).image), scorers); // 'noisy-cheap'
    for (const k of ['alignment', 'aesthetic', 'trueUtility'] as const) expect(ideal.mean[k], k).toBeGreaterThan(bad.mean[k]);
    expect(ideal.mean.alignment).toBe(1);
    expect(ideal.mean.trueUtility).toBeCloseTo(1, 5);
  });

  it('rejects mismatched inputs with a clear message', async () => {
    await expect(evaluate(prompts, [renderIdeal(prompts[0])], scorers)).rejects.toThrow(/10 prompts but 1 images/);
    await expect(evaluate([prompts[0]], [new Float32Array(5)], scorers)).rejects.toThrow(/image 0.*3072/);
    await expect(evaluate([], [], scorers)).rejects.toThrow(/no images/);
  });
});

describe('evaluateModel', () => {
  it('samples with fixed noise: identical twice, leak-free, and a different model sees the same noise', async () => {
    const o = { seed: 11, steps: 2, guidance: 3, batchSize: 4 };
    const a = await evaluateModel(model, prompts.slice(0, 5), o, scorers);
    const n0 = tf.memory().numTensors;
    const b = await evaluateModel(model, prompts.slice(0, 5), o, scorers);
    expect(tf.memory().numTensors).toBe(n0);
    expect(b.images).toEqual(a.images);
    expect(b.perImage).toEqual(a.perImage);
    expect(a.images).toHaveLength(5);
    for (const r of a.perImage) for (const k of METRIC_KEYS) expect(Number.isFinite(r[k])).toBe(true);
    // Another seed gives other images; another model gives other images from the same noise.
    const c = await evaluateModel(model, prompts.slice(0, 5), { ...o, seed: 12 }, scorers);
    expect(c.images).not.toEqual(a.images);
    const d = await evaluateModel(model2, prompts.slice(0, 5), o, scorers);
    expect(d.images).not.toEqual(a.images);
    await expect(evaluateModel(model, prompts, { ...o, steps: 0 }, scorers)).rejects.toThrow(/steps must be a positive integer/);
  });
});

describe('winRate', () => {
  const row = (u: number, ps: number): ImageMetrics => ({ pickScore: ps, hps: 0, alignment: 0, aesthetic: 0, trueUtility: u });
  it('counts wins per prompt, ties as half (hand-computed)', () => {
    const a = [row(0.9, 20), row(0.5, 10), row(0.3, 30), row(0.7, 5)];
    const base = [row(0.8, 25), row(0.5, 10), row(0.4, 10), row(0.2, 5)];
    // trueUtility: win, tie, loss, win → 2.5 / 4; pickScore: loss, tie, win, tie → 2 / 4
    expect(winRate(a, base, 'trueUtility')).toBe(0.625);
    expect(winRate(a, base, 'pickScore')).toBe(0.5);
    expect(winRates(a, base)).toEqual({ trueUtility: 0.625, pickScore: 0.5 });
    expect(winRate(base, base, 'hps')).toBe(0.5);
  });
  it('refuses evaluations of different sizes', () => {
    expect(() => winRate([row(1, 1)], [], 'trueUtility')).toThrow(/same prompts and noise/);
    expect(() => meanMetrics([])).toThrow(/no images/);
  });
});
