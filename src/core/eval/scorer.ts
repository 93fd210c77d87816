/**
 * PickScore-mini / HPS-mini: a small dual encoder trained on rater pairs with the Bradley–Terry
 * loss, as PickScore (Kirstain et al., 2023) was trained on Pick-a-Pic.
 *
 *   image (32×32×3) ─ CNN (stride-1 convs + reshape pooling) ─ MLP ─ L2-normalise ───┐
 *                                                                                 cos · 100 = score
 *   tokens ─ bag of words over VOCAB ─ embed ─ MLP ─ L2-normalise ─────────────────┘
 *
 * The score is reported on PickScore's scale: logitScale (100, CLIP's clamp) × cosine. Training
 * minimises −log softmax([s_w, s_l])[winner] = softplus(s_l − s_w) over (prompt, winner, loser)
 * pairs. Parameters are `tf.Variable`s keyed by local names (`img/conv1/w`, `txt/emb`, …); the
 * global variable names carry the scorer's prefix so two scorers can live side by side.
 *
 * The text encoder is a bag of words: the world's prompts have a fixed grammar in which every
 * attribute word appears once, so word order carries no extra information. The image tower keeps
 * an 8×8 spatial map before its MLP so that position and shape survive, and adds each stage's
 * global mean so that full-resolution statistics (colour, noise, edge sharpness, clutter) reach
 * the head. (In short runs, a 4×4 map without the global means, and per-channel spatial moments
 * instead of the map, both did worse on held-out pairs.)
 *
 * This file holds the network and its scoring; its training is in scorerTraining.ts, its file
 * format (model.safetensors + config.json) in scorerFile.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { conv2dSame, matMulFast, type Params } from '../model/layers';
import { Rng } from '../rng';

export type { Params };

/**
 * The scorer's architecture, the one schema that config.json is checked against and `ScorerConfig`
 * is derived from.
 */
export const scorerConfigSchema = z.object({
  /** Vocabulary size of the world's tokenizer (token 0 = PAD is ignored). */
  vocabSize: z.number().int().positive(),
  /** Tokens per prompt (the world's MAX_TOKENS). */
  maxTokens: z.number().int().positive(),
  /** Image side (32); must be divisible by 2^(channels.length − 1). */
  imageSize: z.number().int().positive(),
  /**
   * Output channels of the conv stages; each stage is conv3×3 + ReLU, followed by 2×2 mean pooling
   * except the last, whose map (imageSize / 2^(stages−1) per side) is flattened.
   */
  channels: z.array(z.number().int().positive()).min(1),
  /** Width of the image head's hidden layer (features → hidden → embedding). */
  imageHidden: z.number().int().positive(),
  /** Width of the word embeddings and of the text MLP's hidden layer. */
  textHidden: z.number().int().positive(),
  /** Dimension of the shared, normalised embedding space. */
  embedDim: z.number().int().positive(),
  /** Score = logitScale × cosine (PickScore's CLIP logit scale, 100). */
  logitScale: z.number().positive(),
});
export type ScorerConfig = z.infer<typeof scorerConfigSchema>;

export function defaultScorerConfig(vocabSize: number, maxTokens: number): ScorerConfig {
  return { vocabSize, maxTokens, imageSize: 32, channels: [16, 32, 64], imageHidden: 256, textHidden: 128, embedDim: 128, logitScale: 100 };
}

export interface Scorer {
  /** Short label, e.g. 'pickscore-mini'. */
  name: string;
  /** Prefix of the global tf.Variable names (unique per live scorer). */
  prefix: string;
  config: ScorerConfig;
  params: Params;
  /** What the shipped config.json recorded about its training (absent for a fresh scorer). */
  trained?: ScorerTrainingRecord;
}

/** The training facts a shipped scorer carries with it, so results can say which scorer made them. */
export interface ScorerTrainingRecord {
  testAccuracy?: number;
  ceiling?: number;
  testPairs?: number;
  trainPairs?: number;
  seed?: number;
  steps?: number;
}

