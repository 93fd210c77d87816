/**
 * Small feature networks for the video metrics of the paper's Table 3 (issue 17), trained in the repo
 * on the time-lapse world (featuresTraining.ts, `npm run train-video-features`), shipped in
 * public/models/video-features/ (model.safetensors + config.json). See README.md here, "Feature
 * networks", for what they were trained on and what the metrics built on them mean.
 *
 *   frame net (the Inception analogue), one 32×32×3 frame in [-1, 1]:
 *     conv3×3 16 + ReLU (32×32) → pool 2×2 → conv3×3 32 + ReLU (16×16) → pool → conv3×3 32 + ReLU (8×8)
 *     → pool → flatten 4·4·32 → dense D_f = 32 + ReLU  = the frame feature (FID-like)
 *     → linear heads: shape, colour, size, position, background (softmax each, cross-entropies summed)
 *
 *   clip net (the I3D analogue), on the frozen frame features h_0…h_{F−1} of one clip, standardised
 *   by the training set's per-dimension mean and std:
 *     s = [mean_f h_f, mean_f |h_{f+1} − h_f|, h_m − h_0, h_{F−1} − h_m],  m = ⌊(F−1)/2⌋   (4·D_f)
 *     → dense 64 + ReLU → dense D_c = 32 + ReLU  = the clip feature (FVD-like)
 *     → linear heads: shown change kind, background (constant / darkens / brightens), motion direction,
 *       and one yes/no head per temporal defect (flicker, reversed, speed, halfway, jitter)
 *
 * The summary s is defined for any F ≥ 2 (the shipped net was trained on F = 8 and is meant for it).
 *
 * LPIPS-like (Zhang et al. 2018, the "baseline" form without learned linear weights): at each of the
 * frame net's three conv stages (post-ReLU), unit-normalise every position's channel vector
 * (x / (‖x‖ + 1e-10)), square the difference of the two frames' vectors, sum over channels, average
 * over positions, and sum over the stages; the clip's value is the mean over frames.
 *
 * Nothing here imports React or touches the DOM.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { loadSafetensors, saveSafetensors, type TensorEntry } from '../model/checkpoint';
import { matMulFast, conv2dSame, type Params } from '../model/layers';
import { Rng } from '../rng';
import { BACKGROUNDS, COLOURS, POSITIONS, SHAPES, SIZES } from '../world/prompt';
import { IMAGE_LEN, IMAGE_SIZE } from '../world/render';
import { CHANGE_KINDS, TEMPORAL_DEFECT_KINDS } from './world';

export const VIDEO_FEATURES_FORMAT = 'seppo-video-features/1';

/** A classification head: its name and class names (logit order). */
export interface HeadSpec {
  name: string;
  classes: readonly string[];
}

/** The frame net's heads: the attributes of the state a frame shows (featuresTraining.ts labels them). */
export const FRAME_HEADS: readonly HeadSpec[] = Object.freeze([
  { name: 'shape', classes: SHAPES },
  { name: 'colour', classes: COLOURS },
  { name: 'size', classes: SIZES },
  { name: 'position', classes: POSITIONS },
  { name: 'background', classes: BACKGROUNDS },
]);

/** Shown motion direction of a move (sign of dx × sign of dy; y grows downwards); 'none' for other changes. */
export const MOTION_CLASSES = ['none', 'left', 'right', 'up', 'down', 'up-left', 'up-right', 'down-left', 'down-right'] as const;
export const BACKGROUND_CHANGE_CLASSES = ['constant', 'darkens', 'brightens'] as const;
const YES_NO = ['no', 'yes'] as const;

/** The clip net's heads (what a clip shows over time; featuresTraining.ts labels them). */
export const CLIP_HEADS: readonly HeadSpec[] = Object.freeze([
  { name: 'change', classes: CHANGE_KINDS },
  { name: 'background', classes: BACKGROUND_CHANGE_CLASSES },
  { name: 'motion', classes: MOTION_CLASSES },
  ...TEMPORAL_DEFECT_KINDS.map((k) => ({ name: k, classes: YES_NO })),
]);

const headSchema = z.object({ name: z.string(), classes: z.array(z.string()).min(2) });

/** The architecture (config.json's `config`). */
export const videoFeatureConfigSchema = z.object({
  imageSize: z.literal(IMAGE_SIZE),
  /** Conv stage widths (each conv3×3 + ReLU, then 2×2 mean pooling). */
  channels: z.array(z.number().int().positive()).min(1).max(5),
  /** D_f: the frame feature. */
  frameDim: z.number().int().positive(),
  /** Hidden width of the clip net. */
  clipHidden: z.number().int().positive(),
  /** D_c: the clip feature. */
  clipDim: z.number().int().positive(),
  frameHeads: z.array(headSchema),
  clipHeads: z.array(headSchema),
});
export type VideoFeatureConfig = z.infer<typeof videoFeatureConfigSchema>;

