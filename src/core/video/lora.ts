/**
 * LoRA adapters (Hu et al. 2021, "LoRA: Low-Rank Adaptation of Large Language Models", eq. 3):
 * a frozen weight W [nin, nout] is used as W + (α/r) · A · B with A [nin, r] and B [r, nout]
 * trainable. A starts Gaussian (std 1/√nin) and B at zero, so a fresh adapter changes nothing and
 * the first update moves B. Convolution kernels [k, k, Ci, Co] are adapted as their [k·k·Ci, Co]
 * matrix (LoRA on a reshaped kernel, as LyCORIS' plain "LoRA for conv" does).
 *
 * Functional, like src/core/model: `withLoRA(base, lora)` returns a parameter map in which every
 * adapted name maps to the tensor W + (α/r)·A·B, computed where it is called (inside the gradient
 * tape, so A and B get gradients and W, a non-trainable variable, none). Every other name maps to
 * the base variable itself.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { ParamBuilder, type Params } from '../model/layers';

export interface LoRAConfig {
  /** Rank r of the update. */
  rank: number;
  /** α: the update is scaled by α / r (Hu et al.; default α = r, scale 1). */
  alpha?: number;
  /** Which base weights to adapt: names (after the base's prefix) matching this pattern. */
  targets?: RegExp;
}

/** Default targets: the UNet's cross-attention projections (q, k, v, out), as LoRA for SD does. */
export const DEFAULT_LORA_TARGETS = /(^|\/)attn\/(q|k|v|out)\/w$/;

export interface LoRA {
  /** Trainable A and B for each target: `<prefix>/<base name>/A`, `…/B`. */
  params: Params;
  /** Base parameter names (full) that are adapted, in a fixed order. */
  targets: string[];
  prefix: string;
  scale: number;
  rank: number;
}

/**
 * Adapters for the weights of `base` (names `basePrefix/…`) whose short name matches `cfg.targets`.
 * Throws when nothing matches or the rank is not a positive integer.
 */
export function initLoRA(prefix: string, base: Params, basePrefix: string, cfg: LoRAConfig, rng: Rng): LoRA {
  const r = cfg.rank;
  if (!Number.isInteger(r) || r < 1) throw new Error(`LoRA: rank must be a positive integer, got ${String(r)}`);
  const alpha = cfg.alpha ?? r;
  if (!(alpha > 0)) throw new Error(`LoRA: alpha must be positive, got ${String(alpha)}`);
  const pattern = cfg.targets ?? DEFAULT_LORA_TARGETS;
  const pb = new ParamBuilder(prefix, rng);
  const targets: string[] = [];
  for (const full of Object.keys(base).sort()) {
    if (!full.startsWith(basePrefix + '/')) continue;
    const name = full.slice(basePrefix.length + 1);
    if (!pattern.test(name)) continue;
    const shape = base[full].shape;
    if (shape.length !== 2 && shape.length !== 4) throw new Error(`LoRA: ${full} has shape [${shape}]; only dense [nin,nout] and conv [k,k,Ci,Co] weights can be adapted`);
    const nout = shape[shape.length - 1];
    const nin = base[full].size / nout;
    if (r > Math.min(nin, nout)) throw new Error(`LoRA: rank ${r} exceeds min(nin, nout) = ${Math.min(nin, nout)} of ${full}`);
    pb.add(`${name}/A`, [nin, r], { kind: 'fanIn', fanIn: nin });
    pb.add(`${name}/B`, [r, nout], { kind: 'zeros' });
    targets.push(full);
  }
  if (targets.length === 0) throw new Error(`LoRA: no weight of ${basePrefix} matches ${pattern}`);
  return { params: pb.params, targets, prefix, scale: alpha / r, rank: r };
}

/** The base map with every target W replaced by W + scale · A·B (call inside tf.tidy or the tape). */
export function withLoRA(base: Params, basePrefix: string, lora: LoRA): Params {
  const out: Params = { ...base };
  for (const full of lora.targets) {
    const name = full.slice(basePrefix.length + 1);
    const A = lora.params[`${lora.prefix}/${name}/A`];
    const B = lora.params[`${lora.prefix}/${name}/B`];
    const W = base[full];
    if (!A || !B || !W) throw new Error(`withLoRA: missing ${full} or its adapter`);
    const delta = tf.matMul(A, B).mul(lora.scale); // [nin, nout]
    out[full] = tf.add(W, delta.reshape(W.shape)) as unknown as tf.Variable; // a tensor standing in for the variable
  }
  return out;
}
