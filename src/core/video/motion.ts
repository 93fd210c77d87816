/**
 * The video UNet in AnimateDiff's manner (Guo et al. 2023, "AnimateDiff: Animate Your Personalized
 * Text-to-Image Diffusion Models without Specific Tuning", §4.2): the image UNet, frozen, runs on
 * every frame of every clip as one batch of B·F images; after each of its levels (down0, down1,
 * mid, up1, up0; unet.ts's `afterBlock` hook) a motion module lets the frames talk:
 *
 *   h [B·F, H, W, C]  →  tokens [B·H·W, F, C]  (one sequence of F frames per spatial position)
 *   x = LayerNorm(tokens) + sinusoidal frame position embedding       [B·HW, F, C]
 *   a = MultiHeadSelfAttention(q(x), k(x), v(x))                        [B·HW, F, C]
 *   h + out(a), back to [B·F, H, W, C]
 *
 * `out` (weights and bias) starts at zero, as AnimateDiff's zero-initialised output projection, so a
 * fresh video model is exactly the image model applied frame by frame (tested). Optional LoRA
 * adapters (lora.ts) adapt chosen base weights; base weights are non-trainable copies
 * (`cloneParams`), so only motion modules and adapters can get gradients.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { ParamBuilder, attention, cloneParams, dense, disposeParams, layerNorm, type Params } from '../model/layers';
import { UNET_BLOCKS, unetForwardWith, type UNetBlockName, type UNetConfig } from '../model/unet';
import { initLoRA, withLoRA, type LoRA, type LoRAConfig } from './lora';

export interface MotionConfig {
  /** Frames per clip F (the motion modules' sequence length). */
  frames: number;
  /** Attention heads of each motion module (must divide every level's channels). */
  heads: number;
}

/** Channels of each UNet level's output (unet.ts `blocks`). */
export function levelChannels(cfg: UNetConfig): Record<UNetBlockName, number> {
  const [c0, c1] = cfg.channels;
  return { down0: c0, down1: c1, mid: c1, up1: c1, up0: c0 };
}

/** Motion-module parameters `<prefix>/<level>/{ln,q,k,v,out}`; `out` is all zeros. */
export function initMotionModules(prefix: string, unetCfg: UNetConfig, mcfg: MotionConfig, rng: Rng): Params {
  if (!Number.isInteger(mcfg.frames) || mcfg.frames < 2) throw new Error(`motion module: frames must be an integer ≥ 2, got ${mcfg.frames}`);
  const pb = new ParamBuilder(prefix, rng);
  for (const [name, c] of Object.entries(levelChannels(unetCfg))) {
    if (c % mcfg.heads !== 0) throw new Error(`motion module ${name}: ${c} channels not divisible by ${mcfg.heads} heads`);
    pb.norm(`${name}/ln`, c);
    pb.dense(`${name}/q`, c, c, 1, false);
    pb.dense(`${name}/k`, c, c, 1, false);
    pb.dense(`${name}/v`, c, c, 1, false);
    pb.add(`${name}/out/w`, [c, c], { kind: 'zeros' });
    pb.add(`${name}/out/b`, [c], { kind: 'zeros' });
  }
  return pb.params;
}

/** Sinusoidal position embedding of frames 0…F−1 (Vaswani et al. 2017): [F, C], sin on even channels, cos on odd. */
export function framePositions(frames: number, c: number): tf.Tensor2D {
  const d = new Float32Array(frames * c);
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < c; i += 2) {
      const a = f / Math.pow(10000, i / c);
      d[f * c + i] = Math.sin(a);
      if (i + 1 < c) d[f * c + i + 1] = Math.cos(a);
    }
  }
  return tf.tensor2d(d, [frames, c]);
}