/** One line naming a scorer and its recorded held-out accuracy, e.g. for run metadata. */
export function describeScorer(s: Scorer): string {
  const t = s.trained;
  if (!t || t.testAccuracy === undefined) return `${s.name} (untrained or unrecorded)`;
  const ceil = t.ceiling !== undefined ? ` vs ceiling ${(100 * t.ceiling).toFixed(1)}%` : '';
  const int = (v: number | undefined) => (v === undefined ? '?' : v.toLocaleString('en-US'));
  const n = t.testPairs !== undefined ? ` on ${int(t.testPairs)} pairs` : '';
  return `${s.name} (held-out ${(100 * t.testAccuracy).toFixed(1)}%${ceil}${n}; ${int(t.trainPairs)} training pairs, seed ${t.seed ?? '?'})`;
}

/** Shapes of every parameter, in a fixed order (used by init, save and load checks). */
export function scorerParamShapes(cfg: ScorerConfig): Array<[string, number[]]> {
  validateConfig(cfg);
  const shapes: Array<[string, number[]]> = [];
  let cin = 3;
  cfg.channels.forEach((c, i) => {
    shapes.push([`img/conv${i + 1}/w`, [3, 3, cin, c]], [`img/conv${i + 1}/b`, [c]]);
    cin = c;
  });
  shapes.push(['img/fc/w', [imageFeatureSize(cfg), cfg.imageHidden]], ['img/fc/b', [cfg.imageHidden]]);
  shapes.push(['img/proj/w', [cfg.imageHidden, cfg.embedDim]], ['img/proj/b', [cfg.embedDim]]);
  shapes.push(['txt/emb', [cfg.vocabSize, cfg.textHidden]], ['txt/b0', [cfg.textHidden]]);
  shapes.push(['txt/fc1/w', [cfg.textHidden, cfg.textHidden]], ['txt/fc1/b', [cfg.textHidden]]);
  shapes.push(['txt/proj/w', [cfg.textHidden, cfg.embedDim]], ['txt/proj/b', [cfg.embedDim]]);
  return shapes;
}

/** Image features: the last stage's map flattened, plus every stage's global mean (multi-scale statistics). */
function imageFeatureSize(cfg: ScorerConfig): number {
  const side = cfg.imageSize >> (cfg.channels.length - 1);
  const last = cfg.channels[cfg.channels.length - 1];
  return side * side * last + cfg.channels.reduce((a, b) => a + b, 0);
}

function validateConfig(cfg: ScorerConfig): void {
  const ints: Array<keyof ScorerConfig> = ['vocabSize', 'maxTokens', 'imageSize', 'imageHidden', 'textHidden', 'embedDim'];
  for (const k of ints) {
    const v = cfg[k] as number;
    if (!Number.isInteger(v) || v <= 0) throw new Error(`ScorerConfig.${k} must be a positive integer, got ${v}`);
  }
  if (!Array.isArray(cfg.channels) || cfg.channels.length === 0 || cfg.channels.some((c) => !Number.isInteger(c) || c <= 0)) {
    throw new Error(`ScorerConfig.channels must be a non-empty list of positive integers, got ${JSON.stringify(cfg.channels)}`);
  }
  if (cfg.imageSize % (1 << (cfg.channels.length - 1)) !== 0) {
    throw new Error(`ScorerConfig.imageSize ${cfg.imageSize} is not divisible by 2^${cfg.channels.length - 1} (one pooling between conv stages)`);
  }
  if (!(cfg.logitScale > 0)) throw new Error(`ScorerConfig.logitScale must be > 0, got ${cfg.logitScale}`);
}

