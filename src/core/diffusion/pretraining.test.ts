import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend';
import { Rng } from '../rng';
import { IMAGE_LEN, MAX_TOKENS, buildDataset, renderIdeal } from '../world';
import { disposeReducedSD, initReducedSD, tinySDConfig, type ReducedSD } from '../model/sd';
import { aeBatchAt, checkpointFiles, diffusionBatchAt, idealImages, lrAt, meanStd, parseState, pretrainingData, restoreCheckpoint, type PretrainState } from './pretraining';
import { edgeEnergyPerImage, finiteDifferences, makeAETrainer } from './train';
import { edgeEnergy } from '../world/utility';

const TINY = tinySDConfig(31, MAX_TOKENS);
// An even smaller autoencoder for the resume test (no 32×32 residual block: fast on a busy machine).
const SMALL = { ...TINY, ae: { ...TINY.ae, channels: [4, 8, 8], fullResBlock: false } };
const ds = buildDataset({ seed: 2, nTrainPairs: 8, nScorerTrain: 0, nScorerTest: 0, nHpsTrain: 0, nHpsTest: 0, nOodRaterPairs: 0, nValidation: 4 });
const data = pretrainingData(ds.train, MAX_TOKENS);

beforeAll(async () => {
  await initNodeBackend('wasm');
});

describe('pretraining data and batches', () => {
  it('packs winner and loser of every pair, in order', () => {
    expect(data.count).toBe(16);
    expect(data.images.subarray(IMAGE_LEN, 2 * IMAGE_LEN)).toEqual(ds.train[0].loser);
    expect(data.prompts[2]).toBe(ds.train[1].prompt);
    expect(data.meanUtility).toBeCloseTo(ds.train.reduce((a, p) => a + p.uWinner + p.uLoser, 0) / 16, 12);
  });

  it("a step's batch depends only on the seed and the step (so a resumed run sees the same batches)", () => {
    const r = new Rng(7);
    const a = aeBatchAt(data, r, 5, 4), b = aeBatchAt(data, new Rng(7), 5, 4), c = aeBatchAt(data, r, 6, 4);
    expect(a.images).toEqual(b.images);
    expect(a.images).not.toEqual(c.images);
    const lat = new Float32Array(16 * 256).map((_, i) => i);
    const d1 = diffusionBatchAt(data, lat, 256, MAX_TOKENS, 1000, r, 3, 4, 0.5);
    const d2 = diffusionBatchAt(data, lat, 256, MAX_TOKENS, 1000, new Rng(7), 3, 4, 0.5);
    expect(d1).toEqual(d2);
    expect(d1.t.every((t) => t >= 0 && t < 1000)).toBe(true);
  });

  it('ideal renders in the autoencoder batches: one per distinct prompt; share 1 gives only them, 0 the same batch as without', () => {
    const extra = idealImages(data.prompts); // every prompt twice (winner and loser)
    expect(extra.count).toBe(new Set(ds.train.map((p) => JSON.stringify(p.prompt))).size);
    expect(extra.images.subarray(0, IMAGE_LEN)).toEqual(renderIdeal(ds.train[0].prompt));
    const all = aeBatchAt(data, new Rng(3), 0, 6, { ...extra, fraction: 1 });
    for (let b = 0; b < 6; b++) {
      const im = all.images.subarray(b * IMAGE_LEN, (b + 1) * IMAGE_LEN);
      expect(Array.from({ length: extra.count }, (_, k) => extra.images.subarray(k * IMAGE_LEN, (k + 1) * IMAGE_LEN)).some((e) => e.every((v, i) => v === im[i]))).toBe(true);
    }
    expect(aeBatchAt(data, new Rng(3), 0, 6, { ...extra, fraction: 0 })).toEqual(aeBatchAt(data, new Rng(3), 0, 6));
  });

  it('prompt dropout 1 gives only all-PAD prompts, 0 none', () => {
    const lat = new Float32Array(16 * 256);
    expect(diffusionBatchAt(data, lat, 256, MAX_TOKENS, 1000, new Rng(1), 0, 8, 1).tokens.every((t) => t === 0)).toBe(true);
    expect(diffusionBatchAt(data, lat, 256, MAX_TOKENS, 1000, new Rng(1), 0, 8, 0).tokens.some((t) => t !== 0)).toBe(true);
  });

  it('lr schedule: warm-up to the peak, cosine to 10 %', () => {
    expect(lrAt(0, 1000, 1)).toBeCloseTo(0.01, 12);
    expect(lrAt(99, 1000, 1)).toBeCloseTo(1, 12);
    expect(lrAt(100, 1000, 1)).toBeCloseTo(1, 12);
    expect(lrAt(550, 1000, 1)).toBeCloseTo(0.55, 12); // half way through the decay: 0.1 + 0.9·0.5
    expect(lrAt(1000, 1000, 1)).toBeCloseTo(0.1, 12);
  });

  it('meanStd by hand', () => {
    const s = meanStd(new Float32Array([1, 2, 3, 4]));
    expect(s.mean).toBe(2.5);
    expect(s.std).toBeCloseTo(Math.sqrt(1.25), 12);
  });
});