/** One motion module: temporal self-attention over the F frames at every spatial position. h [B·F,H,W,C] → same. */
export function motionModule(p: Params, prefix: string, name: string, h: tf.Tensor4D, frames: number, heads: number): tf.Tensor4D {
  const [BF, H, W, C] = h.shape;
  if (BF % frames !== 0) throw new Error(`motion module ${name}: batch ${BF} is not a multiple of ${frames} frames`);
  const B = BF / frames;
  const tokens = h.reshape([B, frames, H * W, C]).transpose([0, 2, 1, 3]).reshape([B * H * W, frames, C]); // (B·HW, F, C)
  const x = tf.add(layerNorm(p, prefix, `${name}/ln`, tokens), framePositions(frames, C)) as tf.Tensor3D; // (B·HW, F, C)
  const q = dense(p, prefix, `${name}/q`, x) as tf.Tensor3D; // (B·HW, F, C)
  const k = dense(p, prefix, `${name}/k`, x) as tf.Tensor3D; // (B·HW, F, C)
  const v = dense(p, prefix, `${name}/v`, x) as tf.Tensor3D; // (B·HW, F, C)
  const a = attention(q, k, v, heads); // (B·HW, F, C): every frame attends to every frame at its position
  const o = dense(p, prefix, `${name}/out`, a); // (B·HW, F, C), zero at init
  const back = o.reshape([B, H * W, frames, C]).transpose([0, 2, 1, 3]).reshape([BF, H, W, C]); // (B·F, H, W, C)
  return tf.add(h, back) as tf.Tensor4D;
}

export interface VideoUNet {
  unetCfg: UNetConfig;
  motionCfg: MotionConfig;
  /** Frozen copy of the image UNet (non-trainable variables), names `<prefix>/base/…`. */
  base: Params;
  basePrefix: string;
  motion: Params;
  motionPrefix: string;
  lora: LoRA | null;
}

/** The part of a parameter name before `/conv_in/w` (the UNet's prefix). */
function unetPrefix(p: Params): string {
  const key = Object.keys(p).find((k) => k.endsWith('/conv_in/w'));
  if (!key) throw new Error('createVideoUNet: parameter map has no …/conv_in/w (is it a UNet?)');
  return key.slice(0, -'/conv_in/w'.length);
}

/**
 * A video UNet over the image UNet `unet` (its weights are copied into non-trainable variables;
 * the copy shares data until the source changes, see cloneParams): motion modules with zero output,
 * and LoRA adapters when `lora` is given. Variable names start with `prefix` (unique per model).
 */
export function createVideoUNet(prefix: string, unet: Params, unetCfg: UNetConfig, motionCfg: MotionConfig, seed: number, lora?: LoRAConfig): VideoUNet {
  const src = unetPrefix(unet);
  const firstSeg = src.split('/')[0];
  const base = cloneParams(unet, `${prefix}/base`, firstSeg);
  const basePrefix = `${prefix}/base${src.slice(firstSeg.length)}`;
  const rng = new Rng(seed);
  const motionPrefix = `${prefix}/motion`;
  const motion = initMotionModules(motionPrefix, unetCfg, motionCfg, rng.fork('motion'));
  const adapters = lora ? initLoRA(`${prefix}/lora`, base, basePrefix, lora, rng.fork('lora')) : null;
  return { unetCfg, motionCfg, base, basePrefix, motion, motionPrefix, lora: adapters };
}

/** The variables training may move, in a fixed order: motion modules, then LoRA A/B. */
export function videoTrainableVariables(m: VideoUNet): tf.Variable[] {
  return [...Object.values(m.motion), ...(m.lora ? Object.values(m.lora.params) : [])];
}

/**
 * ε̂ for clips: z [B·F, S, S, C] (clip b's frame f at row b·F + f), t [B], ctx [B, L, D] → [B·F, S, S, C].
 * Each clip's timestep and text go to all of its frames.
 */
export function videoUnetForward(m: VideoUNet, z: tf.Tensor4D, t: tf.Tensor1D, ctx: tf.Tensor3D): tf.Tensor4D {
  const F = m.motionCfg.frames;
  const [BF] = z.shape;
  const B = t.shape[0];
  if (BF !== B * F) throw new Error(`videoUnetForward: ${BF} latents for ${B} clips of ${F} frames`);
  const [, L, D] = ctx.shape;
  const tF = tf.tile(t.reshape([B, 1]), [1, F]).reshape([BF]) as tf.Tensor1D; // (B·F)
  const ctxF = tf.tile(ctx.reshape([B, 1, L, D]), [1, F, 1, 1]).reshape([BF, L, D]) as tf.Tensor3D; // (B·F, L, D)
  const params = m.lora ? withLoRA(m.base, m.basePrefix, m.lora) : m.base;
  const hook = (name: UNetBlockName, h: tf.Tensor4D) => motionModule(m.motion, m.motionPrefix, name, h, F, m.motionCfg.heads);
  return unetForwardWith(params, m.basePrefix, m.unetCfg, z, tF, ctxF, hook);
}

export function disposeVideoUNet(m: VideoUNet): void {
  disposeParams(m.base);
  disposeParams(m.motion);
  if (m.lora) disposeParams(m.lora.params);
}

export { UNET_BLOCKS };
