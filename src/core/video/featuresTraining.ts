/**
 * Training data and training of the video feature nets (features.ts): labels of what each frame
 * and each clip shows, derived from the prompt and the drawn defects (no pixel heuristics), Adam on
 * the heads' summed cross-entropies, and held-out accuracies per head.
 *
 * Frame labels: the attributes of the state frame f actually shows, i.e. the prompt's state at the
 * frame's (defective) progress `sceneAt(v, p_f)`, then the frame's defects as the renderer applies
 * them (wrong colour, hue drift, wrong shape, offset, size scale, jitter). A continuous state gets
 * the nearest attribute: colour = the nearest palette colour in RGB (a recolour half way, or a hue
 * drift, lands on whichever end is nearer), size = the nearest of the three radii (4, 6.5, 9 px),
 * position = the nearest of the five centres, background = dark when its brightness is below 0.5.
 * No head is skipped; frames near a boundary are therefore ambiguous, and the held-out accuracy of
 * the changing attributes is capped below 100 % by construction.
 *
 * Clip labels (what the clip shows over time, not what the prompt asked for):
 *   change      the prompt's change kind, grow ↔ shrink swapped when the clip is reversed
 *   background  constant, darkens, or brightens (a darkening prompt played backwards)
 *   motion      for a move: the sign of the shown displacement (x, y; reversed flips it), else none
 *   flicker / reversed / speed / halfway / jitter   whether the generator applied that temporal defect
 * A reversed clip of most prompts is a correct clip of another prompt (a reversed grow is a shrink),
 * so `reversed` is only identifiable from pixels with a darkening background; its accuracy says so.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { learningRateAt } from '../eval/scorerTraining';
import { BACKGROUNDS, COLOURS, POSITIONS, SHAPES, SIZES, type Shape } from '../world/prompt';
import { COLOUR_RGB, IMAGE_LEN, POSITION_CENTRE, SIZE_RADIUS } from '../world/render';
import type { Defect } from '../world/generators';
import {
  CLIP_HEADS, FRAME_HEADS, clipNetFromFrameFeatures, frameNetForward, headLogits, videoFeatureVariables, type HeadSpec, type VideoFeatureNets,
} from './features';
import {
  CHANGE_KINDS, TEMPORAL_DEFECT_KINDS, VIDEO_GENERATORS, defectiveProgress, endPrompt, renderIdealVideo, renderWithVideoGenerator, sceneAt,
  type TemporalDefect, type VideoPrompt,
} from './world';

/** One labelled training clip. */
export interface FeatureClip {
  video: Float32Array;
  /** [F · FRAME_HEADS.length] class indices, frame-major. */
  frameLabels: Int32Array;
  /** [CLIP_HEADS.length] class indices. */
  clipLabels: Int32Array;
  /** Video generator index, −1 for the ideal video. */
  generator: number;
}

const nearest = <T>(items: readonly T[], dist: (t: T) => number): number => {
  let best = 0, bd = Infinity;
  items.forEach((t, i) => {
    const d = dist(t);
    if (d < bd) { bd = d; best = i; }
  });
  return best;
};
const lerp = (a: number, b: number, t: number) => a + (b - a) * t;

/** Frame labels (see the file comment) of a clip rendered with these defects. */
export function frameLabels(v: VideoPrompt, frameDefects: readonly Defect[], temporal: readonly TemporalDefect[], F: number): Int32Array {
  const progress = defectiveProgress(F, temporal);
  const out = new Int32Array(F * FRAME_HEADS.length);
  for (let f = 0; f < F; f++) {
    const { obj, bg } = sceneAt(v, progress[f]);
    let { cx, cy, radius } = obj;
    let shape: Shape = obj.shape;
    let rgb = [...obj.rgb];
    for (const d of temporal) if (d.kind === 'jitter') { cx += d.offsets[f][0]; cy += d.offsets[f][1]; }
    for (const d of frameDefects) if (d.kind === 'wrongColour') rgb = [...COLOUR_RGB[d.colour]];
    for (const d of frameDefects) {
      if (d.kind === 'hue') { const t = COLOUR_RGB[d.towards]; rgb = rgb.map((c, i) => lerp(c, t[i], d.amount)); }
      else if (d.kind === 'wrongShape') shape = d.shape;
      else if (d.kind === 'offset') { cx += d.dx; cy += d.dy; }
      else if (d.kind === 'size') radius *= d.scale;
    }
    const o = f * FRAME_HEADS.length;
    out[o] = SHAPES.indexOf(shape);
    out[o + 1] = nearest(COLOURS, (c) => COLOUR_RGB[c].reduce((s, x, i) => s + (x - rgb[i]) ** 2, 0));
    out[o + 2] = nearest(SIZES, (s) => Math.abs(SIZE_RADIUS[s] - radius));
    out[o + 3] = nearest(POSITIONS, (p) => (POSITION_CENTRE[p][0] - cx) ** 2 + (POSITION_CENTRE[p][1] - cy) ** 2);
    out[o + 4] = BACKGROUNDS.indexOf((bg[0] + bg[1] + bg[2]) / 3 < 0.5 ? 'dark' : 'light');
  }
  return out;
}

