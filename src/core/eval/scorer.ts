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
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { loadSafetensors, saveSafetensors, type TensorEntry } from '../model/checkpoint';
import { conv2dSame, matMulFast, type Params } from '../model/layers';
import { Rng } from '../rng';

export type { Params };

export interface ScorerConfig {
  /** Vocabulary size of the world's tokenizer (token 0 = PAD is ignored). */
  vocabSize: number;
  /** Tokens per prompt (the world's MAX_TOKENS). */
  maxTokens: number;
  /** Image side (32); must be divisible by 2^channels.length. */
  imageSize: number;
  /**
   * Output channels of the conv stages; each stage is conv3×3 + ReLU, followed by 2×2 mean pooling
   * except the last, whose map (imageSize / 2^(stages−1) per side) is flattened.
   */
  channels: number[];
  /** Width of the image head's hidden layer (features → hidden → embedding). */
  imageHidden: number;
  /** Width of the word embeddings and of the text MLP's hidden layer. */
  textHidden: number;
  /** Dimension of the shared, normalised embedding space. */
  embedDim: number;
  /** Score = logitScale × cosine (PickScore's CLIP logit scale, 100). */
  logitScale: number;
}

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

/** Bradley–Terry loss: mean softplus(s_l − s_w) = −log softmax([s_w, s_l])[0]. */
export function bradleyTerryLoss(sW: tf.Tensor1D, sL: tf.Tensor1D): tf.Scalar {
  return tf.mean(tf.softplus(tf.sub(sL, sW))) as tf.Scalar;
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

function stackTokens(tokens: Int32Array[], maxTokens: number): tf.Tensor2D {
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

export interface TrainScorerOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  /** Shuffling and augmentation seed. */
  seed: number;
  /** Std of Gaussian pixel noise added to both images of a pair (0 = none). */
  augmentNoise?: number;
  /**
   * Mirror augmentation: with probability ½ per pair, flip both images left↔right and map the
   * prompt's tokens through `mirrorTokens` (token id → id of the mirrored word, e.g. left↔right).
   * Exact when the preference is mirror-symmetric (in Pick-a-Shape every shape is).
   */
  mirrorTokens?: Int32Array;
  /** 'cosine' (default): 3% linear warm-up, then cosine decay to lr/20; 'constant'. */
  schedule?: 'cosine' | 'constant';
  /** Held-out pairs, evaluated after each epoch (optional). */
  validation?: ScorerPair[];
  onEpoch?: (info: { epoch: number; step: number; loss: number; trainAcc: number; valAcc?: number; seconds: number }) => void;
  /** Stop early when this returns true (checked between batches). */
  shouldStop?: () => boolean;
}

export interface TrainScorerResult {
  steps: number;
  finalLoss: number;
  seconds: number;
  history: Array<{ epoch: number; loss: number; trainAcc: number; valAcc?: number }>;
}

/** Learning rate at step `step` (0-based) of `total`. */
export function learningRateAt(step: number, total: number, lr: number, schedule: 'cosine' | 'constant'): number {
  if (schedule === 'constant' || total <= 1) return lr;
  const warm = Math.max(1, Math.round(0.03 * total));
  if (step < warm) return (lr * (step + 1)) / warm;
  const t = Math.min(1, (step - warm) / Math.max(1, total - warm - 1));
  return lr * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * t)));
}

/** Flips an HWC image left↔right. */
export function mirrorImage(im: Float32Array, size: number): Float32Array {
  const out = new Float32Array(im.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const src = (y * size + x) * 3, dst = (y * size + (size - 1 - x)) * 3;
      out[dst] = im[src];
      out[dst + 1] = im[src + 1];
      out[dst + 2] = im[src + 2];
    }
  }
  return out;
}

function mirrorPair(p: ScorerPair, map: Int32Array, size: number): ScorerPair {
  return { tokens: p.tokens.map((t) => map[t]), winner: mirrorImage(p.winner, size), loser: mirrorImage(p.loser, size) };
}

/**
 * Adam on the Bradley–Terry loss. Deterministic for a given seed and backend: the data order
 * and the augmentation noise come from `Rng`. Full batches only (the remainder of an epoch's
 * shuffle is dropped), so every step has the same shapes.
 */