/** He-normal weights (fan-in), zero biases, drawn from `seed` (reproducible, no tf.random). */
export function initScorer(name: string, prefix: string, cfg: ScorerConfig, seed: number): Scorer {
  const rng = new Rng(seed).fork('scorer-init');
  const params: Params = {};
  for (const [key, shape] of scorerParamShapes(cfg)) {
    const size = shape.reduce((a, b) => a * b, 1);
    let values: Float32Array;
    if (shape.length === 1) {
      values = new Float32Array(size);
    } else {
      const fanIn = key === 'txt/emb' ? 1 : shape.slice(0, -1).reduce((a, b) => a * b, 1);
      const std = key === 'txt/emb' ? 0.5 : Math.sqrt(2 / fanIn);
      values = rng.fork(key).normals(size).map((v) => v * std);
    }
    const init = tf.tensor(values, shape);
    params[key] = tf.variable(init, true, `${prefix}/${key}`); // the variable keeps the data
    init.dispose();
  }
  return { name, prefix, config: { ...cfg, channels: [...cfg.channels] }, params };
}

export function disposeScorer(s: Scorer): void {
  for (const v of Object.values(s.params)) v.dispose();
}

function l2normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.div(x, tf.sqrt(tf.add(tf.sum(tf.square(x), 1, true), 1e-8)));
}

/**
 * Image tower: [B,32,32,3] in [-1,1] → unit vectors [B,D]. The features are the last stage's
 * spatial map (where things are) plus the global mean of every stage (what is there: colours,
 * edge and noise statistics at full resolution), then a hidden ReLU layer and a projection.
 */
export function imageEmbed(p: Params, cfg: ScorerConfig, images: tf.Tensor4D): tf.Tensor2D {
  let h: tf.Tensor4D = images;
  const feats: tf.Tensor2D[] = [];
  cfg.channels.forEach((_, i) => {
    if (i > 0) {
      const [b, hh, ww, cc] = h.shape;
      h = tf.mean(tf.reshape(h, [b, hh / 2, 2, ww / 2, 2, cc]), [2, 4]) as tf.Tensor4D; // [B,H/2,W/2,C]
    }
    h = tf.relu(tf.add(conv2dSame(h, p[`img/conv${i + 1}/w`] as tf.Tensor4D), p[`img/conv${i + 1}/b`])) as tf.Tensor4D; // [B,H,W,c]
    feats.push(tf.mean(h, [1, 2]) as tf.Tensor2D); // [B,c]
  });
  feats.unshift(tf.reshape(h, [h.shape[0], -1]) as tf.Tensor2D); // [B, s·s·C]
  const x = tf.concat(feats, 1); // [B, F]
  const hidden = tf.relu(tf.add(matMulFast(x, p['img/fc/w']), p['img/fc/b'])) as tf.Tensor2D; // [B,hidden]
  return l2normalize(tf.add(matMulFast(hidden, p['img/proj/w']), p['img/proj/b']) as tf.Tensor2D);
}

/** Bag of words: int tokens [B,L] (0 = PAD) → mean one-hot [B,V] (a float tensor, no gradient needed). */
export function bagOfWords(tokens: tf.Tensor2D, vocabSize: number): tf.Tensor2D {
  return tf.tidy(() => {
    const oneHot = tf.oneHot(tf.cast(tokens, 'int32'), vocabSize).toFloat(); // [B,L,V]
    const notPad = tf.cast(tf.notEqual(tokens, 0), 'float32'); // [B,L]
    const counts = tf.sum(tf.mul(oneHot, tf.expandDims(notPad, 2)), 1); // [B,V]
    return tf.div(counts, tf.maximum(tf.sum(notPad, 1, true), 1)) as tf.Tensor2D;
  });
}

/** Text tower: int tokens [B,L] → unit vectors [B,D]. */
export function textEmbed(p: Params, cfg: ScorerConfig, tokens: tf.Tensor2D): tf.Tensor2D {
  const bow = bagOfWords(tokens, cfg.vocabSize); // [B,V]
  const e = tf.relu(tf.add(matMulFast(bow, p['txt/emb']), p['txt/b0'])); // [B,H]
  const h = tf.relu(tf.add(matMulFast(e, p['txt/fc1/w']), p['txt/fc1/b'])); // [B,H]
  return l2normalize(tf.add(matMulFast(tf.add(h, e), p['txt/proj/w']), p['txt/proj/b']) as tf.Tensor2D); // residual
}