export function defaultVideoFeatureConfig(): VideoFeatureConfig {
  const heads = (hs: readonly HeadSpec[]) => hs.map((h) => ({ name: h.name, classes: [...h.classes] }));
  return { imageSize: IMAGE_SIZE, channels: [16, 32, 32], frameDim: 32, clipHidden: 64, clipDim: 32, frameHeads: heads(FRAME_HEADS), clipHeads: heads(CLIP_HEADS) };
}

export interface VideoFeatureNets {
  prefix: string;
  config: VideoFeatureConfig;
  /** Trainable weights and the clip net's fixed input standardisation (`clip/norm/*`, not trainable), keyed `${prefix}/…`. */
  params: Params;
  /** What config.json recorded about the training (absent for fresh nets). */
  trained?: Record<string, unknown>;
}

const nClasses = (hs: readonly { classes: readonly string[] }[]) => hs.reduce((a, h) => a + h.classes.length, 0);

/** Every tensor's local name and shape, in a fixed order. */
export function videoFeatureParamShapes(cfg: VideoFeatureConfig): Array<[string, number[]]> {
  const out: Array<[string, number[]]> = [];
  let cin = 3;
  cfg.channels.forEach((c, i) => {
    out.push([`frame/conv${i + 1}/w`, [3, 3, cin, c]], [`frame/conv${i + 1}/b`, [c]]);
    cin = c;
  });
  const side = cfg.imageSize >> cfg.channels.length;
  out.push(['frame/fc/w', [side * side * cin, cfg.frameDim]], ['frame/fc/b', [cfg.frameDim]]);
  out.push(['frame/head/w', [cfg.frameDim, nClasses(cfg.frameHeads)]], ['frame/head/b', [nClasses(cfg.frameHeads)]]);
  out.push(['clip/norm/mean', [cfg.frameDim]], ['clip/norm/std', [cfg.frameDim]]);
  out.push(['clip/fc1/w', [4 * cfg.frameDim, cfg.clipHidden]], ['clip/fc1/b', [cfg.clipHidden]]);
  out.push(['clip/fc2/w', [cfg.clipHidden, cfg.clipDim]], ['clip/fc2/b', [cfg.clipDim]]);
  out.push(['clip/head/w', [cfg.clipDim, nClasses(cfg.clipHeads)]], ['clip/head/b', [nClasses(cfg.clipHeads)]]);
  return out;
}

const FIXED = new Set(['clip/norm/mean', 'clip/norm/std']);

function checkConfig(cfg: VideoFeatureConfig, what: string): void {
  if (cfg.imageSize % (1 << cfg.channels.length) !== 0) throw new Error(`${what}: imageSize ${cfg.imageSize} is not divisible by 2^${cfg.channels.length}`);
  const same = (a: readonly { name: string; classes: readonly string[] }[], b: readonly HeadSpec[]) =>
    a.length === b.length && a.every((h, i) => h.name === b[i].name && h.classes.length === b[i].classes.length && h.classes.every((c, j) => c === b[i].classes[j]));
  if (!same(cfg.frameHeads, FRAME_HEADS)) throw new Error(`${what}: frame heads ${cfg.frameHeads.map((h) => h.name).join(',')} do not match this code's (${FRAME_HEADS.map((h) => h.name).join(',')}, same classes in the same order); retrain with npm run train-video-features`);
  if (!same(cfg.clipHeads, CLIP_HEADS)) throw new Error(`${what}: clip heads ${cfg.clipHeads.map((h) => h.name).join(',')} do not match this code's (${CLIP_HEADS.map((h) => h.name).join(',')}, same classes in the same order); retrain with npm run train-video-features`);
}

function makeVariables(prefix: string, cfg: VideoFeatureConfig, values: (name: string, shape: number[]) => Float32Array): Params {
  const params: Params = {};
  for (const [name, shape] of videoFeatureParamShapes(cfg)) {
    const t = tf.tensor(values(name, shape), shape, 'float32');
    params[`${prefix}/${name}`] = tf.variable(t, !FIXED.has(name), `${prefix}/${name}`);
    t.dispose(); // the variable keeps the data
  }
  return params;
}