const MOTION_NAME: Record<string, string> = { '0,0': 'none', '-1,0': 'left', '1,0': 'right', '0,-1': 'up', '0,1': 'down', '-1,-1': 'up-left', '1,-1': 'up-right', '-1,1': 'down-left', '1,1': 'down-right' };

/** Clip labels (see the file comment). */
export function clipLabels(v: VideoPrompt, temporal: readonly TemporalDefect[]): Int32Array {
  const rev = temporal.some((d) => d.kind === 'reversed');
  const out = new Int32Array(CLIP_HEADS.length);
  const shown = rev && v.change === 'grow' ? 'shrink' : rev && v.change === 'shrink' ? 'grow' : v.change;
  out[0] = CHANGE_KINDS.indexOf(shown);
  out[1] = CLIP_HEADS[1].classes.indexOf(!v.darkens ? 'constant' : rev ? 'brightens' : 'darkens');
  let motion = 'none';
  if (v.change === 'move') {
    const [ax, ay] = POSITION_CENTRE[v.start.position], [bx, by] = POSITION_CENTRE[endPrompt(v).position];
    const sg = rev ? -1 : 1;
    motion = MOTION_NAME[`${Math.sign(sg * (bx - ax))},${Math.sign(sg * (by - ay))}`];
  }
  out[2] = CLIP_HEADS[2].classes.indexOf(motion);
  TEMPORAL_DEFECT_KINDS.forEach((k, i) => { out[3 + i] = temporal.some((d) => d.kind === k) ? 1 : 0; });
  return out;
}

/**
 * `n` labelled clips on random picks of `prompts`: with probability `idealShare` the ideal video,
 * else a uniformly drawn video generator's render. Deterministic from `rng`.
 */
export function labelledClips(prompts: readonly VideoPrompt[], n: number, rng: Rng, F: number, idealShare = 0.2): FeatureClip[] {
  if (prompts.length === 0) throw new Error('labelledClips: no prompts');
  const out: FeatureClip[] = [];
  for (let i = 0; i < n; i++) {
    const v = rng.pick(prompts);
    if (rng.next() < idealShare) {
      out.push({ video: renderIdealVideo(v, F), frameLabels: frameLabels(v, [], [], F), clipLabels: clipLabels(v, []), generator: -1 });
    } else {
      const g = rng.int(VIDEO_GENERATORS.length);
      const r = renderWithVideoGenerator(v, g, rng, F);
      out.push({ video: r.video, frameLabels: frameLabels(v, r.frameDefects, r.temporalDefects, F), clipLabels: clipLabels(v, r.temporalDefects), generator: g });
    }
  }
  return out;
}

/** Summed softmax cross-entropies of every head; logits [N, Σ classes], labels [N, heads] int32. */
export function summedHeadLoss(heads: readonly HeadSpec[], logits: tf.Tensor2D, labels: tf.Tensor2D): tf.Scalar {
  let off = 0;
  let total: tf.Scalar = tf.scalar(0);
  heads.forEach((h, i) => {
    const k = h.classes.length;
    const lg = tf.slice(logits, [0, off], [-1, k]);
    const y = tf.oneHot(tf.reshape(tf.slice(labels, [0, i], [-1, 1]), [-1]) as tf.Tensor1D, k);
    total = tf.add(total, tf.losses.softmaxCrossEntropy(y, lg)) as tf.Scalar;
    off += k;
  });
  return total;
}

/** Per-head arg-max predictions from logits [N, Σ classes] → [N · heads], row-major. */
function predictions(heads: readonly HeadSpec[], logits: Float32Array, N: number): Int32Array {
  const C = heads.reduce((a, h) => a + h.classes.length, 0);
  const out = new Int32Array(N * heads.length);
  for (let r = 0; r < N; r++) {
    let off = 0;
    heads.forEach((h, i) => {
      let best = 0;
      for (let c = 1; c < h.classes.length; c++) if (logits[r * C + off + c] > logits[r * C + off + best]) best = c;
      out[r * heads.length + i] = best;
      off += h.classes.length;
    });
  }
  return out;
}

export interface HeadAccuracy {
  head: string;
  n: number;
  accuracy: number;
  /** The share of the most frequent class in these labels (what always guessing it scores). */
  majority: number;
}

