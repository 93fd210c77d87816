/**
 * The ε-predicting UNet (the role of SD-1.5's UNet, reduced). Latents z [B,S,S,C], timesteps
 * t [B] (float, 0…999) and text context [B,L,D] → predicted noise ε̂ [B,S,S,C]. With patch p
 * (DiT's patchify) the latent is first cut into p×p patches, so the UNet below runs at
 * S/p × S/p = 8×8 (shipped base: S = 16, p = 2; the first base: S = 8, p = 1).
 *
 *   patchify, conv_in                        8×8×c0
 *   down0: resBlock(c0)  + crossAttn  ─ skip0 8×8×c0
 *   pool                                     4×4
 *   down1: resBlock(c1)  + crossAttn  ─ skip1 4×4×c1
 *   mid:   resBlock(c1)  + crossAttn          4×4×c1
 *   up1:   resBlock([mid, skip1] → c1) + crossAttn
 *   upsample                                 8×8
 *   up0:   resBlock([up, skip0] → c0) + crossAttn
 *   out:   GroupNorm, SiLU, conv → p²C, unpatchify
 *
 * Timesteps enter through a sinusoidal embedding and an MLP (Ho et al. 2020), added inside
 * every resBlock; text enters through cross-attention at both resolutions (Rombach et al. 2022).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { ParamBuilder, attention, conv, dense, downsample, groupNorm, patchify, silu, unpatchify, upsample, type Params } from './layers';
export { patchify, unpatchify } from './layers';

export interface UNetConfig {
  latentChannels: number; // 4
  latentSize: number; // 8
  channels: [number, number]; // [c0 at 8×8, c1 at 4×4]
  timeDim: number; // sinusoidal embedding size (the MLP maps it to 2·timeDim)
  ctxDim: number; // text encoder dim
  heads: number; // cross-attention heads
  groups: number; // GroupNorm groups
  /**
   * Patch size (DiT, Peebles & Xie 2023; SD3): the UNet works on p×p patches of the latent,
   * [B,S,S,C] → [B,S/p,S/p,p²C], so a 16×16 latent costs what an 8×8 one does. Default 1 (none).
   */
  patch?: number;
  /**
   * Channels of a full-resolution head (0 or absent: none). With patches, the UNet sees each p×p
   * block of the latent as one position, so every value of ε must pass through c0 channels that
   * also carry the image; the head is a small time-conditioned conv stack at the latent's own
   * resolution, on [z_t, the trunk's upsampled features], whose output is added to the trunk's ε.
   */
  fullResHead?: number;
  /** The noise schedule's SNR divisor (diffusion/schedule.ts, `scheduleFor`); default 1 (SD's own schedule). */
  snrShift?: number;
}

/** Names of the blocks in forward order, with their in/out channels. */
function blocks(cfg: UNetConfig) {
  const [c0, c1] = cfg.channels;
  return {
    down0: { cin: c0, cout: c0 },
    down1: { cin: c0, cout: c1 },
    mid: { cin: c1, cout: c1 },
    up1: { cin: 2 * c1, cout: c1 },
    up0: { cin: c1 + c0, cout: c0 },
  };
}

function resBlockParams(pb: ParamBuilder, name: string, cin: number, cout: number, tembDim: number): void {
  pb.norm(`${name}/gn1`, cin);
  pb.conv(`${name}/conv1`, cin, cout);
  pb.dense(`${name}/temb`, tembDim, cout);
  pb.norm(`${name}/gn2`, cout);
  pb.conv(`${name}/conv2`, cout, cout);
  if (cin !== cout) pb.conv(`${name}/skip`, cin, cout, 1);
}

