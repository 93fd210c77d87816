/**
 * Text → image with a ReducedSD: encode the prompts, run guided DDIM from seeded noise, decode.
 * The initial noise of image i is `new Rng(seed).fork('noise/' + i).normals(8·8·4)`: the same for
 * every model, every backend and every batch size, so evaluations compare models on equal noise.
 *
 * `sampleImages` / `sampleImagesAsync` sample a prompt set in batches; `sampleWithPreviews` samples
 * one image step by step with decoded previews (the Model view).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { decodeLatents, encodeText, tokensTensor, uncondContext, unetForward, type ReducedSD } from '../model/sd';
import { ddimSample, ddimSteps } from './ddim';
import { scheduleFor } from './schedule';

export interface SampleOptions {
  seed: number;
  steps: number;
  guidance: number;
  /** Images per forward (the sampler runs 2× this through the UNet with guidance). Default 64. */
  batchSize?: number;
  /** Index of the first image (for noise), when a caller splits a set into several calls. */
  offset?: number;
}

/** The seeded initial latents for images offset … offset+n−1, as one Float32Array (n·8·8·4). */
export function initialNoise(seed: number, n: number, latentLen: number, offset = 0): Float32Array {
  const out = new Float32Array(n * latentLen);
  const rng = new Rng(seed);
  for (let i = 0; i < n; i++) out.set(rng.fork(`noise/${offset + i}`).normals(latentLen), i * latentLen);
  return out;
}

/** One batch of guided DDIM samples, decoded: a [n,32,32,3] tensor in [-1, 1] the caller reads and disposes. */
function sampleBatch(model: ReducedSD, rows: Int32Array[], o: SampleOptions, first: number, uncond: tf.Tensor3D): tf.Tensor4D {
  const { unet: ucfg, text: tcfg } = model.config;
  const S = ucfg.latentSize, C = ucfg.latentChannels;
  const n = rows.length;
  return tf.tidy(() => {
    const ctx = encodeText(model.text, tcfg, tokensTensor(rows, tcfg.maxTokens));
    const noise = tf.tensor4d(initialNoise(o.seed, n, S * S * C, first), [n, S, S, C]);
    const z0 = ddimSample({
      eps: (z, t, c) => unetForward(model.unet, ucfg, z, t, c),
      ctx,
      uncondCtx: uncond,
      noise,
      steps: o.steps,
      guidance: o.guidance,
      schedule: scheduleFor(ucfg),
    });
    return tf.clipByValue(decodeLatents(model, z0), -1, 1);
  });
}

/**
 * The batches of `tokens`, each as its decoded image tensor [n,32,32,3] and row count. The caller
 * reads and disposes each tensor; the shared unconditional context is freed when the loop ends
 * (a for-of loop closes the generator on break or throw too).
 */
function* imageBatches(model: ReducedSD, tokens: Int32Array[], o: SampleOptions): Generator<{ img: tf.Tensor4D; n: number }> {
  const bs = o.batchSize ?? 64;
  const uncond = uncondContext(model.text, model.config.text, 1);
  try {
    for (let start = 0; start < tokens.length; start += bs) {
      const rows = tokens.slice(start, start + bs);
      yield { img: sampleBatch(model, rows, o, (o.offset ?? 0) + start, uncond), n: rows.length };
    }
  } finally {
    uncond.dispose();
  }
}

/** Appends the n images packed in `data` (n·32·32·3) to `out`, one Float32Array each. */
function splitImages(data: Float32Array, n: number, out: Float32Array[]): void {
  const per = data.length / n;
  for (let i = 0; i < n; i++) out.push(data.slice(i * per, (i + 1) * per));
}

/**
 * Samples one image per token row. Returns HWC Float32Arrays (32·32·3) in [-1, 1]. Synchronous
 * read-back: fine on CPU/WASM (Node scripts, tests); on WebGPU use `sampleImagesAsync`.
 */
