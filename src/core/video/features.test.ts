import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../backend';
import { Rng } from '../rng';
import { BACKGROUNDS, COLOURS, POSITIONS, SHAPES, SIZES } from '../world/prompt';
import { IMAGE_LEN } from '../world/render';
import {
  CLIP_HEADS, FRAME_HEADS, clipFeatures, defaultVideoFeatureConfig, disposeVideoFeatureNets, fidLike, frameFeatures, fvdLike, initVideoFeatureNets,
  loadVideoFeatureNets, lpipsLike, pairedBootstrapFrechetDelta, serializeVideoFeatureNets, videoFeatureSets, type VideoFeatureNets,
} from './features';
import { clipHeadAccuracy, clipLabels, frameFeatureMatrix, frameHeadAccuracy, frameLabels, labelledClips, trainFrameNet } from './featuresTraining';
import { buildVideoDataset, endPrompt, renderIdealVideo, renderVideoWithDefects, renderWithVideoGenerator, allVideoPrompts, type VideoPrompt } from './world';

const F = 4;
const DIR = join(__dirname, '../../../public/models/video-features');
const prompts = new Rng(5).shuffle(allVideoPrompts()).slice(0, 64);
const clip = (i: number, frames = F) => renderIdealVideo(prompts[i], frames);
const stack = (videos: Float32Array[]) => {
  const buf = new Float32Array(videos.reduce((a, v) => a + v.length, 0));
  let o = 0;
  for (const v of videos) { buf.set(v, o); o += v.length; }
  return tf.tensor4d(buf, [buf.length / IMAGE_LEN, 32, 32, 3]);
};
const noisy = (v: Float32Array, sigma: number, seed: number) => {
  const r = new Rng(seed);
  return v.map((x) => Math.max(-1, Math.min(1, x + sigma * r.normal())));
};

let fresh: VideoFeatureNets;
let shipped: VideoFeatureNets | null = null;
let shippedConfig: Record<string, any> | null = null;
let n = 0;
beforeAll(async () => {
  await initNodeBackend('wasm');
  fresh = initVideoFeatureNets('vf-fresh', 1);
  if (existsSync(join(DIR, 'model.safetensors'))) {
    shippedConfig = JSON.parse(readFileSync(join(DIR, 'config.json'), 'utf8'));
    shipped = loadVideoFeatureNets(new Uint8Array(readFileSync(join(DIR, 'model.safetensors'))), shippedConfig, 'vf-shipped');
  }
});
afterAll(() => {
  disposeVideoFeatureNets(fresh);
  if (shipped) disposeVideoFeatureNets(shipped);
});