/** ResBlock (SD style): h = conv1(silu(gn1(x))) + temb; h = conv2(silu(gn2(h))); out = skip(x) + h. */
function resBlock(p: Params, prefix: string, name: string, x: tf.Tensor4D, temb: tf.Tensor2D, groups: number): tf.Tensor4D {
  const [B] = x.shape;
  let h = conv(p, prefix, `${name}/conv1`, silu(groupNorm(p, prefix, `${name}/gn1`, x, groups))); // [B,H,W,cout]
  const cout = h.shape[3];
  h = tf.add(h, dense(p, prefix, `${name}/temb`, silu(temb)).reshape([B, 1, 1, cout]));
  h = conv(p, prefix, `${name}/conv2`, silu(groupNorm(p, prefix, `${name}/gn2`, h, groups)));
  const skip = x.shape[3] === cout ? x : conv(p, prefix, `${name}/skip`, x);
  return tf.add(skip, h);
}

function crossAttnParams(pb: ParamBuilder, name: string, c: number, ctxDim: number): void {
  pb.norm(`${name}/gn`, c);
  pb.dense(`${name}/q`, c, c, 1, false);
  pb.dense(`${name}/k`, ctxDim, c, 1, false);
  pb.dense(`${name}/v`, ctxDim, c, 1, false);
  pb.dense(`${name}/out`, c, c, 0.5);
}

/** x + out(attention(q(gn(x)), k(ctx), v(ctx))): every latent pixel attends to every text token. */
function crossAttention(p: Params, prefix: string, name: string, x: tf.Tensor4D, ctx: tf.Tensor3D, heads: number, groups: number): tf.Tensor4D {
  const [B, H, W, C] = x.shape;
  const hx = groupNorm(p, prefix, `${name}/gn`, x, groups).reshape([B, H * W, C]); // [B,HW,C]
  const q = dense(p, prefix, `${name}/q`, hx) as tf.Tensor3D; // [B,HW,C]
  const k = dense(p, prefix, `${name}/k`, ctx) as tf.Tensor3D; // [B,L,C]
  const v = dense(p, prefix, `${name}/v`, ctx) as tf.Tensor3D; // [B,L,C]
  const a = attention(q, k, v, heads); // [B,HW,C]
  return tf.add(x, dense(p, prefix, `${name}/out`, a).reshape([B, H, W, C]));
}

export function initUNet(prefix: string, cfg: UNetConfig, rng: Rng): Params {
  const pb = new ParamBuilder(prefix, rng);
  const tembDim = 2 * cfg.timeDim;
  pb.dense('time/fc1', cfg.timeDim, tembDim);
  pb.dense('time/fc2', tembDim, tembDim);
  const pc = cfg.latentChannels * (cfg.patch ?? 1) ** 2; // channels of a patchified latent
  pb.conv('conv_in', pc, cfg.channels[0]);
  for (const [name, { cin, cout }] of Object.entries(blocks(cfg))) {
    resBlockParams(pb, `${name}/res`, cin, cout, tembDim);
    crossAttnParams(pb, `${name}/attn`, cout, cfg.ctxDim);
  }
  pb.norm('out/gn', cfg.channels[0]);
  // Small (not zero) output init: a zero layer would give every earlier weight a zero gradient.
  pb.conv('out/conv', cfg.channels[0], pc, 3, 0.1);
  if (cfg.fullResHead) {
    const hc = cfg.fullResHead;
    const p = cfg.patch ?? 1;
    if ((p & (p - 1)) !== 0) throw new Error(`UNet: a full-resolution head needs a power-of-two patch (it upsamples by 2), got patch ${p}`);
    pb.conv('head/conv1', cfg.latentChannels + cfg.channels[0], hc);
    pb.dense('head/temb', tembDim, hc);
    pb.norm('head/gn', hc);
    pb.conv('head/conv2', hc, cfg.latentChannels, 3, 0.1);
  }
  return pb.params;
}

/**
 * Sinusoidal timestep embedding (Vaswani et al. 2017; DDPM, Ho et al. 2020): t [B] → [B,dim],
 * [cos(t·f_k), sin(t·f_k)] with f_k = 10000^(−k/(dim/2)), as diffusers' `get_timestep_embedding`
 * with flip_sin_to_cos.
 */
export function timestepEmbedding(t: tf.Tensor1D, dim: number): tf.Tensor2D {
  const half = dim / 2;
  const freqs = new Float32Array(half);
  for (let k = 0; k < half; k++) freqs[k] = Math.exp((-Math.log(10000) * k) / half);
  const args = tf.mul(t.toFloat().reshape([-1, 1]), tf.tensor2d(freqs, [1, half])); // [B,half]
  return tf.concat([tf.cos(args), tf.sin(args)], 1) as tf.Tensor2D; // [B,dim]
}

