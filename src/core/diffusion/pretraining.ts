/**
 * Pretraining "our SD-1.5" (DESIGN §3), the library behind `npm run pretrain`:
 *  - the training images (winners AND losers of the train pairs: mixed quality, SD's web data);
 *  - batches drawn by step from a seeded stream (`rng.fork(step)`), so a stopped run resumes
 *    from its checkpoint with exactly the batches it would have seen;
 *  - the learning-rate schedule (linear warm-up, cosine to 10 %);
 *  - the latent scale (SD's 0.18215, here 1 / std of the training latents);
 *  - resumable training state: weights, Adam's moments and the loop's own record in a folder;
 *  - the base-quality measurement, with the decoder's ceiling and the headroom beside it.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { GENERATORS, IMAGE_LEN, IMAGE_SIZE, RATER_POOLS, ratedPairs, promptKey, renderIdeal, renderWithGenerator, tokenize, type Dataset, type Pair, type Prompt } from '../world';
import { saveSafetensors, parseSafetensors, loadWeightsInto, serializeReducedSD, type TensorEntry } from '../model/checkpoint';
import { aeRoundTrip, meanUtility, type UtilitySummary } from '../model/reconstruction';
import { encodeImages, type ReducedSD } from '../model/sd';
import type { AEBatch, DiffusionBatch } from './train';
import { sampleImages } from './sample';
import { pairedDelta } from '../eval/intervals';

/** Learning rate at `step` of `total`: linear warm-up (min(100, total/10) steps), then cosine decay to 10 % of the peak. */
export function lrAt(step: number, total: number, peak: number): number {
  const warm = Math.min(100, Math.floor(total / 10));
  if (step < warm) return (peak * (step + 1)) / warm;
  const p = (step - warm) / Math.max(1, total - warm);
  return peak * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * p)));
}

/** The pretraining images, packed. */
export interface PretrainData {
  count: number;
  images: Float32Array; // count·IMAGE_LEN, HWC in [-1, 1]
  tokens: Int32Array; // count·maxTokens
  prompts: Prompt[];
  meanUtility: number;
}

/** Winner and loser of every pair, in pair order. */
export function pretrainingData(pairs: readonly Pair[], maxTokens: number): PretrainData {
  const count = 2 * pairs.length;
  const images = new Float32Array(count * IMAGE_LEN);
  const tokens = new Int32Array(count * maxTokens);
  const prompts: Prompt[] = [];
  let u = 0;
  pairs.forEach((p, i) => {
    images.set(p.winner, 2 * i * IMAGE_LEN);
    images.set(p.loser, (2 * i + 1) * IMAGE_LEN);
    const tok = tokenize(p.prompt);
    tokens.set(tok, 2 * i * maxTokens);
    tokens.set(tok, (2 * i + 1) * maxTokens);
    prompts.push(p.prompt, p.prompt);
    u += p.uWinner + p.uLoser;
  });
  return { count, images, tokens, prompts, meanUtility: u / count };
}

/** Extra images mixed into the autoencoder's batches: `fraction` of each batch drawn from `images` (count·IMAGE_LEN). */
export interface AEExtraImages {
  images: Float32Array;
  count: number;
  fraction: number;
}

/**
 * The autoencoder's batch of `step`: `batch` images drawn with replacement from rng.fork(step);
 * with `extra`, each image comes from extra.images with probability extra.fraction (the ideal
 * renders of the training prompts: SD's VAE, too, saw clean images beside the web's).
 */
export function aeBatchAt(data: PretrainData, rng: Rng, step: number, batch: number, extra?: AEExtraImages): AEBatch {
  const r = rng.fork(step);
  const images = new Float32Array(batch * IMAGE_LEN);
  for (let b = 0; b < batch; b++) {
    const fromExtra = extra !== undefined && extra.fraction > 0 && r.next() < extra.fraction;
    const src = fromExtra ? extra!.images : data.images;
    const k = r.int(fromExtra ? extra!.count : data.count);
    images.set(src.subarray(k * IMAGE_LEN, (k + 1) * IMAGE_LEN), b * IMAGE_LEN);
  }
  return { images, batch };
}

/** The ideal render (world/render.ts) of each distinct prompt of `prompts`, packed. */
export function idealImages(prompts: readonly Prompt[]): AEExtraImages {
  const seen = new Map<string, Prompt>();
  for (const p of prompts) seen.set(promptKey(p), p);
  const list = [...seen.values()];
  const images = new Float32Array(list.length * IMAGE_LEN);
  list.forEach((p, i) => images.set(renderIdeal(p), i * IMAGE_LEN));
  return { images, count: list.length, fraction: 0 };
}