/** Fresh nets: He-normal weights (fan-in; heads 1/√fan-in), zero biases, identity standardisation, from `seed` (no tf.random). */
export function initVideoFeatureNets(prefix: string, seed: number, config: VideoFeatureConfig = defaultVideoFeatureConfig()): VideoFeatureNets {
  if (!prefix) throw new Error('initVideoFeatureNets: prefix must be a non-empty string');
  const parsed = videoFeatureConfigSchema.safeParse(config);
  if (!parsed.success) throw new Error(`initVideoFeatureNets: bad config at ${parsed.error.issues[0].path.join('.')}: ${parsed.error.issues[0].message}`);
  const cfg = parsed.data;
  checkConfig(cfg, 'initVideoFeatureNets');
  const rng = new Rng(seed).fork('video-features-init');
  const params = makeVariables(prefix, cfg, (name, shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    if (name === 'clip/norm/std') return new Float32Array(n).fill(1);
    if (shape.length === 1) return new Float32Array(n);
    const fanIn = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const std = (name.endsWith('head/w') ? 1 : Math.SQRT2) / Math.sqrt(fanIn);
    return rng.fork(name).normals(n).map((v) => v * std);
  });
  return { prefix, config: cfg, params };
}

export function disposeVideoFeatureNets(n: VideoFeatureNets): void {
  for (const v of Object.values(n.params)) v.dispose();
}

/** The trainable variables of one net, in a fixed order (for Adam). */
export function videoFeatureVariables(n: VideoFeatureNets, which: 'frame' | 'clip'): tf.Variable[] {
  return videoFeatureParamShapes(n.config).filter(([k]) => k.startsWith(`${which}/`) && !FIXED.has(k)).map(([k]) => n.params[`${n.prefix}/${k}`]);
}

const P = (n: VideoFeatureNets, name: string) => {
  const v = n.params[`${n.prefix}/${name}`];
  if (!v) throw new Error(`video feature nets: missing parameter ${n.prefix}/${name}`);
  return v;
};

function checkFrames(n: VideoFeatureNets, frames: tf.Tensor, what: string): void {
  const s = n.config.imageSize;
  if (frames.rank !== 4 || frames.shape[1] !== s || frames.shape[2] !== s || frames.shape[3] !== 3) {
    throw new Error(`${what}: expected frames [N,${s},${s},3] (HWC, values in [-1,1]), got [${frames.shape.join(',')}]`);
  }
}

const pool2 = (h: tf.Tensor4D): tf.Tensor4D => {
  const [b, hh, ww, c] = h.shape;
  return tf.mean(tf.reshape(h, [b, hh / 2, 2, ww / 2, 2, c]), [2, 4]) as tf.Tensor4D;
};

/** The frame net's forward: the conv stages' activations (post-ReLU, before pooling) and the D_f feature. Not tidied. */
export function frameNetForward(n: VideoFeatureNets, frames: tf.Tensor4D): { stages: tf.Tensor4D[]; features: tf.Tensor2D } {
  checkFrames(n, frames, 'frameNetForward');
  let h = frames;
  const stages: tf.Tensor4D[] = [];
  n.config.channels.forEach((_, i) => {
    if (i > 0) h = pool2(h);
    h = tf.relu(tf.add(conv2dSame(h, P(n, `frame/conv${i + 1}/w`) as unknown as tf.Tensor4D), P(n, `frame/conv${i + 1}/b`))) as tf.Tensor4D;
    stages.push(h);
  });
  h = pool2(h);
  const flat = tf.reshape(h, [h.shape[0], -1]) as tf.Tensor2D;
  const features = tf.relu(tf.add(matMulFast(flat, P(n, 'frame/fc/w')), P(n, 'frame/fc/b'))) as tf.Tensor2D;
  return { stages, features };
}

/** Logits of every head, concatenated in head order: [N, Σ classes]. */
export function headLogits(n: VideoFeatureNets, which: 'frame' | 'clip', features: tf.Tensor2D): tf.Tensor2D {
  return tf.add(matMulFast(features, P(n, `${which}/head/w`)), P(n, `${which}/head/b`)) as tf.Tensor2D;
}

/** Frame features [N, D_f] of frames [N,32,32,3] in [-1,1]. */
export function frameFeatures(n: VideoFeatureNets, frames: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => frameNetForward(n, frames).features);
}