export async function trainScorer(s: Scorer, pairs: ScorerPair[], opts: TrainScorerOptions): Promise<TrainScorerResult> {
  const { epochs, batchSize, lr } = opts;
  if (pairs.length < batchSize) throw new Error(`trainScorer: ${pairs.length} pairs is fewer than one batch of ${batchSize}`);
  const vars = scorerParamShapes(s.config).map(([k]) => s.params[k]); // fixed order for Adam's slots
  const opt = tf.train.adam(lr);
  const stepsPerEpoch = Math.floor(pairs.length / batchSize);
  const totalSteps = epochs * stepsPerEpoch;
  const rng = new Rng(opts.seed).fork('scorer-train');
  const imgLen = IMG_LEN(s.config.imageSize);
  const t0 = Date.now();
  const history: TrainScorerResult['history'] = [];
  let steps = 0;
  let lastLoss = NaN;
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const order = rng.fork(`epoch${epoch}`).shuffle(pairs.map((_, i) => i));
      const noiseRng = rng.fork(`noise${epoch}`);
      const augRng = rng.fork(`mirror${epoch}`);
      let lossSum = 0;
      let accSum = 0;
      let batches = 0;
      for (let b = 0; b + batchSize <= order.length; b += batchSize) {
        if (opts.shouldStop?.()) break;
        const batch = order.slice(b, b + batchSize).map((i) => (opts.mirrorTokens && augRng.bool() ? mirrorPair(pairs[i], opts.mirrorTokens, s.config.imageSize) : pairs[i]));
        // Both halves in one forward: [winners; losers].
        const imgs = new Float32Array(2 * batchSize * imgLen);
        batch.forEach((p, i) => {
          imgs.set(p.winner, i * imgLen);
          imgs.set(p.loser, (batchSize + i) * imgLen);
        });
        if (opts.augmentNoise) {
          const noise = noiseRng.normals(imgs.length);
          for (let i = 0; i < imgs.length; i++) imgs[i] = Math.max(-1, Math.min(1, imgs[i] + opts.augmentNoise * noise[i]));
        }
        const toks = batch.map((p) => p.tokens);
        // One forward over both halves, [winners; losers], then one Adam step.
        const [lossT, accT] = tf.tidy(() => {
          const x = tf.tensor4d(imgs, [2 * batchSize, s.config.imageSize, s.config.imageSize, 3]);
          const t = stackTokens([...toks, ...toks], s.config.maxTokens);
          let acc: tf.Scalar | null = null;
          const { value, grads } = tf.variableGrads(() => {
            const sc = scoreTensors(s, x, t); // [2B]
            const sW = tf.slice(sc, 0, batchSize) as tf.Tensor1D;
            const sL = tf.slice(sc, batchSize, batchSize) as tf.Tensor1D;
            acc = tf.keep(tf.mean(tf.cast(tf.greater(sW, sL), 'float32')) as tf.Scalar);
            return bradleyTerryLoss(sW, sL);
          }, vars);
          // tfjs's Adam reads its learningRate field at every step, so the schedule can set it.
          (opt as unknown as { learningRate: number }).learningRate = learningRateAt(steps, totalSteps, lr, opts.schedule ?? 'cosine');
          opt.applyGradients(vars.map((v) => ({ name: v.name, tensor: grads[v.name] }))); // fixed order
          return [value, acc!] as [tf.Scalar, tf.Scalar];
        });
        const [lossV, accV] = await Promise.all([lossT.data(), accT.data()]);
        lossT.dispose();
        accT.dispose();
        lossSum += lossV[0];
        accSum += accV[0];
        steps++;
        batches++;
      }
      lastLoss = lossSum / Math.max(1, batches);
      const valAcc = opts.validation ? await pairAccuracy(s, opts.validation) : undefined;
      history.push({ epoch, loss: lastLoss, trainAcc: accSum / Math.max(1, batches), valAcc });
      opts.onEpoch?.({ epoch, step: steps, loss: lastLoss, trainAcc: accSum / Math.max(1, batches), valAcc, seconds: (Date.now() - t0) / 1000 });
      if (!Number.isFinite(lastLoss)) throw new Error(`trainScorer: loss became ${lastLoss} in epoch ${epoch}; lower the learning rate`);
      if (opts.shouldStop?.()) break;
    }
  } finally {
    opt.dispose();
  }
  return { steps, finalLoss: lastLoss, seconds: (Date.now() - t0) / 1000, history };
}

