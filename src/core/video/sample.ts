/**
 * Sampling clips from the video model: the image pipeline's DDIM with classifier-free guidance
 * (diffusion/ddim.ts: Song et al. 2021 eq. 12, Ho & Salimans 2022 eq. 6), run on the B·F frames of
 * B clips as one batch. The DDIM maths is per pixel, so it needs nothing video-specific; only the
 * noise predictor does: `videoEpsFn` turns the sampler's per-row t [B·F] and context [B·F, 2L, D]
 * back into per-clip ones (every frame of a clip carries the same t and text) for videoUnetForward.
 *
 * Noise: frame f of clip i starts from initialNoise(seed, …) row i·F + f, so clip i's noise is a
 * function of (seed, i) alone, whatever the batch size: every arm and the raw model can be sampled
 * from the same noise, which is what pairs their clips in an evaluation.
 */
import * as tf from '@tensorflow/tfjs';
import { ddimSample, type EpsFn } from '../diffusion/ddim';
import { initialNoise } from '../diffusion/sample';
import type { Schedule } from '../diffusion/schedule';
import { decodeLatents, type ReducedSD } from '../model/sd';
import { IMAGE_LEN } from '../world/render';
import { videoUnetForward, type VideoUNet } from './motion';
import { videoContext } from './train';

/** A DDIM noise predictor over clip-major frames: rows b·F … b·F+F−1 are clip b; its t and context are taken from the clip's first row. */
export function videoEpsFn(m: VideoUNet): EpsFn {
  const F = m.motionCfg.frames;
  return (z, t, ctx) =>
    tf.tidy(() => {
      const BF = z.shape[0];
      if (BF % F !== 0) throw new Error(`videoEpsFn: ${BF} latents are not whole clips of ${F} frames`);
      const first = tf.range(0, BF, F, 'int32'); // [B] each clip's first row
      return videoUnetForward(m, z, tf.gather(t, first) as tf.Tensor1D, tf.gather(ctx, first) as tf.Tensor3D);
    });
}

/** Clip i's initial latents (F frames) for clips offset … offset+n−1: initialNoise rows (offset+i)·F + f. */
export function videoNoise(seed: number, n: number, frames: number, latentLen: number, offset = 0): Float32Array {
  return initialNoise(seed, n * frames, latentLen, offset * frames);
}

export interface VideoSampleOptions {
  steps: number;
  guidance: number;
  schedule?: Schedule;
}

/**
 * B clips' latents x_0 [B·F, S, S, C] by guided DDIM from `noise` (B·F·S·S·C); `start`/`end` are the
 * clips' start- and end-prompt tokens (B·L each), the unconditional branch is all-PAD (as pretraining's
 * prompt dropout). The caller disposes the result.
 */
export function sampleVideoLatents(sd: ReducedSD, m: VideoUNet, start: Int32Array, end: Int32Array, noise: Float32Array, batch: number, o: VideoSampleOptions): tf.Tensor4D {
  const F = m.motionCfg.frames, S = m.unetCfg.latentSize, C = m.unetCfg.latentChannels, L = sd.config.text.maxTokens;
  if (start.length !== batch * L || end.length !== batch * L) throw new Error(`sampleVideoLatents: expected ${batch}×${L} start and end tokens, got ${start.length} and ${end.length}`);
  if (noise.length !== batch * F * S * S * C) throw new Error(`sampleVideoLatents: noise has ${noise.length} values, expected ${batch}·${F}·${S * S * C}`);
  return tf.tidy(() => {
    const ctx = videoContext(sd, start, end, batch); // [B,2L,D]
    const [, L2, D] = ctx.shape;
    const ctxF = tf.tile(ctx.reshape([batch, 1, L2, D]), [1, F, 1, 1]).reshape([batch * F, L2, D]) as tf.Tensor3D; // [B·F,2L,D]
    const pad = new Int32Array(L);
    const uncond = videoContext(sd, pad, pad, 1); // [1,2L,D]
    return ddimSample({ eps: videoEpsFn(m), ctx: ctxF, uncondCtx: uncond, noise: tf.tensor4d(noise, [batch * F, S, S, C]), steps: o.steps, guidance: o.guidance, schedule: o.schedule });
  });
}

/** Decodes clip-major latents [B·F, S, S, C] with the frozen decoder → B clips of F frames (F·32·32·3 each, in [-1, 1]). */
export function decodeVideoLatents(sd: ReducedSD, z: tf.Tensor4D, frames: number): Float32Array[] {
  const x = decodeLatents(sd, z);
  const data = x.dataSync() as Float32Array;
  x.dispose();
  const B = z.shape[0] / frames, len = frames * IMAGE_LEN;
  return Array.from({ length: B }, (_, b) => data.slice(b * len, (b + 1) * len));
}

/** Samples and decodes: B clips (F·32·32·3 each, in [-1, 1]). */
export function sampleVideos(sd: ReducedSD, m: VideoUNet, start: Int32Array, end: Int32Array, noise: Float32Array, batch: number, o: VideoSampleOptions): Float32Array[] {
  const z = sampleVideoLatents(sd, m, start, end, noise, batch, o);
  try {
    return decodeVideoLatents(sd, z, m.motionCfg.frames);
  } finally {
    z.dispose();
  }
}
