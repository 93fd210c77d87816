import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend';
import { VOCAB } from '../world/prompt';
import { saveSafetensors } from '../model/checkpoint';
import { disposeReducedSD, initReducedSD, tinySDConfig, type ReducedSD } from '../model/sd';
import { createVideoUNet, disposeVideoUNet, videoUnetForward } from './motion';
import { parseVideoConfig, type VideoConfigInput, VIDEO_PRESETS, videoPresetConfig, VideoConfigError } from './config';
import { VideoExperiment } from './experiment';
import { sampleVideos, videoEpsFn, videoNoise } from './sample';
import { videoContext, videoTokens } from './train';
import { buildVideoDataset, type VideoDataset } from './world';

const TINY = tinySDConfig(VOCAB.length, 12);
const F = 4;
let sd: ReducedSD;
let motionBytes: Uint8Array;
let dataset: VideoDataset;

beforeAll(async () => {
  await initNodeBackend('wasm');
  sd = initReducedSD('img', TINY, 1);
  // Motion modules with a non-zero output (as pretrained ones are), so the video model differs from the image model.
  const m = createVideoUNet('video', sd.unet, TINY.unet, { frames: F, heads: 2 }, 7);
  for (const [k, v] of Object.entries(m.motion)) if (k.endsWith('/out/w')) v.assign(tf.randomNormal(v.shape, 0, 0.05, 'float32', 3));
  motionBytes = saveSafetensors(m.motion, {}, m.motionPrefix);
  disposeVideoUNet(m);
  dataset = buildVideoDataset({ seed: 1, frames: F, nTrainPairs: 4, nTuning: 4, nEvaluation: 4 });
});
afterAll(() => disposeReducedSD(sd));

function config(over: Partial<VideoConfigInput> = {}) {
  return parseVideoConfig({
    seed: 3, frames: F, heads: 2, loraRank: 2, nTrainPairs: 4, batchSize: 2, updates: 4, checkpointEvery: 2, maxCheckpoints: 2,
    lr: 1e-3, beta: 1000, refSteps: 2, checkpointEvalClips: 0, evalSteps: 2, evalPrompts: 2, evalNoises: 1, evalImageModel: false,
    arms: [
      { name: 'SFT', method: 'sft' },
      { name: 'SePPO', method: 'seppo', refStrategy: 'random', flip: 'sign' },
    ],
    ...over,
  });
}

const make = (over: Partial<VideoConfigInput> = {}) => new VideoExperiment({ sd, motionBytes, config: config(over), dataset });

describe('video config', () => {
  it('parses the presets and names bad fields', () => {
    expect(VIDEO_PRESETS.table3.arms.map((a) => a.method)).toEqual(['sft', 'seppo']);
    expect(() => parseVideoConfig({ ...VIDEO_PRESETS.table3, batchSize: 0 })).toThrow(/batchSize/);
    expect(() => parseVideoConfig({ ...VIDEO_PRESETS.table3, arms: [{ name: 'x', method: 'dpo' }] })).toThrow(/arms\.0\.method/);
    expect(() => parseVideoConfig({ ...VIDEO_PRESETS.table3, arms: [{ name: 'a', method: 'sft' }, { name: 'a', method: 'sft' }] })).toThrow(/duplicate arm name/);
    expect(() => videoPresetConfig('table9')).toThrow(VideoConfigError);
  });
});

describe('video sampling', () => {
  it('videoEpsFn gives videoUnetForward with each clip’s t and text', () => {
    const m = createVideoUNet('vs', sd.unet, TINY.unet, { frames: F, heads: 2 }, 1);
    const { start, end } = videoTokens(dataset.evaluation.slice(0, 2));
    const [a, b] = tf.tidy(() => {
      const z = tf.randomNormal([2 * F, 8, 8, 4], 0, 1, 'float32', 5) as tf.Tensor4D;
      const ctx = videoContext(sd, start, end, 2);
      const ctxF = tf.tile(ctx.reshape([2, 1, 24, 16]), [1, F, 1, 1]).reshape([2 * F, 24, 16]) as tf.Tensor3D;
      const t = tf.tensor1d([30, 600]);
      const tF = tf.tile(t.reshape([2, 1]), [1, F]).reshape([2 * F]) as tf.Tensor1D;
      return [videoEpsFn(m)(z, tF, ctxF).dataSync(), videoUnetForward(m, z, t, ctx).dataSync()];
    });
    expect(Array.from(a)).toEqual(Array.from(b));
    disposeVideoUNet(m);
  });

  it('a clip’s noise and sample do not depend on the batch it is drawn in; sampling leaks nothing', () => {
    const m = createVideoUNet('vs2', sd.unet, TINY.unet, { frames: F, heads: 2 }, 1);
    const ps = dataset.evaluation.slice(0, 2);
    const both = videoTokens(ps), second = videoTokens(ps.slice(1));
    const noise2 = videoNoise(9, 2, F, 256), noise1 = videoNoise(9, 1, F, 256, 1);
    expect(Array.from(noise1)).toEqual(Array.from(noise2.subarray(F * 256)));
    sampleVideos(sd, m, second.start, second.end, noise1, 1, { steps: 2, guidance: 5 }); // warm-up
    const n0 = tf.memory().numTensors;
    const two = sampleVideos(sd, m, both.start, both.end, noise2, 2, { steps: 2, guidance: 5 });
    const one = sampleVideos(sd, m, second.start, second.end, noise1, 1, { steps: 2, guidance: 5 });
    expect(tf.memory().numTensors).toBe(n0);
    expect(two).toHaveLength(2);
    expect(two[1].length).toBe(F * 32 * 32 * 3);
    let maxDiff = 0;
    for (let i = 0; i < one[0].length; i++) maxDiff = Math.max(maxDiff, Math.abs(one[0][i] - two[1][i]));
    expect(maxDiff).toBeLessThan(1e-4);
    disposeVideoUNet(m);
  });
});