function accuracies(heads: readonly HeadSpec[], pred: Int32Array, labels: Int32Array, N: number): HeadAccuracy[] {
  return heads.map((h, i) => {
    const counts = new Array(h.classes.length).fill(0);
    let right = 0;
    for (let r = 0; r < N; r++) {
      const y = labels[r * heads.length + i];
      counts[y]++;
      if (pred[r * heads.length + i] === y) right++;
    }
    return { head: h.name, n: N, accuracy: right / N, majority: Math.max(...counts) / N };
  });
}

const frameTensor = (clips: readonly FeatureClip[], F: number, size = 32) => {
  const buf = new Float32Array(clips.length * F * IMAGE_LEN);
  clips.forEach((c, i) => buf.set(c.video, i * F * IMAGE_LEN));
  return tf.tensor4d(buf, [clips.length * F, size, size, 3]);
};

/** Frame features of all clips' frames, [Σ F, D_f] as one Float32Array (clip-major), in batches. */
export async function frameFeatureMatrix(n: VideoFeatureNets, clips: readonly FeatureClip[], F: number, batchClips = 32): Promise<Float32Array> {
  const D = n.config.frameDim;
  const out = new Float32Array(clips.length * F * D);
  for (let s = 0; s < clips.length; s += batchClips) {
    const part = clips.slice(s, s + batchClips);
    const t = tf.tidy(() => frameNetForward(n, frameTensor(part, F)).features);
    out.set(await t.data(), s * F * D);
    t.dispose();
  }
  return out;
}

/** Held-out accuracy of every frame head over all frames of `clips`. */
export async function frameHeadAccuracy(n: VideoFeatureNets, clips: readonly FeatureClip[], F: number, batchClips = 32): Promise<HeadAccuracy[]> {
  const H = FRAME_HEADS.length;
  const pred = new Int32Array(clips.length * F * H), labels = new Int32Array(clips.length * F * H);
  for (let s = 0; s < clips.length; s += batchClips) {
    const part = clips.slice(s, s + batchClips);
    const t = tf.tidy(() => headLogits(n, 'frame', frameNetForward(n, frameTensor(part, F)).features));
    pred.set(predictions(FRAME_HEADS, (await t.data()) as Float32Array, part.length * F), s * F * H);
    t.dispose();
    part.forEach((c, i) => labels.set(c.frameLabels, (s + i) * F * H));
  }
  return accuracies(FRAME_HEADS, pred, labels, clips.length * F);
}

/** Held-out accuracy of every clip head, from precomputed frame features [clips·F, D_f]. */
export function clipHeadAccuracy(n: VideoFeatureNets, frameFeats: Float32Array, clips: readonly FeatureClip[], F: number): HeadAccuracy[] {
  const H = CLIP_HEADS.length;
  const logits = tf.tidy(() => headLogits(n, 'clip', clipNetFromFrameFeatures(n, tf.tensor2d(frameFeats, [clips.length * F, n.config.frameDim]), F)));
  const pred = predictions(CLIP_HEADS, logits.dataSync() as Float32Array, clips.length);
  logits.dispose();
  const labels = new Int32Array(clips.length * H);
  clips.forEach((c, i) => labels.set(c.clipLabels, i * H));
  return accuracies(CLIP_HEADS, pred, labels, clips.length);
}

export interface TrainLog {
  step: number;
  loss: number;
  seconds: number;
}

/**
 * Adam on the frame net (conv stages, feature layer, heads) with the summed head cross-entropies,
 * on random batches of `batch` frames drawn from all frames of `clips` (Rng `seed`), warm-up +
 * cosine schedule. Returns the mean loss of the last 10 % of steps.
 */