export function sampleImages(model: ReducedSD, tokens: Int32Array[], o: SampleOptions): Float32Array[] {
  const out: Float32Array[] = [];
  for (const { img, n } of imageBatches(model, tokens, o)) {
    const data = img.dataSync() as Float32Array;
    img.dispose();
    splitImages(data, n, out);
  }
  return out;
}

/**
 * `sampleImages` with an asynchronous read-back (`await data()`), for the worker and the runner:
 * a synchronous read on the software WebGPU adapter of headless Chromium returns zeros and
 * destroys the device (measured).
 */
export async function sampleImagesAsync(
  model: ReducedSD,
  tokens: Int32Array[],
  o: SampleOptions,
  /** Awaited after every batch with the images made so far (the caller may post progress, yield, or throw to stop; everything is freed). */
  onBatch?: (done: number, total: number) => void | Promise<void>,
): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const { img, n } of imageBatches(model, tokens, o)) {
    try {
      splitImages((await img.data()) as Float32Array, n, out);
    } finally {
      img.dispose();
    }
    if (onBatch) await onBatch(out.length, tokens.length);
  }
  return out;
}

/** One DDIM step of `sampleWithPreviews`: its number (1-based) of `total`, and a decoded preview at the preview cadence. */
export interface SampleStep {
  step: number;
  total: number;
  /** The current latent decoded to an image (HWC, [-1, 1]); only every `previewEvery` steps and at step 1, never at the last. */
  preview?: Float32Array;
}

/** Decodes latents [1,S,S,C] to one image in [-1, 1], read back asynchronously. */
async function decodeOne(model: ReducedSD, z: tf.Tensor4D): Promise<Float32Array> {
  const img = tf.tidy(() => tf.clipByValue(decodeLatents(model, z), -1, 1));
  try {
    return (await img.data()) as Float32Array;
  } finally {
    img.dispose();
  }
}

/**
 * One image for a token row, guided DDIM step by step (ddim.ts's `ddimSteps`), from the same noise
 * as image 0 of `sampleImages` with this seed. `onStep` is awaited after every step, the last
 * included (the caller may post progress, yield to its message loop, or throw to stop; everything
 * is freed either way). Returns the final decoded image.
 */
export async function sampleWithPreviews(
  model: ReducedSD,
  tokens: Int32Array,
  o: { seed: number; steps: number; guidance: number; previewEvery?: number },
  onStep: (s: SampleStep) => void | Promise<void>,
): Promise<Float32Array> {
  const { unet: ucfg, text: tcfg } = model.config;
  const S = ucfg.latentSize, C = ucfg.latentChannels;
  // Decoding a preview costs ~30% of a guided UNet step (measured, WASM): about 10 previews per run.
  const every = o.previewEvery ?? Math.max(1, Math.round(o.steps / 10));

  const ctx = tf.tidy(() => encodeText(model.text, tcfg, tokensTensor([tokens], tcfg.maxTokens)));
  const uncond = uncondContext(model.text, tcfg, 1);
  const noise = tf.tensor4d(initialNoise(o.seed, 1, S * S * C, 0), [1, S, S, C]); // same noise as sampleImages/evaluateModel
  const it = ddimSteps({ eps: (z, t, c) => unetForward(model.unet, ucfg, z, t, c), ctx, uncondCtx: uncond, noise, steps: o.steps, guidance: o.guidance, schedule: scheduleFor(ucfg) });
  try {
    for (;;) {
      const r = it.next();
      if (r.done) {
        const image = await decodeOne(model, r.value);
        r.value.dispose();
        return image;
      }
      const { step, total, z } = r.value;
      const last = step === total;
      const preview = !last && (step % every === 0 || step === 1) ? await decodeOne(model, z) : undefined;
      await onStep({ step, total, preview });
    }
  } finally {
    it.return(undefined as never);
    ctx.dispose();
    uncond.dispose();
    noise.dispose();
  }
}