/** The clip net on per-frame features [B·F, D_f] (clip-major) → clip features [B, D_c]. Not tidied. */
export function clipNetFromFrameFeatures(n: VideoFeatureNets, feats: tf.Tensor2D, F: number): tf.Tensor2D {
  if (!Number.isInteger(F) || F < 2) throw new Error(`clipFeatures: frames per clip must be an integer ≥ 2, got ${F}`);
  const D = n.config.frameDim;
  if (feats.rank !== 2 || feats.shape[1] !== D || feats.shape[0] % F !== 0 || feats.shape[0] === 0) {
    throw new Error(`clipFeatures: expected per-frame features [B·${F}, ${D}], got [${feats.shape.join(',')}] (${feats.shape[0]} rows is not a positive multiple of ${F} frames)`);
  }
  const B = feats.shape[0] / F;
  const h = tf.reshape(tf.div(tf.sub(feats, P(n, 'clip/norm/mean')), P(n, 'clip/norm/std')), [B, F, D]) as tf.Tensor3D;
  const m = Math.floor((F - 1) / 2);
  const at = (f: number) => tf.reshape(tf.slice(h, [0, f, 0], [B, 1, D]), [B, D]);
  const diffs = tf.sub(tf.slice(h, [0, 1, 0], [B, F - 1, D]), tf.slice(h, [0, 0, 0], [B, F - 1, D]));
  const s = tf.concat([tf.mean(h, 1), tf.mean(tf.abs(diffs), 1), tf.sub(at(m), at(0)), tf.sub(at(F - 1), at(m))], 1) as tf.Tensor2D; // [B, 4D]
  const hid = tf.relu(tf.add(matMulFast(s, P(n, 'clip/fc1/w')), P(n, 'clip/fc1/b'))) as tf.Tensor2D;
  return tf.relu(tf.add(matMulFast(hid, P(n, 'clip/fc2/w')), P(n, 'clip/fc2/b'))) as tf.Tensor2D;
}

/** Clip features [B, D_c] of B clips given as frames [B·F,32,32,3], clip-major (clip b's frame f at row b·F + f). */
export function clipFeatures(n: VideoFeatureNets, frames: tf.Tensor4D, F: number): tf.Tensor2D {
  checkFrames(n, frames, 'clipFeatures');
  if (!Number.isInteger(F) || F < 2 || frames.shape[0] % F !== 0 || frames.shape[0] === 0) {
    throw new Error(`clipFeatures: ${frames.shape[0]} frames is not a positive multiple of F = ${F} (F must be an integer ≥ 2)`);
  }
  return tf.tidy(() => clipNetFromFrameFeatures(n, frameNetForward(n, frames).features, F));
}

function checkVideo(v: unknown, F: number, what: string): asserts v is Float32Array {
  if (!Number.isInteger(F) || F < 1) throw new Error(`${what}: frames must be a positive integer, got ${F}`);
  if (!(v instanceof Float32Array)) throw new Error(`${what}: expected a Float32Array clip`);
  if (v.length !== F * IMAGE_LEN) throw new Error(`${what}: clip has ${v.length} values, expected ${F}·${IMAGE_LEN} (${F} frames of 32×32×3)`);
}

/**
 * LPIPS-like distance between two clips (F frames of 32×32×3 in [-1,1], frame-major), see the file
 * comment. 0 for identical clips (both go through the same forward, so bit for bit).
 */
export function lpipsLike(n: VideoFeatureNets, a: Float32Array, b: Float32Array, F: number): number {
  checkVideo(a, F, 'lpipsLike (first clip)');
  checkVideo(b, F, 'lpipsLike (second clip)');
  const s = n.config.imageSize;
  const d = tf.tidy(() => {
    const unit = (x: tf.Tensor4D) => tf.div(x, tf.add(tf.sqrt(tf.sum(tf.square(x), 3, true)), 1e-10));
    const sa = frameNetForward(n, tf.tensor4d(a, [F, s, s, 3])).stages;
    const sb = frameNetForward(n, tf.tensor4d(b, [F, s, s, 3])).stages;
    let total: tf.Tensor = tf.zeros([F]);
    sa.forEach((x, l) => {
      total = tf.add(total, tf.mean(tf.sum(tf.square(tf.sub(unit(x), unit(sb[l]))), 3), [1, 2])); // [F]
    });
    return tf.mean(total);
  });
  const v = d.dataSync()[0];
  d.dispose();
  return v;
}

/**
 * Frame features (one Float32Array of D_f per frame, clip-major: clip i's frames at i·F … i·F+F−1)
 * and clip features (one Float32Array of D_c per clip) of `videos`, in batches of `batchClips` clips
 * (the last batch padded with its last clip, so every forward has the same shape). Leak-free.
 */