describe('edge loss', () => {
  it('finite differences by hand', () => {
    const x = tf.tensor4d([1, 2, 4, 7], [1, 2, 2, 1]);
    const [dx, dy] = finiteDifferences(x);
    expect(Array.from(dx.dataSync())).toEqual([1, 3]);
    expect(Array.from(dy.dataSync())).toEqual([3, 5]);
    tf.dispose([x, dx, dy]);
  });

  it("edge energy per image is the world's edge energy (world/utility.ts), image by image", () => {
    const imgs = [ds.train[0].winner, ds.train[1].loser];
    const x = tf.tensor4d(Float32Array.from([...imgs[0], ...imgs[1]]), [2, 32, 32, 3]);
    const e = tf.tidy(() => { const [dx, dy] = finiteDifferences(x); return edgeEnergyPerImage(dx, dy).dataSync(); });
    imgs.forEach((im, i) => expect(e[i]).toBeCloseTo(edgeEnergy(im), 2));
    x.dispose();
  });

  it('the energy and scale-equivariance terms add to the loss of the same step, and each step is leak-free', () => {
    const losses: number[] = [];
    for (const w of [{ l1: 1, edge: 1 }, { l1: 1, edge: 1, energy: 0.5 }, { l1: 1, edge: 1, scaleEquivariance: 1 }]) {
      const m = initReducedSD('aeterms', SMALL, 3);
      const t = makeAETrainer(m, 0, w); // lr 0: the loss of the initial weights
      const l = t.step(aeBatchAt(data, new Rng(1), 0, 4));
      losses.push(l.dataSync()[0]);
      l.dispose();
      t.step(aeBatchAt(data, new Rng(1), 1, 4)).dispose();
      // (Adam's slots are created on the first step; the second adds nothing)
      const n1 = tf.memory().numTensors;
      t.step(aeBatchAt(data, new Rng(1), 2, 4)).dispose();
      expect(tf.memory().numTensors).toBe(n1);
      t.dispose();
      disposeReducedSD(m);
    }
    expect(losses[1]).toBeGreaterThan(losses[0]);
    expect(losses[2]).toBeGreaterThan(losses[0]);
  });
});

describe('decoder-only autoencoder training', () => {
  it('moves the decoder and leaves every encoder weight bit-identical (so the latents a UNet learned stay valid)', () => {
    const m = initReducedSD('deconly', SMALL, 4);
    const snap = () => Object.fromEntries(Object.entries(m.ae).map(([k, v]) => [k, Array.from(v.dataSync())]));
    const before = snap();
    const t = makeAETrainer(m, 1e-2, { l1: 1, edge: 1, energy: 0.1 }, { decoderOnly: true });
    t.step(aeBatchAt(data, new Rng(5), 0, 4)).dispose(); // Adam creates its moments here
    const n0 = tf.memory().numTensors;
    for (let i = 1; i < 3; i++) t.step(aeBatchAt(data, new Rng(5), i, 4)).dispose();
    expect(tf.memory().numTensors).toBe(n0);
    const after = snap();
    const enc = Object.keys(before).filter((k) => k.includes('/enc/')), dec = Object.keys(before).filter((k) => k.includes('/dec/'));
    expect(enc.length).toBeGreaterThan(0);
    for (const k of enc) expect(after[k]).toEqual(before[k]);
    expect(dec.every((k) => after[k].some((v, i) => v !== before[k][i]))).toBe(true);
    t.dispose();
    disposeReducedSD(m);
  });
});

describe('resumable training', () => {
  let a: ReducedSD, b: ReducedSD;
  afterAll(() => {
    disposeReducedSD(a);
    disposeReducedSD(b);
  });

  it('4 steps in one go equal 2 steps, a checkpoint, a fresh model and trainer restored from it, and 2 more', async () => {
    const rng = new Rng(11);
    const step = (_m: ReducedSD, t: ReturnType<typeof makeAETrainer>, i: number) => t.step(aeBatchAt(data, rng, i, 4)).dispose();
    a = initReducedSD('resA', SMALL, 1);
    const ta = makeAETrainer(a, 1e-2, { l1: 1, edge: 1 });
    for (let i = 0; i < 4; i++) step(a, ta, i);

    b = initReducedSD('resB', SMALL, 1);
    const tb = makeAETrainer(b, 1e-2, { l1: 1, edge: 1 });
    for (let i = 0; i < 2; i++) step(b, tb, i);
    const state: PretrainState = { signature: 'test', stage: 'ae', ae: { step: 2, seconds: 0, curve: [] }, unet: { step: 0, seconds: 0, curve: [] }, latentScale: 1, extra: {} };
    const files = new Map(await checkpointFiles(b, tb.optimizer, state));
    expect([...files.keys()]).toEqual(['model.safetensors', 'config.json', 'optimizer-ae.safetensors', 'state.json']);
    tb.dispose();
    disposeReducedSD(b);

    b = initReducedSD('resB', SMALL, 99); // other initial weights: everything must come from the checkpoint
    const tb2 = makeAETrainer(b, 1e-2, { l1: 1, edge: 1 });
    const restored = parseState(files.get('state.json') as string, 'test', 'memory')!;
    await restoreCheckpoint(b, tb2.optimizer, restored, files.get('model.safetensors') as Uint8Array, files.get('optimizer-ae.safetensors') as Uint8Array);
    const n0 = tf.memory().numTensors;
    for (let i = 2; i < 4; i++) step(b, tb2, i);
    expect(tf.memory().numTensors).toBe(n0); // leak-free after the restore

    const wa = Object.values(a.ae).map((v) => Array.from(v.dataSync()));
    const wb = Object.values(b.ae).map((v) => Array.from(v.dataSync()));
    expect(wb).toEqual(wa);
    ta.dispose();
    tb2.dispose();
  });

  it("another run's checkpoint is refused by name", () => {
    expect(() => parseState(JSON.stringify({ signature: 'other' }), 'this', '/tmp/x')).toThrow(/belongs to another run/);
    expect(parseState(null, 'this', '/tmp/x')).toBeNull();
  });
});
