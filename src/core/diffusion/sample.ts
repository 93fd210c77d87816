/**
 * Text → image with a ReducedSD: encode the prompts, run guided DDIM from seeded noise, decode.
 * The initial noise of image i is `new Rng(seed).fork('noise/' + i).normals(8·8·4)`: the same for
 * every model, every backend and every batch size, so evaluations compare models on equal noise.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { decodeLatents, encodeText, tokensTensor, uncondContext, unetForward, type ReducedSD } from '../model/sd';
import { ddimSample } from './ddim';

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
export async function sampleImagesAsync(model: ReducedSD, tokens: Int32Array[], o: SampleOptions): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  for (const { img, n } of imageBatches(model, tokens, o)) {
    try {
      splitImages((await img.data()) as Float32Array, n, out);
    } finally {
      img.dispose();
    }
  }
  return out;
}