export async function videoFeatureSets(n: VideoFeatureNets, videos: Float32Array[], F: number, batchClips = 16): Promise<{ frame: Float32Array[]; clip: Float32Array[] }> {
  if (!Array.isArray(videos)) throw new Error('videoFeatureSets: expected an array of clips');
  videos.forEach((v, i) => checkVideo(v, F, `videoFeatureSets (clip ${i})`));
  if (!Number.isInteger(F) || F < 2) throw new Error(`videoFeatureSets: frames must be an integer ≥ 2, got ${F}`);
  const s = n.config.imageSize, Df = n.config.frameDim, Dc = n.config.clipDim;
  const frame: Float32Array[] = [], clip: Float32Array[] = [];
  const buf = new Float32Array(batchClips * F * IMAGE_LEN);
  for (let start = 0; start < videos.length; start += batchClips) {
    const m = Math.min(batchClips, videos.length - start);
    for (let k = 0; k < batchClips; k++) buf.set(videos[start + Math.min(k, m - 1)], k * F * IMAGE_LEN);
    const [ff, cf] = tf.tidy(() => {
      const fr = frameNetForward(n, tf.tensor4d(buf, [batchClips * F, s, s, 3])).features;
      return [fr, clipNetFromFrameFeatures(n, fr, F)];
    });
    const [fv, cv] = await Promise.all([ff.data(), cf.data()]);
    tf.dispose([ff, cf]);
    for (let k = 0; k < m; k++) {
      for (let f = 0; f < F; f++) frame.push(Float32Array.from(fv.subarray((k * F + f) * Df, (k * F + f + 1) * Df)));
      clip.push(Float32Array.from(cv.subarray(k * Dc, (k + 1) * Dc)));
    }
  }
  return { frame, clip };
}

export { fidLike, fvdLike, pairedBootstrapFrechetDelta, type FrechetDelta } from './metrics';

/** config.json of shipped feature nets: the architecture plus free-form training records. */
export const videoFeatureFileSchema = z.looseObject({
  format: z.literal(VIDEO_FEATURES_FORMAT),
  config: videoFeatureConfigSchema,
});

/** Weights as safetensors (local names `frame/…`, `clip/…`) and config.json (with `extra` records). */
export function serializeVideoFeatureNets(n: VideoFeatureNets, extra: Record<string, unknown> = {}): { safetensors: Uint8Array; config: Record<string, unknown> } {
  const tensors = new Map<string, TensorEntry>();
  for (const [name, shape] of videoFeatureParamShapes(n.config)) {
    const v = P(n, name);
    tensors.set(name, { shape, data: v.dataSync() as Float32Array });
  }
  return { safetensors: saveSafetensors(tensors, { format: VIDEO_FEATURES_FORMAT }), config: { ...extra, format: VIDEO_FEATURES_FORMAT, config: n.config } };
}

/**
 * Builds the nets from shipped files. Checks config.json (schema, heads = this code's) and the
 * weights (every name and shape, finite values, positive standard deviations) before creating any
 * variable; throws an Error naming the first problem.
 */
export function loadVideoFeatureNets(bytes: Uint8Array, configJson: unknown, prefix: string): VideoFeatureNets {
  if (!(bytes instanceof Uint8Array)) throw new Error('video feature nets: model.safetensors must be given as a Uint8Array');
  if (!prefix) throw new Error('video feature nets: prefix must be a non-empty string');
  const parsed = videoFeatureFileSchema.safeParse(configJson);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`video feature nets: config.json invalid at ${issue.path.join('.') || '(root)'}: ${issue.message} (expected format '${VIDEO_FEATURES_FORMAT}')`);
  }
  const cfg = parsed.data.config;
  checkConfig(cfg, 'video feature nets');
  const expected = Object.fromEntries(videoFeatureParamShapes(cfg).map(([k, shape]) => [k, { shape }]));
  let tensors: Map<string, TensorEntry>;
  try {
    tensors = loadSafetensors(bytes, expected);
  } catch (e) {
    throw new Error(`video feature nets: model.safetensors: ${e instanceof Error ? e.message : String(e)}`);
  }
  for (const [name, t] of tensors) {
    const bad = t.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new Error(`video feature nets: tensor ${name} has a non-finite value at index ${bad}`);
  }
  const std = tensors.get('clip/norm/std')!.data;
  const bad = std.findIndex((v) => !(v > 0));
  if (bad >= 0) throw new Error(`video feature nets: clip/norm/std[${bad}] = ${std[bad]}; the standard deviations must be positive`);
  const params = makeVariables(prefix, cfg, (name) => tensors.get(name)!.data);
  const { format: _f, config: _c, ...trained } = parsed.data as Record<string, unknown>;
  return { prefix, config: cfg, params, trained };
}