/**
 * The UNet's batch of `step` (DDPM eq. 14): latents of random images, uniform t, fresh ε, and the
 * prompt replaced by the all-PAD (unconditional) prompt with probability `promptDropout`.
 */
export function diffusionBatchAt(data: PretrainData, latents: Float32Array, latentLen: number, maxTokens: number, T: number, rng: Rng, step: number, batch: number, promptDropout: number): DiffusionBatch {
  const r = rng.fork(step);
  const lat = new Float32Array(batch * latentLen), tokens = new Int32Array(batch * maxTokens), t = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    const k = r.int(data.count);
    lat.set(latents.subarray(k * latentLen, (k + 1) * latentLen), b * latentLen);
    if (r.next() >= promptDropout) tokens.set(data.tokens.subarray(k * maxTokens, (k + 1) * maxTokens), b * maxTokens);
    t[b] = r.int(T);
  }
  return { latents: lat, tokens, t, eps: r.normals(batch * latentLen), batch };
}

/** Unscaled latents of all images, in chunks. */
export function encodeAll(m: ReducedSD, data: PretrainData, chunk = 256): Float32Array {
  const { latentSize: h, latentChannels: c } = m.config.unet;
  const latentLen = h * h * c;
  const out = new Float32Array(data.count * latentLen);
  const unscaled = { ...m, latentScale: 1 };
  for (let s = 0; s < data.count; s += chunk) {
    const n = Math.min(chunk, data.count - s);
    const z = tf.tidy(() => encodeImages(unscaled, tf.tensor4d(data.images.subarray(s * IMAGE_LEN, (s + n) * IMAGE_LEN), [n, IMAGE_SIZE, IMAGE_SIZE, 3])));
    out.set(z.dataSync() as Float32Array, s * latentLen);
    z.dispose();
  }
  return out;
}

/** Mean and standard deviation of all values (the latent scale is 1 / std, as SD's 0.18215). */
export function meanStd(xs: Float32Array): { mean: number; std: number } {
  let mean = 0;
  for (const v of xs) mean += v;
  mean /= xs.length;
  let vs = 0;
  for (const v of xs) vs += (v - mean) ** 2;
  return { mean, std: Math.sqrt(vs / xs.length) };
}

// ---------------------------------------------------------------------------------------------
// Resumable training state: <dir>/model.safetensors + config.json (the model as it stands),
// <dir>/optimizer-<stage>.safetensors (Adam's moments and step count), <dir>/state.json (the loop's record).

export interface LoopRecord {
  step: number; // steps done
  seconds: number;
  curve: Array<[number, number]>;
}
export interface PretrainState<Extra = Record<string, unknown>> {
  /** What the run is (flags, seeds): a checkpoint resumes only the same run. */
  signature: string;
  stage: 'ae' | 'unet' | 'done';
  ae: LoopRecord;
  unet: LoopRecord;
  latentScale: number;
  extra: Extra;
}

/**
 * Adam's state as safetensors: its step count and both moments of every variable. tfjs's Adam
 * matches moments to variables by position ('iter', every first moment, every second moment, in
 * the trainer's variable order), so the order is kept in the metadata.
 */
export async function saveOptimizer(opt: tf.Optimizer): Promise<Uint8Array> {
  const weights = await opt.getWeights();
  const map = new Map<string, TensorEntry>();
  for (const w of weights) {
    map.set(w.name, { shape: w.tensor.shape.slice(), data: Float32Array.from(await w.tensor.data()) });
    if (w.name === 'iter') w.tensor.dispose(); // a fresh scalar made by getWeights
  }
  if (map.size !== weights.length) throw new Error('saveOptimizer: the optimizer has two weights of one name');
  // Adam's running β₁ᵗ and β₂ᵗ: setWeights recomputes them with pow(), which rounds differently
  // from the step-by-step products; saving them makes a resumed run bit-identical.
  const acc = adamAccumulators(opt);
  if (acc) for (const [k, v] of Object.entries(acc)) map.set(`__${k}`, { shape: [], data: Float32Array.from(await v.data()) });
  return saveSafetensors(map, { format: 'seppo-optimizer/1', order: JSON.stringify(weights.map((w) => w.name)) });
}

