/**
 * On-policy reference samples x^l (paper §4.1, Algorithm 1; DESIGN §4): for the batch's prompts,
 * DDIM with classifier-free guidance from the chosen reference model θ_ref, starting from seeded
 * noise. The sampler works in the (scaled) latent space the UNet is trained in, so its output is
 * already the latent x^l the loss needs: we do not decode and re-encode it through the frozen
 * autoencoder (that round trip only projects onto the AE's manifold and costs two networks).
 *
 * Noise is keyed by the update index — `Rng(seed).fork('refnoise/<update>')` — never by arm, so
 * every arm that samples from the same reference at the same update gets the very same x^l.
 *
 * `regenerateEvery = R`: a training item's reference sample is reused for R updates (and is
 * regenerated at once when the reference model changes). With R = 1 (the default, fully on-policy)
 * a fresh batch is sampled every update and nothing is cached. With R > 1 a batch is regenerated
 * as a whole when any of its items is stale (fixed batch shape: WebGPU pools buffers by size).
 */
import * as tf from '@tensorflow/tfjs';
import { scheduleFor } from '../diffusion/schedule';
import { ddimSample } from '../diffusion/ddim';
import { unetForward, type Params, type UNetConfig } from '../model/sd';
import { Rng } from '../rng';

export interface RefSampleOptions {
  steps: number;
  guidance: number;
  regenerateEvery: number;
}

/** The seeded DDIM start noise for the reference samples of update `update`: [B,S,S,C] as a flat array. */
export function refNoise(seed: number, update: number, batch: number, latentLen: number): Float32Array {
  return new Rng(seed).fork(`refnoise/${update}`).normals(batch * latentLen);
}

/** DDIM + CFG from `refUnet` for contexts `ctx` [B,L,D]; returns latents [B,S,S,C] (caller disposes). */
export function sampleReferenceLatents(
  refUnet: Params,
  ucfg: UNetConfig,
  ctx: tf.Tensor3D,
  uncondCtx: tf.Tensor3D,
  noise: tf.Tensor4D,
  o: Pick<RefSampleOptions, 'steps' | 'guidance'>,
): tf.Tensor4D {
  return tf.tidy(() =>
    ddimSample({
      eps: (z, t, c) => unetForward(refUnet, ucfg, z, t, c),
      ctx,
      uncondCtx,
      noise,
      steps: o.steps,
      guidance: o.guidance,
      schedule: scheduleFor(ucfg),
    }),
  );
}

interface CachedItem {
  latent: Float32Array;
  update: number;
  refK: number;
}

/**
 * Per-arm cache of reference samples by training-item index, for regenerateEvery > 1. With
 * regenerateEvery = 1 it is a pass-through.
 */
export class RefSampleCache {
  private items = new Map<number, CachedItem>();

  constructor(
    readonly regenerateEvery: number,
    readonly latentShape: [number, number, number],
  ) {}

  private get latentLen(): number {
    return this.latentShape[0] * this.latentShape[1] * this.latentShape[2];
  }

  /** True when the batch needs fresh samples at `update` from reference θ_refK. */
  needsRegeneration(indices: readonly number[], update: number, refK: number): boolean {
    if (this.regenerateEvery === 1) return true;
    return indices.some((i) => {
      const c = this.items.get(i);
      return !c || c.refK !== refK || update - c.update >= this.regenerateEvery;
    });
  }

  /** Stores a freshly generated batch (values read back from the tensor). */
  async store(indices: readonly number[], latents: tf.Tensor4D, update: number, refK: number): Promise<void> {
    if (this.regenerateEvery === 1) return;
    const data = (await latents.data()) as Float32Array;
    const n = this.latentLen;
    indices.forEach((idx, j) => this.items.set(idx, { latent: data.slice(j * n, (j + 1) * n), update, refK }));
  }

  /** The cached batch as a tensor [B,S,S,C] (caller disposes). */
  batch(indices: readonly number[]): tf.Tensor4D {
    const n = this.latentLen;
    const buf = new Float32Array(indices.length * n);
    indices.forEach((idx, j) => {
      const c = this.items.get(idx);
      if (!c) throw new Error(`RefSampleCache: no sample cached for item ${idx}`);
      buf.set(c.latent, j * n);
    });
    return tf.tensor4d(buf, [indices.length, ...this.latentShape]);
  }

  clear(): void {
    this.items.clear();
  }
}