export async function trainFrameNet(n: VideoFeatureNets, clips: readonly FeatureClip[], F: number, o: { steps: number; batch: number; lr: number; seed: number; onLog?: (l: TrainLog) => void; logEvery?: number }): Promise<number> {
  const vars = videoFeatureVariables(n, 'frame');
  const opt = tf.train.adam(o.lr);
  const rng = new Rng(o.seed).fork('frame-train');
  const H = FRAME_HEADS.length, N = clips.length * F, s = n.config.imageSize;
  const t0 = Date.now();
  let tail = 0, tailN = 0, logSum = 0, logN = 0;
  try {
    for (let step = 0; step < o.steps; step++) {
      const x = new Float32Array(o.batch * IMAGE_LEN), y = new Int32Array(o.batch * H);
      for (let b = 0; b < o.batch; b++) {
        const r = rng.int(N), c = clips[Math.floor(r / F)], f = r % F;
        x.set(c.video.subarray(f * IMAGE_LEN, (f + 1) * IMAGE_LEN), b * IMAGE_LEN);
        y.set(c.frameLabels.subarray(f * H, (f + 1) * H), b * H);
      }
      (opt as unknown as { learningRate: number }).learningRate = learningRateAt(step, o.steps, o.lr, 'cosine');
      const loss = tf.tidy(() => {
        const xt = tf.tensor4d(x, [o.batch, s, s, 3]), yt = tf.tensor2d(y, [o.batch, H], 'int32');
        const { value, grads } = tf.variableGrads(() => summedHeadLoss(FRAME_HEADS, headLogits(n, 'frame', frameNetForward(n, xt).features), yt), vars);
        opt.applyGradients(vars.map((v) => ({ name: v.name, tensor: grads[v.name] })));
        return value;
      });
      const l = (await loss.data())[0];
      loss.dispose();
      if (!Number.isFinite(l)) throw new Error(`trainFrameNet: loss became ${l} at step ${step}; lower the learning rate`);
      if (step >= o.steps * 0.9) { tail += l; tailN++; }
      logSum += l; logN++;
      if (o.onLog && ((step + 1) % (o.logEvery ?? 100) === 0 || step + 1 === o.steps)) {
        o.onLog({ step: step + 1, loss: logSum / logN, seconds: (Date.now() - t0) / 1000 });
        logSum = 0; logN = 0;
      }
    }
  } finally {
    opt.dispose();
  }
  return tail / Math.max(1, tailN);
}

/** Sets the clip net's input standardisation to the per-dimension mean and std (floor 1e-3) of these frame features. */
export function setClipNormalisation(n: VideoFeatureNets, frameFeats: Float32Array): void {
  const D = n.config.frameDim, N = frameFeats.length / D;
  const mean = new Float64Array(D), sq = new Float64Array(D);
  for (let r = 0; r < N; r++) for (let d = 0; d < D; d++) { const v = frameFeats[r * D + d]; mean[d] += v / N; sq[d] += (v * v) / N; }
  const std = Float32Array.from(mean, (m, d) => Math.max(1e-3, Math.sqrt(Math.max(0, sq[d] - m * m))));
  n.params[`${n.prefix}/clip/norm/mean`].assign(tf.tensor1d(Float32Array.from(mean)));
  n.params[`${n.prefix}/clip/norm/std`].assign(tf.tensor1d(std));
}

/** Adam on the clip net (frame net frozen: it works on precomputed frame features [clips·F, D_f]). */
export async function trainClipNet(n: VideoFeatureNets, frameFeats: Float32Array, clips: readonly FeatureClip[], F: number, o: { steps: number; batch: number; lr: number; seed: number; onLog?: (l: TrainLog) => void; logEvery?: number }): Promise<number> {
  const vars = videoFeatureVariables(n, 'clip');
  const opt = tf.train.adam(o.lr);
  const rng = new Rng(o.seed).fork('clip-train');
  const H = CLIP_HEADS.length, D = n.config.frameDim;
  const t0 = Date.now();
  let tail = 0, tailN = 0, logSum = 0, logN = 0;
  try {
    for (let step = 0; step < o.steps; step++) {
      const x = new Float32Array(o.batch * F * D), y = new Int32Array(o.batch * H);
      for (let b = 0; b < o.batch; b++) {
        const c = rng.int(clips.length);
        x.set(frameFeats.subarray(c * F * D, (c + 1) * F * D), b * F * D);
        y.set(clips[c].clipLabels, b * H);
      }
      (opt as unknown as { learningRate: number }).learningRate = learningRateAt(step, o.steps, o.lr, 'cosine');
      const loss = tf.tidy(() => {
        const xt = tf.tensor2d(x, [o.batch * F, D]), yt = tf.tensor2d(y, [o.batch, H], 'int32');
        const { value, grads } = tf.variableGrads(() => summedHeadLoss(CLIP_HEADS, headLogits(n, 'clip', clipNetFromFrameFeatures(n, xt, F)), yt), vars);
        opt.applyGradients(vars.map((v) => ({ name: v.name, tensor: grads[v.name] })));
        return value;
      });
      const l = (await loss.data())[0];
      loss.dispose();
      if (!Number.isFinite(l)) throw new Error(`trainClipNet: loss became ${l} at step ${step}; lower the learning rate`);
      if (step >= o.steps * 0.9) { tail += l; tailN++; }
      logSum += l; logN++;
      if (o.onLog && ((step + 1) % (o.logEvery ?? 200) === 0 || step + 1 === o.steps)) {
        o.onLog({ step: step + 1, loss: logSum / logN, seconds: (Date.now() - t0) / 1000 });
        logSum = 0; logN = 0;
      }
    }
  } finally {
    opt.dispose();
  }
  return tail / Math.max(1, tailN);
}