/** The UNet's levels in forward order, each a resBlock + cross-attention (the names of their parameters). */
export const UNET_BLOCKS = ['down0', 'down1', 'mid', 'up1', 'up0'] as const;
export type UNetBlockName = (typeof UNET_BLOCKS)[number];

/**
 * Called with the output h [B,H,W,C] of each level's resBlock + cross-attention, in forward order;
 * what it returns goes on in h's place (and into the skip connection). This is where the video model
 * (src/core/video/motion.ts) inserts its motion modules, as AnimateDiff does after each of SD's
 * blocks. Without a hook the forward is the image model's, operation for operation.
 */
export type UNetBlockHook = (name: UNetBlockName, h: tf.Tensor4D) => tf.Tensor4D;

export function unetForwardWith(p: Params, prefix: string, cfg: UNetConfig, z: tf.Tensor4D, t: tf.Tensor1D, ctx: tf.Tensor3D, afterBlock?: UNetBlockHook): tf.Tensor4D {
  const [B, H, W, C] = z.shape;
  if (H !== cfg.latentSize || W !== cfg.latentSize || C !== cfg.latentChannels) {
    throw new Error(`unetForward: latents must be [B,${cfg.latentSize},${cfg.latentSize},${cfg.latentChannels}], got [${z.shape}]`);
  }
  if (t.shape[0] !== B || ctx.shape[0] !== B) throw new Error(`unetForward: batch sizes differ (z ${B}, t ${t.shape[0]}, ctx ${ctx.shape[0]})`);
  if (ctx.shape[2] !== cfg.ctxDim) throw new Error(`unetForward: context dim ${ctx.shape[2]}, expected ${cfg.ctxDim}`);
  const g = cfg.groups;
  const temb = dense(p, prefix, 'time/fc2', silu(dense(p, prefix, 'time/fc1', timestepEmbedding(t, cfg.timeDim)))) as tf.Tensor2D; // [B,2·timeDim]
  const block = (name: UNetBlockName, x: tf.Tensor4D) => {
    const h = crossAttention(p, prefix, `${name}/attn`, resBlock(p, prefix, `${name}/res`, x, temb, g), ctx, cfg.heads, g);
    return afterBlock ? afterBlock(name, h) : h;
  };

  const patch = cfg.patch ?? 1;
  let h = conv(p, prefix, 'conv_in', patchify(z, patch)); // [B,8,8,c0] (8 = latentSize / patch)
  const skip0 = block('down0', h); // [B,8,8,c0]
  const skip1 = block('down1', downsample(skip0)); // [B,4,4,c1]
  h = block('mid', skip1); // [B,4,4,c1]
  h = block('up1', tf.concat([h, skip1], 3)); // [B,4,4,c1]
  h = block('up0', tf.concat([upsample(h), skip0], 3)); // [B,8,8,c0]
  const eps = unpatchify(conv(p, prefix, 'out/conv', silu(groupNorm(p, prefix, 'out/gn', h, g))), patch); // [B,S,S,C]
  if (!cfg.fullResHead) return eps;
  // full-resolution head: [z_t, features upsampled to S×S] → conv → +temb → GN/SiLU → conv, added to ε
  let f: tf.Tensor4D = h;
  for (let s = patch; s > 1; s /= 2) f = upsample(f); // [B,S,S,c0]
  let e = conv(p, prefix, 'head/conv1', tf.concat([z, f], 3) as tf.Tensor4D); // [B,S,S,hc]
  e = tf.add(e, dense(p, prefix, 'head/temb', silu(temb)).reshape([B, 1, 1, cfg.fullResHead])) as tf.Tensor4D;
  return tf.add(eps, conv(p, prefix, 'head/conv2', silu(groupNorm(p, prefix, 'head/gn', e, g)))) as tf.Tensor4D; // [B,S,S,C]
}
