/**
 * The autoencoder (the role of SD's VAE): 32×32×3 images ↔ h×h×c latents (shipped: 16×16×4; the
 * first base: 8×8×4; a lossless space-to-depth input with a sub-pixel output is an option). Deterministic (no KL
 * term); the latents are scaled to unit variance by the model's `latentScale` (SD's 0.18215,
 * measured here on the training set). Encoder: conv → [resBlock, pool] per level → conv to 4
 * channels. Decoder mirrors it with nearest up-sampling and ends in tanh (images in [-1, 1]).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { ParamBuilder, conv, downsample, groupNorm, patchify, silu, unpatchify, upsample, type Params } from './layers';

export interface AEConfig {
  imageSize: number; // 32
  imageChannels: number; // 3
  latentChannels: number; // 4
  /** Channels per level, from full resolution down; each level after the first halves H and W. */
  channels: number[]; // [16, 32] → 32×32, 16×16 (shipped); [16, 32, 64] → … 8×8 (the first base)
  groups: number; // GroupNorm groups
  /** A residual block at full resolution too (costly: 32×32 convolutions); false = conv only there. Default true. */
  fullResBlock?: boolean;
  /**
   * Lossless input re-sampling: the encoder starts with patchify(x, p) (each p×p patch of pixels
   * becomes p²·3 channels) and the decoder ends with unpatchify (a sub-pixel convolution, Shi et
   * al. 2016: every output pixel of a patch has its own filter, so edges land on the pixel
   * instead of being smeared by nearest up-sampling). The levels then run at imageSize / p.
   * Default 1 (none: the first level is at full resolution).
   */
  inputPatch?: number;
  /** Residual blocks per level (default 1). */
  blocks?: number;
}

/**
 * The shipped autoencoder: 32×32 → 16×16×4 latents (the first base's was [16, 32, 64] → 8×8×4,
 * `runs/base-v1`; why it changed: README.md, "The decoder's ceiling").
 */
export const DEFAULT_AE: AEConfig = { imageSize: 32, imageChannels: 3, latentChannels: 4, channels: [16, 32], groups: 8, fullResBlock: false };

export function latentSize(cfg: AEConfig): number {
  return (cfg.imageSize / (cfg.inputPatch ?? 1)) >> (cfg.channels.length - 1);
}

/** A residual block without time conditioning: x + conv(silu(gn(conv(silu(gn(x)))))). */
function aeResBlockParams(pb: ParamBuilder, name: string, c: number): void {
  pb.norm(`${name}/gn1`, c);
  pb.conv(`${name}/conv1`, c, c);
  pb.norm(`${name}/gn2`, c);
  pb.conv(`${name}/conv2`, c, c);
}

function aeResBlock(p: Params, prefix: string, name: string, x: tf.Tensor4D, groups: number): tf.Tensor4D {
  let h = conv(p, prefix, `${name}/conv1`, silu(groupNorm(p, prefix, `${name}/gn1`, x, groups)));
  h = conv(p, prefix, `${name}/conv2`, silu(groupNorm(p, prefix, `${name}/gn2`, h, groups)));
  return tf.add(x, h);
}

export function initAE(prefix: string, cfg: AEConfig, rng: Rng): Params {
  const pb = new ParamBuilder(prefix, rng);
  const ch = cfg.channels;
  const pixelCh = cfg.imageChannels * (cfg.inputPatch ?? 1) ** 2;
  pb.conv('enc/in', pixelCh, ch[0]);
  for (let i = 0; i < ch.length; i++) {
    if (i > 0) pb.conv(`enc/down${i}`, ch[i - 1], ch[i]);
    if (i > 0 || cfg.fullResBlock !== false) for (const b of resNames(cfg)) aeResBlockParams(pb, `enc/res${i}${b}`, ch[i]);
  }
  pb.norm('enc/out_gn', ch[ch.length - 1]);
  pb.conv('enc/out', ch[ch.length - 1], cfg.latentChannels);
  pb.conv('dec/in', cfg.latentChannels, ch[ch.length - 1]);
  for (let i = ch.length - 1; i >= 0; i--) {
    if (i > 0 || cfg.fullResBlock !== false) for (const b of resNames(cfg)) aeResBlockParams(pb, `dec/res${i}${b}`, ch[i]);
    if (i > 0) pb.conv(`dec/up${i}`, ch[i], ch[i - 1]);
  }
  pb.norm('dec/out_gn', ch[0]);
  pb.conv('dec/out', ch[0], pixelCh);
  return pb.params;
}

/** Suffixes of the residual blocks of a level: '' for the first (the names of the one-block models), then 'b', 'c', …. */
function resNames(cfg: AEConfig): string[] {
  return Array.from({ length: cfg.blocks ?? 1 }, (_, k) => (k === 0 ? '' : String.fromCharCode(97 + k)));
}

/** Unscaled latents. x [B,32,32,3] → [B,h,h,latentChannels] (h = latentSize). */
export function aeEncode(p: Params, prefix: string, cfg: AEConfig, x: tf.Tensor4D): tf.Tensor4D {
  const ch = cfg.channels;
  let h = conv(p, prefix, 'enc/in', patchify(x, cfg.inputPatch ?? 1)); // [B,32/p,32/p,c0]
  for (let i = 0; i < ch.length; i++) {
    if (i > 0) h = conv(p, prefix, `enc/down${i}`, downsample(h)); // [B,H/2,W/2,ci]
    if (i > 0 || cfg.fullResBlock !== false) for (const b of resNames(cfg)) h = aeResBlock(p, prefix, `enc/res${i}${b}`, h, cfg.groups);
  }
  return conv(p, prefix, 'enc/out', silu(groupNorm(p, prefix, 'enc/out_gn', h, cfg.groups))); // [B,8,8,4]
}

/** Unscaled latents z [B,h,h,latentChannels] → images [B,32,32,3] in (-1, 1). */
export function aeDecode(p: Params, prefix: string, cfg: AEConfig, z: tf.Tensor4D): tf.Tensor4D {
  const ch = cfg.channels;
  let h = conv(p, prefix, 'dec/in', z); // [B,h,h,cL]
  for (let i = ch.length - 1; i >= 0; i--) {
    if (i > 0 || cfg.fullResBlock !== false) for (const b of resNames(cfg)) h = aeResBlock(p, prefix, `dec/res${i}${b}`, h, cfg.groups);
    if (i > 0) h = conv(p, prefix, `dec/up${i}`, upsample(h)); // [B,2H,2W,c(i-1)]
  }
  const out = conv(p, prefix, 'dec/out', silu(groupNorm(p, prefix, 'dec/out_gn', h, cfg.groups))); // [B,32/p,32/p,p²·3]
  return tf.tanh(unpatchify(out, cfg.inputPatch ?? 1)); // [B,32,32,3]
}