describe('video feature nets: shapes, determinism, leaks, files', () => {
  it('frameFeatures is [N, D_f], clipFeatures [B, D_c]; wrong shapes are refused by name', () => {
    const cfg = fresh.config;
    const x = stack([clip(0), clip(1), clip(2)]); // 3 clips × 4 frames
    const ff = frameFeatures(fresh, x), cf = clipFeatures(fresh, x, F);
    expect(ff.shape).toEqual([12, cfg.frameDim]);
    expect(cf.shape).toEqual([3, cfg.clipDim]);
    expect(cfg.frameDim).toBe(32);
    expect(cfg.clipDim).toBeGreaterThanOrEqual(16);
    expect(() => clipFeatures(fresh, x, 5)).toThrow(/not a positive multiple of F = 5/);
    const bad = tf.zeros([2, 16, 16, 3]) as tf.Tensor4D;
    expect(() => frameFeatures(fresh, bad)).toThrow(/expected frames \[N,32,32,3\].*\[2,16,16,3\]/);
    expect(() => lpipsLike(fresh, clip(0), clip(0, 3), F)).toThrow(/second clip.*expected 4·3072/);
    tf.dispose([x, ff, cf, bad]);
  });

  it('is deterministic for a seed (weights and features), different for another seed', () => {
    const a = initVideoFeatureNets(`vf-det${n++}`, 7), b = initVideoFeatureNets(`vf-det${n++}`, 7), c = initVideoFeatureNets(`vf-det${n++}`, 8);
    const x = stack([clip(3), clip(4)]);
    const fa = clipFeatures(a, x, F), fb = clipFeatures(b, x, F), fc = clipFeatures(c, x, F);
    expect(Array.from(fa.dataSync())).toEqual(Array.from(fb.dataSync()));
    expect(Array.from(fa.dataSync())).not.toEqual(Array.from(fc.dataSync()));
    tf.dispose([x, fa, fb, fc]);
    [a, b, c].forEach(disposeVideoFeatureNets);
  });

  it('is leak-free: tensor count flat over repeated calls of every entry point', async () => {
    const videos = [clip(5), clip(6), clip(7)];
    const run = async () => {
      const x = stack(videos);
      tf.dispose([frameFeatures(fresh, x), clipFeatures(fresh, x, F), x]);
      lpipsLike(fresh, videos[0], videos[1], F);
      await videoFeatureSets(fresh, videos, F, 2);
    };
    await run();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await run();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('videoFeatureSets: one frame vector per frame (clip-major) and one clip vector per clip, equal to the tensor API whatever the batching', async () => {
    const videos = [clip(8), clip(9), clip(10)];
    const s1 = await videoFeatureSets(fresh, videos, F, 2), s2 = await videoFeatureSets(fresh, videos, F, 16);
    expect(s1.frame.length).toBe(12);
    expect(s1.clip.length).toBe(3);
    const x = stack(videos);
    const cf = clipFeatures(fresh, x, F), ff = frameFeatures(fresh, x);
    const cv = cf.arraySync() as number[][], fv = ff.arraySync() as number[][];
    for (let i = 0; i < 3; i++) for (let d = 0; d < cv[i].length; d++) { expect(s1.clip[i][d]).toBeCloseTo(cv[i][d], 4); expect(s2.clip[i][d]).toBeCloseTo(cv[i][d], 4); }
    for (let i = 0; i < 12; i++) for (let d = 0; d < fv[i].length; d++) expect(s1.frame[i][d]).toBeCloseTo(fv[i][d], 4);
    tf.dispose([x, cf, ff]);
    await expect(videoFeatureSets(fresh, [clip(0), clip(0, 3)], F)).rejects.toThrow(/clip 1.*12288 values|clip 1.*expected 4·3072/);
  });

  it('serialise → load gives the same features; bad files are refused with the problem named', () => {
    const { safetensors, config } = serializeVideoFeatureNets(fresh, { seed: 1 });
    const back = loadVideoFeatureNets(safetensors, JSON.parse(JSON.stringify(config)), `vf-load${n++}`);
    const x = stack([clip(11)]);
    const a = clipFeatures(fresh, x, F), b = clipFeatures(back, x, F);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(back.trained?.seed).toBe(1);
    tf.dispose([x, a, b]);
    disposeVideoFeatureNets(back);
    const cfg = JSON.parse(JSON.stringify(config));
    expect(() => loadVideoFeatureNets(safetensors, { ...cfg, format: 'seppo-scorer/1' }, 'x')).toThrow(/config.json invalid at format/);
    expect(() => loadVideoFeatureNets(safetensors, null, 'x')).toThrow(/config.json invalid/);
    expect(() => loadVideoFeatureNets(safetensors.subarray(0, 100), cfg, 'x')).toThrow(/model.safetensors: checkpoint/);
    expect(() => loadVideoFeatureNets(safetensors, { ...cfg, config: { ...cfg.config, frameDim: 16 } }, 'x')).toThrow(/shape mismatch for clip\/fc1\/w|shape mismatch/);
    const heads = defaultVideoFeatureConfig().frameHeads.slice(0, 4);
    expect(() => loadVideoFeatureNets(safetensors, { ...cfg, config: { ...cfg.config, frameHeads: heads } }, 'x')).toThrow(/frame heads .* do not match/);
    const other = serializeVideoFeatureNets(initVideoFeatureNets(`vf-o${n++}`, 2, { ...defaultVideoFeatureConfig(), channels: [8, 8, 8] }));
    expect(() => loadVideoFeatureNets(other.safetensors, cfg, 'x')).toThrow(/shape mismatch/);
  });

  it('a few frame-net steps lower the loss and are deterministic for a seed', async () => {
    const clips = labelledClips(prompts, 16, new Rng(1), F);
    const run = async () => {
      const nets = initVideoFeatureNets(`vf-tr${n++}`, 3);
      const losses: number[] = [];
      await trainFrameNet(nets, clips, F, { steps: 30, batch: 16, lr: 3e-3, seed: 4, logEvery: 10, onLog: (l) => losses.push(l.loss) });
      const w = Array.from(nets.params[`${nets.prefix}/frame/head/w`].dataSync());
      disposeVideoFeatureNets(nets);
      return { losses, w };
    };
    const a = await run(), b = await run();
    expect(a.losses[2]).toBeLessThan(a.losses[0]);
    expect(b.w).toEqual(a.w);
  });
});

describe('labels', () => {
  const start = { shape: 'circle', colour: 'red', size: 'small', position: 'left', background: 'light' } as const;
  const grow: VideoPrompt = { start, change: 'grow', toSize: 'large', darkens: true };
  it('frame labels: the first ideal frame shows the start state, the last the end state; a reversed clip the opposite', () => {
    const row = (l: Int32Array, f: number) => Array.from(l.subarray(f * 5, f * 5 + 5));
    const idx = (p: typeof start | ReturnType<typeof endPrompt>) => [SHAPES.indexOf(p.shape), COLOURS.indexOf(p.colour), SIZES.indexOf(p.size), POSITIONS.indexOf(p.position), BACKGROUNDS.indexOf(p.background)];
    const l = frameLabels(grow, [], [], 8);
    expect(row(l, 0)).toEqual(idx(start));
    expect(row(l, 7)).toEqual(idx(endPrompt(grow)));
    const r = frameLabels(grow, [{ kind: 'wrongColour', colour: 'blue' }], [{ kind: 'reversed' }], 8);
    expect(row(r, 0)).toEqual(idx({ ...endPrompt(grow), colour: 'blue' }));
  });
  it('clip labels: a reversed darkening grow shows a brightening shrink; a move has its direction', () => {
    const name = (l: Int32Array) => CLIP_HEADS.map((h, i) => h.classes[l[i]]);
    expect(name(clipLabels(grow, []))).toEqual(['grow', 'darkens', 'none', 'no', 'no', 'no', 'no', 'no']);
    expect(name(clipLabels(grow, [{ kind: 'reversed' }, { kind: 'flicker', offsets: [] }]))).toEqual(['shrink', 'brightens', 'none', 'yes', 'yes', 'no', 'no', 'no']);
    const move: VideoPrompt = { start, change: 'move', toPosition: 'top', darkens: false };
    expect(name(clipLabels(move, [])).slice(0, 3)).toEqual(['move', 'constant', 'up-right']);
    expect(name(clipLabels(move, [{ kind: 'reversed' }])).slice(0, 3)).toEqual(['move', 'constant', 'down-left']);
    expect(FRAME_HEADS.map((h) => h.name)).toEqual(['shape', 'colour', 'size', 'position', 'background']);
  });
});

describe('Fréchet helpers', () => {
  const gauss = (N: number, D: number, shift: number, seed: number) => {
    const r = new Rng(seed);
    return Array.from({ length: N }, () => Float32Array.from(r.normals(D), (v) => v + shift));
  };
  it('fidLike / fvdLike of identical sets are 0 (to rounding), positive for shifted ones', () => {
    const a = gauss(200, 8, 0, 1);
    expect(fidLike(a, a)).toBeLessThan(1e-9);
    expect(fvdLike(a, a)).toBeLessThan(1e-9);
    expect(fidLike(gauss(200, 8, 1, 2), a)).toBeGreaterThan(5);
  });
  it('pairedBootstrapFrechetDelta: identical A and B give delta exactly 0 with [0, 0]; a worse A a positive interval', () => {
    const ref = gauss(120, 6, 0, 3), a = gauss(120, 6, 0, 4);
    const same = pairedBootstrapFrechetDelta(a, a, ref, 200, new Rng(1));
    expect(same.delta).toBe(0);
    expect([same.lo, same.hi]).toEqual([0, 0]);
    const worse = pairedBootstrapFrechetDelta(gauss(120, 6, 0.8, 5), a, ref, 200, new Rng(1), 4); // groups of 4 rows
    expect(worse.delta).toBeCloseTo(worse.dA - worse.dB, 12);
    expect(worse.lo).toBeGreaterThan(0);
    expect(worse.hi).toBeGreaterThanOrEqual(worse.lo);
    expect(() => pairedBootstrapFrechetDelta(a, a.slice(1), ref, 10, new Rng(1))).toThrow(/paired/);
    expect(() => pairedBootstrapFrechetDelta(a, a, ref, 10, new Rng(1), 7)).toThrow(/whole number of groups of 7/);
  });
});

describe.skipIf(!existsSync(join(DIR, 'model.safetensors')))('the shipped feature nets (public/models/video-features)', () => {
  it('record seed, steps and held-out accuracies well above the majority class on the heads that matter', () => {
    const c = shippedConfig!;
    for (const k of ['seed', 'steps', 'trainClips', 'heldoutClips', 'frames']) expect(typeof c[k], k).toBe('number');
    for (const h of ['shape', 'colour', 'size', 'position', 'background']) {
      const r = c.frameNet.heldout[h];
      expect(r.accuracy, `frame ${h}`).toBeGreaterThan(r.majority + 0.2);
    }
    for (const h of ['change', 'motion', 'flicker']) {
      const r = c.clipNet.heldout[h];
      expect(r.accuracy, `clip ${h}`).toBeGreaterThan(r.majority + 0.1);
    }
  });

  it('re-measured on the held-out clips exactly as the script built them, the accuracies match the record', async () => {
    const c = shippedConfig!;
    const ds = buildVideoDataset({ seed: c.datasetSeed, nTrainPairs: 0, frames: c.frames });
    const held = labelledClips([...ds.evaluation, ...ds.tuning], c.heldoutClips, new Rng(c.seed).fork('video-features').fork('heldout'), c.frames);
    const fa = await frameHeadAccuracy(shipped!, held, c.frames);
    for (const r of fa) expect(r.accuracy, r.head).toBeCloseTo(c.frameNet.heldout[r.head].accuracy, 6);
    const ca = clipHeadAccuracy(shipped!, await frameFeatureMatrix(shipped!, held, c.frames), held, c.frames);
    for (const r of ca) expect(r.accuracy, r.head).toBeCloseTo(c.clipNet.heldout[r.head].accuracy, 6);
  });

  it('LPIPS-like: 0 for identical clips, larger for a more defective clip', () => {
    const v = clip(12, 8);
    expect(lpipsLike(shipped!, v, v, 8)).toBe(0);
    const mild = lpipsLike(shipped!, v, noisy(v, 0.05, 1), 8), strong = lpipsLike(shipped!, v, noisy(v, 0.2, 1), 8);
    expect(mild).toBeGreaterThan(0);
    expect(strong).toBeGreaterThan(mild);
    // over 12 prompts: the flickery generator's clips are further from the ideal than steady-pro's
    let pro = 0, flick = 0;
    for (let i = 0; i < 12; i++) {
      const ideal = clip(i, 8);
      pro += lpipsLike(shipped!, ideal, renderWithVideoGenerator(prompts[i], 0, new Rng(100 + i), 8).video, 8);
      flick += lpipsLike(shipped!, ideal, renderWithVideoGenerator(prompts[i], 1, new Rng(100 + i), 8).video, 8);
    }
    expect(flick).toBeGreaterThan(pro);
  });

  it('a reversed clip separates from its clean one more in the clip features (FVD-like) than in the frame features (FID-like)', async () => {
    // 32 prompts: clean ideal clips, the same reversed, and clean clips of 32 other prompts (the scale of "different").
    const clean = prompts.slice(0, 32).map((p) => renderIdealVideo(p, 8));
    const rev = prompts.slice(0, 32).map((p) => renderVideoWithDefects(p, [], [{ kind: 'reversed' }], 8));
    const other = prompts.slice(32, 64).map((p) => renderIdealVideo(p, 8));
    const [c, r, o] = [await videoFeatureSets(shipped!, clean, 8), await videoFeatureSets(shipped!, rev, 8), await videoFeatureSets(shipped!, other, 8)];
    const fidRatio = fidLike(r.frame, c.frame) / fidLike(o.frame, c.frame);
    const fvdRatio = fvdLike(r.clip, c.clip) / fvdLike(o.clip, c.clip);
    // the reversed clips' frames are the clean clips' frames in another order: the per-frame statistics cannot see it
    expect(fidRatio).toBeLessThan(1e-6);
    expect(fvdRatio).toBeGreaterThan(0.05);
    expect(fvdRatio).toBeGreaterThan(fidRatio);
  });
});
