/**
 * The autoencoder (the role of SD's VAE): 32×32×3 images ↔ 8×8×4 latents. Deterministic (no KL
 * term); the latents are scaled to unit variance by the model's `latentScale` (SD's 0.18215,
 * measured here on the training set). Encoder: conv → [resBlock, pool] per level → conv to 4
 * channels. Decoder mirrors it with nearest up-sampling and ends in tanh (images in [-1, 1]).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { ParamBuilder, conv, downsample, groupNorm, silu, upsample, type Params } from './layers';

export interface AEConfig {
  imageSize: number; // 32
  imageChannels: number; // 3
  latentChannels: number; // 4
  /** Channels per level, from full resolution down; each level after the first halves H and W. */
  channels: number[]; // [16, 32, 64] → 32×32, 16×16, 8×8
  groups: number; // GroupNorm groups
  /** A residual block at full resolution too (costly: 32×32 convolutions); false = conv only there. Default true. */
  fullResBlock?: boolean;
}

export const DEFAULT_AE: AEConfig = { imageSize: 32, imageChannels: 3, latentChannels: 4, channels: [16, 32, 64], groups: 8, fullResBlock: false };

export function latentSize(cfg: AEConfig): number {
  return cfg.imageSize >> (cfg.channels.length - 1);
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
  pb.conv('enc/in', cfg.imageChannels, ch[0]);
  for (let i = 0; i < ch.length; i++) {
    if (i > 0) pb.conv(`enc/down${i}`, ch[i - 1], ch[i]);
    if (i > 0 || cfg.fullResBlock !== false) aeResBlockParams(pb, `enc/res${i}`, ch[i]);
  }
  pb.norm('enc/out_gn', ch[ch.length - 1]);
  pb.conv('enc/out', ch[ch.length - 1], cfg.latentChannels);
  pb.conv('dec/in', cfg.latentChannels, ch[ch.length - 1]);
  for (let i = ch.length - 1; i >= 0; i--) {
    if (i > 0 || cfg.fullResBlock !== false) aeResBlockParams(pb, `dec/res${i}`, ch[i]);
    if (i > 0) pb.conv(`dec/up${i}`, ch[i], ch[i - 1]);
  }
  pb.norm('dec/out_gn', ch[0]);
  pb.conv('dec/out', ch[0], cfg.imageChannels);
  return pb.params;
}

/** Unscaled latents. x [B,32,32,3] → [B,8,8,4]. */
export function aeEncode(p: Params, prefix: string, cfg: AEConfig, x: tf.Tensor4D): tf.Tensor4D {
  const ch = cfg.channels;
  let h = conv(p, prefix, 'enc/in', x); // [B,32,32,c0]
  for (let i = 0; i < ch.length; i++) {
    if (i > 0) h = conv(p, prefix, `enc/down${i}`, downsample(h)); // [B,H/2,W/2,ci]
    if (i > 0 || cfg.fullResBlock !== false) h = aeResBlock(p, prefix, `enc/res${i}`, h, cfg.groups);
  }
  return conv(p, prefix, 'enc/out', silu(groupNorm(p, prefix, 'enc/out_gn', h, cfg.groups))); // [B,8,8,4]
}

/** Unscaled latents z [B,8,8,4] → images [B,32,32,3] in (-1, 1). */
export function aeDecode(p: Params, prefix: string, cfg: AEConfig, z: tf.Tensor4D): tf.Tensor4D {
  const ch = cfg.channels;
  let h = conv(p, prefix, 'dec/in', z); // [B,8,8,cL]
  for (let i = ch.length - 1; i >= 0; i--) {
    if (i > 0 || cfg.fullResBlock !== false) h = aeResBlock(p, prefix, `dec/res${i}`, h, cfg.groups);
    if (i > 0) h = conv(p, prefix, `dec/up${i}`, upsample(h)); // [B,2H,2W,c(i-1)]
  }
  return tf.tanh(conv(p, prefix, 'dec/out', silu(groupNorm(p, prefix, 'dec/out_gn', h, cfg.groups)))); // [B,32,32,3]
}