/** Scores [B] = logitScale · cos(image, text), on PickScore's ≈100×cosine scale. */
export function scoreTensors(s: Scorer, images: tf.Tensor4D, tokens: tf.Tensor2D): tf.Tensor1D {
  const img = imageEmbed(s.params, s.config, images);
  const txt = textEmbed(s.params, s.config, tokens);
  return tf.mul(tf.sum(tf.mul(img, txt), 1), s.config.logitScale) as tf.Tensor1D;
}

const IMG_LEN = (n: number) => n * n * 3;

function stackImages(images: Float32Array[], size: number): tf.Tensor4D {
  const len = IMG_LEN(size);
  const buf = new Float32Array(images.length * len);
  images.forEach((im, i) => {
    if (im.length !== len) throw new Error(`scorer: image ${i} has ${im.length} values, expected ${len} (${size}×${size}×3)`);
    buf.set(im, i * len);
  });
  return tf.tensor4d(buf, [images.length, size, size, 3]);
}

/** Token rows [n][L] → an int32 tensor [n,L] (checks each row's length). */
export function stackTokens(tokens: Int32Array[], maxTokens: number): tf.Tensor2D {
  const buf = new Int32Array(tokens.length * maxTokens);
  tokens.forEach((t, i) => {
    if (t.length !== maxTokens) throw new Error(`scorer: token row ${i} has length ${t.length}, expected ${maxTokens}`);
    buf.set(t, i * maxTokens);
  });
  return tf.tensor2d(buf, [tokens.length, maxTokens], 'int32');
}

/**
 * Scores images against their prompts' tokens, in batches of `batchSize` (fixed batch shapes:
 * the last batch is padded, so GPU buffers are reused). Returns one score per image.
 */
export async function scoreImages(s: Scorer, tokens: Int32Array[], images: Float32Array[], batchSize = 64): Promise<Float32Array> {
  if (tokens.length !== images.length) throw new Error(`scoreImages: ${tokens.length} token rows but ${images.length} images`);
  const n = images.length;
  const out = new Float32Array(n);
  for (let start = 0; start < n; start += batchSize) {
    const idx = Array.from({ length: batchSize }, (_, k) => Math.min(start + k, n - 1)); // pad with the last item
    const scores = tf.tidy(() =>
      scoreTensors(s, stackImages(idx.map((i) => images[i]), s.config.imageSize), stackTokens(idx.map((i) => tokens[i]), s.config.maxTokens)),
    );
    const vals = await scores.data();
    scores.dispose();
    for (let k = 0; k < batchSize && start + k < n; k++) out[start + k] = vals[k];
  }
  return out;
}

/** One training example: the prompt's tokens and the rater's winner and loser. */
export interface ScorerPair {
  tokens: Int32Array;
  winner: Float32Array;
  loser: Float32Array;
}

/** The scores of every pair's winner and loser against its prompt. */
export async function scorePairs(s: Scorer, pairs: ScorerPair[], batchSize = 64): Promise<{ sw: Float32Array; sl: Float32Array }> {
  const toks = pairs.map((p) => p.tokens);
  const sw = await scoreImages(s, toks, pairs.map((p) => p.winner), batchSize);
  const sl = await scoreImages(s, toks, pairs.map((p) => p.loser), batchSize);
  return { sw, sl };
}

/** Share of pairs the scorer orders like the rater (ties count half). */
export async function pairAccuracy(s: Scorer, pairs: ScorerPair[], batchSize = 64): Promise<number> {
  if (pairs.length === 0) throw new Error('pairAccuracy: no pairs');
  const { sw, sl } = await scorePairs(s, pairs, batchSize);
  let right = 0;
  for (let i = 0; i < pairs.length; i++) right += sw[i] > sl[i] ? 1 : sw[i] === sl[i] ? 0.5 : 0;
  return right / pairs.length;
}