/** Restores what saveOptimizer wrote (the optimizer must be of the same trainer). */
export async function loadOptimizer(opt: tf.Optimizer, bytes: Uint8Array): Promise<void> {
  const { tensors, metadata } = parseSafetensors(bytes);
  const order = JSON.parse(metadata.order ?? '[]') as string[];
  if (order.length !== [...tensors.keys()].filter((k) => !k.startsWith('__')).length || order[0] !== 'iter' || order.some((n) => !tensors.has(n))) {
    throw new Error(`optimizer checkpoint is not a saved Adam state (${tensors.size} tensors, order of ${order.length})`);
  }
  const weights = order.map((name) => ({ name, tensor: tf.tensor(tensors.get(name)!.data, tensors.get(name)!.shape) }));
  await opt.setWeights(weights); // copies into new variables
  tf.dispose(weights.map((w) => w.tensor));
  const acc = adamAccumulators(opt);
  for (const k of ['accBeta1', 'accBeta2'] as const) {
    const saved = tensors.get(`__${k}`);
    if (acc && saved) acc[k].assign(tf.scalar(saved.data[0]));
  }
}

/** tfjs's Adam keeps β₁ᵗ, β₂ᵗ in two private variables (adam_optimizer.ts); null for another optimizer. */
function adamAccumulators(opt: tf.Optimizer): { accBeta1: tf.Variable; accBeta2: tf.Variable } | null {
  const o = opt as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
  return o.accBeta1 instanceof tf.Variable && o.accBeta2 instanceof tf.Variable ? { accBeta1: o.accBeta1, accBeta2: o.accBeta2 } : null;
}

/** Adam's state of a stage (each stage has its own optimizer). */
export const optimizerFile = (stage: PretrainState['stage']) => `optimizer-${stage}.safetensors`;

/** The files of a resumable checkpoint (write them with `writeCheckpointFiles` order: state.json last). */
export async function checkpointFiles(m: ReducedSD, opt: tf.Optimizer | null, state: PretrainState): Promise<Array<[string, Uint8Array | string]>> {
  const { safetensors, config } = serializeReducedSD(m, { checkpointOf: 'npm run pretrain', stage: state.stage });
  const files: Array<[string, Uint8Array | string]> = [
    ['model.safetensors', safetensors],
    ['config.json', JSON.stringify(config, null, 2) + '\n'],
  ];
  if (opt) files.push([optimizerFile(state.stage), await saveOptimizer(opt)]);
  files.push(['state.json', JSON.stringify(state, null, 2) + '\n']); // last: the state names a complete checkpoint
  return files;
}

/** Parses a saved state; null when there is none; an error when it belongs to another run. */
export function parseState(json: string | null, signature: string, where: string): PretrainState | null {
  if (json === null) return null;
  const state = JSON.parse(json) as PretrainState;
  if (state.signature !== signature) {
    throw new Error(`checkpoint ${where} belongs to another run:\n  saved:    ${state.signature}\n  this run: ${signature}\nuse another --ckpt folder or delete it`);
  }
  return state;
}

/** Restores weights, latent scale and (when saved) Adam's moments from a checkpoint's files. */
export async function restoreCheckpoint(m: ReducedSD, opt: tf.Optimizer | null, state: PretrainState, modelBytes: Uint8Array, optimizerBytes: Uint8Array | null): Promise<void> {
  loadWeightsInto(m, modelBytes);
  m.latentScale = state.latentScale;
  if (opt && optimizerBytes) await loadOptimizer(opt, optimizerBytes);
}

// ---------------------------------------------------------------------------------------------
// Base quality, with the decoder's ceiling and the headroom.

export interface BaseQualityOptions {
  guidances: number[];
  sampleSteps: number;
  /** Prompts the guidance is chosen on (never the evaluation prompts). */
  selectionPrompts: Prompt[];
  selectionSeed?: number;
  evalSeed?: number;
  log?: (msg: string) => void;
}

/**
 * The base's mean true utility on validationUnique (DDIM, fixed noise), next to the generators'
 * own renders of the same prompts, and next to the decoder's ceiling: the winner of one rated pair
 * per evaluation prompt (pool A), before and after encode → decode. headroom = reconstructed
 * winners − base samples: how far alignment can move the base on these prompts.
 */