// ---- shipping: model.safetensors + config.json ----

export const SCORER_FORMAT = 'seppo-scorer/1';

const scorerConfigSchema = z.object({
  vocabSize: z.number().int().positive(),
  maxTokens: z.number().int().positive(),
  imageSize: z.number().int().positive(),
  channels: z.array(z.number().int().positive()).min(1),
  imageHidden: z.number().int().positive(),
  textHidden: z.number().int().positive(),
  embedDim: z.number().int().positive(),
  logitScale: z.number().positive(),
});

/** config.json of a shipped scorer: the architecture (required) plus free-form training records. */
export const scorerFileSchema = z.looseObject({
  format: z.literal(SCORER_FORMAT),
  name: z.string().min(1),
  config: scorerConfigSchema,
  /** The tokenizer's vocabulary the weights were trained with (token ids are baked in). */
  vocab: z.array(z.string()),
});
export type ScorerFileJson = z.infer<typeof scorerFileSchema> & Record<string, unknown>;

/** The weights as safetensors (local names: `img/…`, `txt/…`) and config.json (with `extra` records). */
export function serializeScorer(s: Scorer, vocab: readonly string[], extra: Record<string, unknown> = {}): { safetensors: Uint8Array; config: ScorerFileJson } {
  if (vocab.length !== s.config.vocabSize) throw new Error(`serializeScorer: vocabulary has ${vocab.length} words, the scorer ${s.config.vocabSize}`);
  const tensors = new Map<string, TensorEntry>();
  for (const [key] of scorerParamShapes(s.config)) {
    const v = s.params[key];
    tensors.set(key, { shape: v.shape.slice(), data: v.dataSync() as Float32Array });
  }
  const config: ScorerFileJson = { ...extra, format: SCORER_FORMAT, name: s.name, config: s.config, vocab: [...vocab] };
  return { safetensors: saveSafetensors(tensors, { format: SCORER_FORMAT, name: s.name }), config };
}

/**
 * Builds a scorer from shipped files. Checks config.json (schema, vocabulary = the world's
 * current one) and the weights (every name and shape, finite values) before creating any
 * variable; throws an Error naming the first problem.
 */
export function loadScorer(bytes: Uint8Array, configJson: unknown, prefix: string, vocab: readonly string[]): Scorer {
  const parsed = scorerFileSchema.safeParse(configJson);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`scorer config.json invalid at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const file = parsed.data;
  if (file.vocab.length !== vocab.length || file.vocab.some((w, i) => w !== vocab[i])) {
    throw new Error(`scorer ${file.name} was trained with a different vocabulary (${file.vocab.length} words) than the world's (${vocab.length}); retrain it with npm run train-scorers`);
  }
  if (file.config.vocabSize !== vocab.length) throw new Error(`scorer ${file.name}: config.vocabSize ${file.config.vocabSize} ≠ vocabulary size ${vocab.length}`);
  const cfg: ScorerConfig = file.config;
  const expected = Object.fromEntries(scorerParamShapes(cfg).map(([k, shape]) => [k, { shape }]));
  let tensors: Map<string, TensorEntry>;
  try {
    tensors = loadSafetensors(bytes, expected);
  } catch (e) {
    throw new Error(`scorer ${file.name}: ${e instanceof Error ? e.message : String(e)}`);
  }
  for (const [name, t] of tensors) {
    const bad = t.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new Error(`scorer ${file.name}: tensor ${name} has a non-finite value at index ${bad}`);
  }
  const params: Params = {};
  for (const [key, shape] of scorerParamShapes(cfg)) {
    const init = tf.tensor(tensors.get(key)!.data, shape);
    params[key] = tf.variable(init, true, `${prefix}/${key}`); // the variable keeps the data
    init.dispose();
  }
  const rec = file as Record<string, unknown>;
  const trained: ScorerTrainingRecord = {};
  for (const k of ['testAccuracy', 'ceiling', 'testPairs', 'trainPairs', 'seed', 'steps'] as const) {
    if (typeof rec[k] === 'number' && Number.isFinite(rec[k])) trained[k] = rec[k] as number;
  }
  return { name: file.name, prefix, config: cfg, params, trained };
}