describe('video experiment', () => {
  it('first SePPO update: θ_ref = θ₀ = the policy, so inside = 0, loss = log 2, every s = −1', async () => {
    const e = make({ updates: 1 });
    await e.step();
    const r = e.arms[1].updates[0];
    expect(r.refK).toBe(0);
    expect(r.loss).toBeCloseTo(Math.log(2), 5);
    expect(r.aafRate).toBe(1);
    expect(r.implicitAcc).toBe(0);
    expect(Number.isNaN(e.arms[0].updates[0].aafRate)).toBe(true);
    e.dispose();
  });

  it('moves only the LoRA adapters; the motion modules and the image base stay as they were', async () => {
    const e = make({ updates: 2 });
    const arm = e.arms[0].video;
    const motion = Object.values(arm.motion).map((v) => Array.from(v.dataSync()));
    const base = Array.from(arm.base[`${arm.basePrefix}/conv_in/w`].dataSync());
    const image = Array.from(sd.unet['img/unet/conv_in/w'].dataSync());
    await e.step();
    await e.step();
    Object.values(arm.motion).forEach((v, i) => expect(Array.from(v.dataSync())).toEqual(motion[i]));
    expect(Array.from(arm.base[`${arm.basePrefix}/conv_in/w`].dataSync())).toEqual(base);
    expect(Array.from(sd.unet['img/unet/conv_in/w'].dataSync())).toEqual(image);
    const bMoved = Object.entries(arm.lora!.params).filter(([k]) => k.endsWith('/B')).some(([, v]) => tf.tidy(() => v.abs().max().dataSync()[0]) > 0);
    expect(bMoved).toBe(true);
    e.dispose();
  });

  it('is deterministic for a seed and leak-free over updates and checkpoints', async () => {
    const run = async () => {
      const e = make({ updates: 4 });
      await e.step();
      const n0 = tf.memory().numTensors;
      await e.step(); // checkpoint at 2
      await e.step();
      const n1 = tf.memory().numTensors;
      await e.step(); // checkpoint at 4: the pool (K = 2) drops θ₁, keeps θ₀ and θ₂
      const n2 = tf.memory().numTensors;
      const out = { losses: e.arms.map((a) => a.updates.map((u) => u.loss)), pool: e.arms[1].pool.map((p) => p.k), leak: [n1 - n0, n2 - n1] };
      e.dispose();
      return out;
    };
    const a = await run(), b = await run();
    expect(a.losses).toEqual(b.losses);
    expect(a.pool).toEqual([0, 2]);
    // Between two updates the only new tensors are the checkpoint snapshots (LoRA copies: 2 arms × adapters).
    const probe = make();
    const snapTensors = Object.keys(probe.arms[0].pool[0].params).length;
    probe.dispose();
    expect(a.leak[0]).toBe(2 * snapTensors);
    expect(a.leak[1]).toBe(0); // one snapshot added, one dropped, per arm
  });

  it('final evaluation pairs every clip with the raw model’s; an lr-0 arm is the raw model exactly', async () => {
    const e = make({ updates: 1, evalPrompts: 2, evalNoises: 2, arms: [{ name: 'frozen', method: 'sft', lr: 0 }, { name: 'SFT', method: 'sft' }] });
    await e.step();
    const r = await e.finalEval();
    expect(r.models.map((m) => m.name)).toEqual(['raw (motion modules, no LoRA)', 'frozen', 'SFT']);
    expect(r.prompts).toHaveLength(4);
    const frozen = r.models[1].vsRaw!;
    expect(frozen.trueUtility.win.n).toBe(4);
    expect(frozen.trueUtility.win.ties).toBe(4);
    expect(frozen.ssim.delta.mean).toBe(0);
    for (const m of r.models) for (const c of m.clips) {
      expect(c.trueUtility).toBeGreaterThanOrEqual(0);
      expect(c.trueUtility).toBeLessThanOrEqual(1);
      expect(Number.isFinite(c.psnr)).toBe(true);
    }
    e.dispose();
  });
});