export function measureBaseQuality(m: ReducedSD, ds: Dataset, o: BaseQualityOptions) {
  const log = o.log ?? (() => {});
  const evalSeed = o.evalSeed ?? 1234, selSeed = o.selectionSeed ?? 99;
  const valPrompts = ds.validationUnique;
  const selection: Record<string, number> = {};
  for (const g of o.guidances) {
    const imgs = sampleImages(m, o.selectionPrompts.map((p) => tokenize(p)), { seed: selSeed, steps: o.sampleSteps, guidance: g });
    selection[String(g)] = meanUtility(o.selectionPrompts, imgs).total;
    log(`guidance ${g}: mean true utility ${selection[String(g)].toFixed(3)} on ${o.selectionPrompts.length} selection prompts`);
  }
  const guidance = o.guidances.reduce((best, g) => (selection[String(g)] > selection[String(best)] ? g : best), o.guidances[0]);

  const t0 = performance.now();
  const samples = sampleImages(m, valPrompts.map((p) => tokenize(p)), { seed: evalSeed, steps: o.sampleSteps, guidance });
  const samplingSeconds = (performance.now() - t0) / 1000;
  const base: UtilitySummary = meanUtility(valPrompts, samples);

  const genRng = new Rng(evalSeed).fork('generators');
  const perGen = GENERATORS.map((g, gi) => ({
    name: g.name,
    meanTrueUtility: meanUtility(valPrompts, valPrompts.map((p, i) => renderWithGenerator(p, gi, genRng.fork(`${gi}/${i}`)).image)).total,
  }));
  const genMean = perGen.reduce((a, g) => a + g.meanTrueUtility, 0) / perGen.length;

  const winRng = new Rng(evalSeed).fork('winners');
  const winners = valPrompts.map((p, i) => ratedPairs([p], 1, RATER_POOLS.A, winRng.fork(i)).pairs[0].winner);
  const winnersOriginal = meanUtility(valPrompts, winners);
  const winnersRoundTrip = aeRoundTrip(m, winners);
  const winnersReconstructed = meanUtility(valPrompts, winnersRoundTrip);
  const headroom = winnersReconstructed.total - base.total;
  // Per image, so that the headroom and any comparison of two bases carry a paired interval.
  const perImageBase = valPrompts.map((p, i) => meanUtility([p], [samples[i]]).total);
  const perImageCeiling = valPrompts.map((p, i) => meanUtility([p], [winnersRoundTrip[i]]).total); // the same round trip, not a second one
  const headroomInterval = pairedDelta(perImageCeiling, perImageBase);
  const check = baseQualityCheck(m, ds, guidance, evalSeed);
  log(
    `BASE QUALITY on ${valPrompts.length} validationUnique prompts (seed ${evalSeed}, DDIM ${o.sampleSteps}, guidance ${guidance}): ${base.total.toFixed(3)}; generators ${genMean.toFixed(3)} (ratio ${((100 * base.total) / genMean).toFixed(1)} %); ` +
      `winners ${winnersOriginal.total.toFixed(3)} → ${winnersReconstructed.total.toFixed(3)} through the autoencoder (the decoder's ceiling); headroom ${headroom.toFixed(3)} [${headroomInterval.lo.toFixed(3)}, ${headroomInterval.hi.toFixed(3)}] (target ≥ 0.15)`,
  );
  return {
    prompts: 'validationUnique',
    nPrompts: valPrompts.length,
    seed: evalSeed,
    ddimSteps: o.sampleSteps,
    guidance,
    guidanceSelection: { prompts: `${o.selectionPrompts.length} selection prompts from trainingPrompts`, seed: selSeed, meanTrueUtility: selection },
    meanTrueUtility: base.total,
    parts: base.parts,
    generators: perGen,
    generatorsMeanTrueUtility: genMean,
    ratioToGenerators: base.total / genMean,
    decoderCeiling: {
      what: 'the winner of one pool-A rated pair per evaluation prompt, before and after encode → decode',
      winnersOriginal,
      winnersReconstructed,
    },
    headroom,
    headroomInterval: { ...headroomInterval, what: 'paired Student-t 95 % interval of (reconstructed winner − base sample) over the evaluation prompts' },
    perImage: { base: perImageBase, winnersReconstructed: perImageCeiling },
    samplingSeconds,
    check,
  };
}

/**
 * A small, fast re-measurement of the base that a unit test repeats on the shipped model: the
 * first 8 validationUnique prompts, DDIM 10 steps at the chosen guidance, per-image true utility.
 */
export function baseQualityCheck(m: ReducedSD, ds: Dataset, guidance: number, seed = 1234) {
  const prompts = ds.validationUnique.slice(0, 8);
  const steps = 10;
  const imgs = sampleImages(m, prompts.map((p) => tokenize(p)), { seed, steps, guidance });
  const perImage = imgs.map((im, i) => meanUtility([prompts[i]], [im]).total);
  return { prompts: prompts.length, ddimSteps: steps, guidance, seed, perImage, meanTrueUtility: perImage.reduce((a, b) => a + b, 0) / perImage.length };
}
