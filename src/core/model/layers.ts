/**
 * Building blocks shared by the autoencoder, text encoder and UNet. Functional style: every
 * block takes its weights from a `Params` map by name and is a pure function of its inputs.
 * Tensors are NHWC. No strided convolutions (the WASM filter gradient is stride-1 only):
 * down-sampling is reshape-pooling, up-sampling is nearest by broadcasting.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';

export type Params = Record<string, tf.Variable>;

/** How a weight is initialised. `fanIn` scales normals by 1/sqrt(fanIn) (× gain). */
export type Init = { kind: 'zeros' } | { kind: 'ones' } | { kind: 'normal'; std: number } | { kind: 'fanIn'; fanIn: number; gain?: number };

/**
 * Creates named, trainable variables from a seeded `Rng` (never `tf.random*`, so the initial
 * weights are identical on every backend). Each weight gets its own forked stream, keyed by
 * its name, so adding a weight does not change the others.
 */
export class ParamBuilder {
  readonly params: Params = {};
  constructor(
    readonly prefix: string,
    private readonly rng: Rng,
  ) {}

  add(name: string, shape: number[], init: Init): void {
    const full = `${this.prefix}/${name}`;
    if (this.params[full]) throw new Error(`ParamBuilder: duplicate parameter ${full}`);
    const n = shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (init.kind === 'zeros') data = new Float32Array(n);
    else if (init.kind === 'ones') data = new Float32Array(n).fill(1);
    else {
      const std = init.kind === 'normal' ? init.std : (init.gain ?? 1) / Math.sqrt(init.fanIn);
      data = this.rng.fork(name).normals(n);
      for (let i = 0; i < n; i++) data[i] *= std;
    }
    const t = tf.tensor(data, shape, 'float32');
    this.params[full] = tf.variable(t, true, full);
    t.dispose(); // the variable holds its own reference to the data
  }

  /** 3×3 (or k×k) convolution weights `w` [k,k,cin,cout] and bias `b` [cout]. */
  conv(name: string, cin: number, cout: number, k = 3, gain = 1): void {
    this.add(`${name}/w`, [k, k, cin, cout], { kind: 'fanIn', fanIn: k * k * cin, gain });
    this.add(`${name}/b`, [cout], { kind: 'zeros' });
  }

  dense(name: string, nin: number, nout: number, gain = 1, bias = true): void {
    this.add(`${name}/w`, [nin, nout], { kind: 'fanIn', fanIn: nin, gain });
    if (bias) this.add(`${name}/b`, [nout], { kind: 'zeros' });
  }

  /** Scale `g` (ones) and shift `b` (zeros) of a GroupNorm / LayerNorm over `c` channels. */
  norm(name: string, c: number): void {
    this.add(`${name}/g`, [c], { kind: 'ones' });
    this.add(`${name}/b`, [c], { kind: 'zeros' });
  }
}

/** Looks a weight up by prefix + name with a clear error. */
export function getP(p: Params, prefix: string, name: string): tf.Variable {
  const v = p[`${prefix}/${name}`];
  if (!v) throw new Error(`missing parameter ${prefix}/${name} (have ${Object.keys(p).length} parameters, e.g. ${Object.keys(p)[0] ?? 'none'})`);
  return v;
}

/** The k×k anti-diagonal permutation [k²,k²] (row i has its 1 at column k²−1−i), cached by k as plain data. */
const antiDiagonals = new Map<number, Float32Array>();
function antiDiagonal(n: number): Float32Array {
  let m = antiDiagonals.get(n);
  if (!m) {
    m = new Float32Array(n * n);
    for (let i = 0; i < n; i++) m[i * n + (n - 1 - i)] = 1;
    antiDiagonals.set(n, m);
  }
  return m;
}

/**
 * w [kh,kw,Ci,Co] with both spatial axes reversed: tf.reverse(w, [0, 1]), as one small matMul by the
 * anti-diagonal permutation P [kh·kw, kh·kw] on w viewed as [kh·kw, Ci·Co]. Measured on WASM (issue 14's
 * profile, 3×3×64×64): tf.reverse takes 1.1–2 ms a call (12 % of a batch-8 training step's kernel
 * time), as do gather, slice+concat and split+concat; the matMul 0.08–0.5 ms. Every output is 1·w_j plus
 * exact zeros, so it equals tf.reverse for finite weights (model.test.ts checks it bit for bit against
 * tf.reverse and the CPU backend); a non-finite tap would spread to the others, but such a forward is
 * already non-finite and the trainer never applies its update.
 */
export function flipTaps(w: tf.Tensor4D): tf.Tensor4D {
  const [kh, kw, ci, co] = w.shape;
  const n = kh * kw;
  if (n === 1) return tf.clone(w);
  return tf.tidy(() => tf.matMul(tf.tensor2d(antiDiagonal(n), [n, n]), w.reshape([n, ci * co])).reshape([kh, kw, ci, co]));
}

/**
 * Stride-1 'same' 2-D convolution whose gradients are themselves forward convolutions.
 * Measured on the WASM backend (8×8×64→64, batch 32): tfjs's own gradient kernels
 * (Conv2DBackpropInput, and the filter gradient via Conv3DBackpropFilterV2) take ~14× longer
 * than these, which reuse the fast XNNPACK forward convolution:
 *   dx = conv(dy, flip(w) with in/out swapped, 'same')
 *   dw = conv(transpose(pad(x)) [Ci,H+2r,W+2r,B], transpose(dy) [H,W,B,Co], 'valid') → [k,k,Ci,Co]
 */
export const conv2dSame = tf.customGrad(((x: tf.Tensor, w: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, w]);
  const value = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');
  const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
    const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
    const k = ws.shape[0], r = (k - 1) / 2;
    const wFlip = tf.transpose(flipTaps(ws), [0, 1, 3, 2]) as tf.Tensor4D; // [k,k,Co,Ci] (flipTaps: tf.reverse(ws, [0, 1]), faster on WASM)
    const dx = tf.conv2d(dy as tf.Tensor4D, wFlip, 1, 'same'); // [B,H,W,Ci]
    const xt = tf.transpose(tf.pad(xs, [[0, 0], [r, r], [r, r], [0, 0]]), [3, 1, 2, 0]) as tf.Tensor4D; // [Ci,H+2r,W+2r,B]
    const f = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D; // [H,W,B,Co]
    const dw = tf.transpose(tf.conv2d(xt, f, 1, 'valid'), [1, 2, 0, 3]); // [k,k,Ci,Co]
    return [dx, dw];
  };
  return { value, gradFunc };
}) as never) as unknown as (x: tf.Tensor4D, w: tf.Tensor4D) => tf.Tensor4D;

/** Swaps the last two axes. */
function transposeLast2(x: tf.Tensor): tf.Tensor {
  const r = x.rank;
  const perm = [...Array(r).keys()];
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return tf.transpose(x, perm);
}

/**
 * (Batched) matMul a·b whose gradients use explicit transposes + plain matMuls. Measured on WASM:
 * a matMul with transposeA/transposeB takes ~3.5× as long as tf.transpose + a plain matMul, and
 * tfjs's own matMul gradient uses the transposed forms.
 */
export const matMulFast = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  const value = tf.matMul(a, b);
  const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
    const [as, bs] = saved;
    return [tf.matMul(dy, transposeLast2(bs)), tf.matMul(transposeLast2(as), dy)];
  };
  return { value, gradFunc };
}) as never) as unknown as <T extends tf.Tensor>(a: T, b: tf.Tensor) => T;

export function silu<T extends tf.Tensor>(x: T): T {
  return tf.mul(x, tf.sigmoid(x));
}

/** Stride-1 'same' convolution + bias. x [B,H,W,Cin] → [B,H,W,Cout]. */
export function conv(p: Params, prefix: string, name: string, x: tf.Tensor4D): tf.Tensor4D {
  const w = getP(p, prefix, `${name}/w`) as unknown as tf.Tensor4D;
  const b = getP(p, prefix, `${name}/b`);
  return tf.add(conv2dSame(x, w), b);
}

/** Dense layer on the last axis of any rank. x [..., nin] → [..., nout]. */
export function dense(p: Params, prefix: string, name: string, x: tf.Tensor): tf.Tensor {
  const w = getP(p, prefix, `${name}/w`) as unknown as tf.Tensor2D;
  const [nin, nout] = w.shape;
  const lead = x.shape.slice(0, -1);
  let y: tf.Tensor = matMulFast(x.reshape([-1, nin]), w); // [N, nout]
  const b = p[`${prefix}/${name}/b`];
  if (b) y = tf.add(y, b);
  return y.reshape([...lead, nout]);
}

let groupNormPerChannel = true;

/** Switches GroupNorm between per-channel statistics (default) and tf.moments (`npm run bench -- --torch --ab channel-groupnorm`). */
export function setGroupNormPerChannel(on: boolean): void {
  groupNormPerChannel = on;
}
export function groupNormPerChannelEnabled(): boolean {
  return groupNormPerChannel;
}

/**
 * GroupNorm over NHWC (Wu & He 2018): statistics per sample and group over H, W and the
 * group's channels, y = (x − μ) / √(σ² + ε) · g + b.
 *
 * The statistics are summed over H·W per channel and then over each group's few channels, and
 * the normalisation works with [B,1,C] per-channel copies of μ and g/√(σ² + ε), so every
 * full-size op broadcasts a [B,1,C] operand over H·W. tf.moments on [B,HW,G,C/G] (the other path,
 * kept for the bench) broadcasts [B,1,G,1] operands, which tfjs-wasm serves on a slow generic path:
 * GroupNorm was about 23 % of a SePPO update's kernel time (README Speed). Two passes (the variance
 * of the centred values, not E[x²] − μ², so no cancellation), and each sample's statistics are
 * computed alone, so a result does not depend on what else is in the batch (a matMul with a ones
 * row would: tfjs-wasm takes XNNPACK at batch 1 and its own loop above). Equal to the other path
 * within float rounding, gradients included (tested against the CPU backend).
 */
export function groupNorm(p: Params, prefix: string, name: string, x: tf.Tensor4D, groups: number, eps = 1e-5): tf.Tensor4D {
  const [B, H, W, C] = x.shape;
  if (C % groups !== 0) throw new Error(`groupNorm ${prefix}/${name}: ${C} channels not divisible by ${groups} groups`);
  const g = getP(p, prefix, `${name}/g`), b = getP(p, prefix, `${name}/b`);
  if (!groupNormPerChannel) {
    const xg = x.reshape([B, H * W, groups, C / groups]); // [B, HW, G, C/G]
    const { mean, variance } = tf.moments(xg, [1, 3], true); // [B, 1, G, 1]
    const xn = tf.div(tf.sub(xg, mean), tf.sqrt(tf.add(variance, eps))).reshape([B, H, W, C]);
    return tf.add(tf.mul(xn, g), b);
  }
  const n = H * W * (C / groups); // values per (sample, group)
  const x3 = x.reshape([B, H * W, C]);
  // Σ over H·W [B,1,C], then over each group's channels, copied back to a [B,1,C] value per channel
  // by a broadcast × 1 (exact; tf.tile's gradient is one slice per copy, a broadcast's one small Sum)
  const ones = tf.ones([1, 1, 1, C / groups]);
  const perChannel = (t: tf.Tensor) => tf.mul(tf.sum(t, 1).reshape([B, 1, groups, C / groups]).sum(-1, true), ones).reshape([B, 1, C]);
  const mean = tf.div(perChannel(x3), n); // [B,1,C]
  const xc = tf.sub(x3, mean); // [B,HW,C]
  const variance = tf.div(perChannel(tf.square(xc)), n); // [B,1,C]
  const scale = tf.mul(tf.rsqrt(tf.add(variance, eps)), g); // [B,1,C]
  return tf.add(tf.mul(xc, scale), b).reshape([B, H, W, C]);
}

/** LayerNorm over the last axis. */
export function layerNorm(p: Params, prefix: string, name: string, x: tf.Tensor, eps = 1e-5): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  const xn = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps)));
  return tf.add(tf.mul(xn, getP(p, prefix, `${name}/g`)), getP(p, prefix, `${name}/b`));
}

/** 2×2 average pooling by reshape: [B,H,W,C] → [B,H/2,W/2,C]. */
export function downsample(x: tf.Tensor4D): tf.Tensor4D {
  const [B, H, W, C] = x.shape;
  return x.reshape([B, H / 2, 2, W / 2, 2, C]).mean([2, 4]) as tf.Tensor4D;
}

/**
 * Space-to-depth (the pixel shuffle's inverse, Shi et al. 2016) and its inverse: lossless 2× re-sampling
 * that keeps every value, used by the UNet's patches and the autoencoder's input/output.
 */
/** [B,H,W,C] → [B,H/p,W/p,p·p·C]: each p×p patch becomes one pixel (reshape + transpose: both have gradients in tfjs). */
export function patchify(x: tf.Tensor4D, p: number): tf.Tensor4D {
  if (p === 1) return x;
  const [B, H, W, C] = x.shape;
  return tf.tidy(() => x.reshape([B * (H / p), p, W / p, p * C]).transpose([0, 2, 1, 3]).reshape([B, H / p, W / p, p * p * C]));
}

/** The inverse of patchify: [B,h,w,p·p·C] → [B,h·p,w·p,C]. */
export function unpatchify(x: tf.Tensor4D, p: number): tf.Tensor4D {
  if (p === 1) return x;
  const [B, h, w, PC] = x.shape;
  const C = PC / (p * p);
  return tf.tidy(() => x.reshape([B * h, w, p, p * C]).transpose([0, 2, 1, 3]).reshape([B, h * p, w * p, C]));
}

/** Nearest 2× up-sampling by broadcasting: [B,H,W,C] → [B,2H,2W,C]. */
export function upsample(x: tf.Tensor4D): tf.Tensor4D {
  const [B, H, W, C] = x.shape;
  const ones = tf.ones([1, 1, 2, 1, 2, 1]);
  return tf.mul(x.reshape([B, H, 1, W, 1, C]), ones).reshape([B, 2 * H, 2 * W, C]) as tf.Tensor4D;
}

/**
 * Multi-head scaled dot-product attention (Vaswani et al. 2017, eq. 1).
 * q [B,Nq,C], k,v [B,Nk,C] (already projected) → [B,Nq,C].
 * `keyMask` [B,Nk] (1 = attend, 0 = ignore) adds −1e9 to the ignored keys' logits; a row with
 * every key masked (an all-PAD prompt) then attends uniformly instead of producing NaN.
 */
export function attention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, heads: number, keyMask?: tf.Tensor2D): tf.Tensor3D {
  const [B, Nq, C] = q.shape;
  const Nk = k.shape[1];
  if (C % heads !== 0) throw new Error(`attention: ${C} channels not divisible by ${heads} heads`);
  const hd = C / heads;
  const split = (x: tf.Tensor3D, n: number) => x.reshape([B, n, heads, hd]).transpose([0, 2, 1, 3]); // [B,h,n,hd]
  const qh = split(q, Nq);
  const kh = split(k, Nk);
  const vh = split(v, Nk);
  let logits = matMulFast(qh, transposeLast2(kh)).mul(1 / Math.sqrt(hd)); // [B,h,Nq,Nk]
  if (keyMask) logits = tf.add(logits, tf.sub(1, keyMask).mul(-1e9).reshape([B, 1, 1, Nk]));
  const att = tf.softmax(logits, -1);
  const out = matMulFast(att, vh); // [B,h,Nq,hd]
  return out.transpose([0, 2, 1, 3]).reshape([B, Nq, C]) as tf.Tensor3D;
}

/** Total number of scalars in a parameter map. */
export function countParams(p: Params): number {
  return Object.values(p).reduce((a, v) => a + v.size, 0);
}

/**
 * Frozen copies for the reference pool: new non-trainable variables named `newPrefix/…` in place
 * of the old first path segment(s) `oldPrefix`. `tf.clone` shares the data until the source is
 * next assigned, so a snapshot costs memory only once the policy moves on.
 */
export function cloneParams(params: Params, newPrefix: string, oldPrefix?: string): Params {
  const out: Params = {};
  const names = Object.keys(params);
  const old = oldPrefix ?? commonPrefix(names);
  for (const name of names) {
    if (!name.startsWith(old + '/')) throw new Error(`cloneParams: ${name} does not start with ${old}/`);
    const nn = newPrefix + name.slice(old.length);
    const c = params[name].clone();
    out[nn] = tf.variable(c, false, nn);
    c.dispose(); // the variable keeps the data alive
  }
  return out;
}

/** The first path segment shared by all names (e.g. `policy` for `policy/unet/...`). */
export function commonPrefix(names: string[]): string {
  if (names.length === 0) return '';
  const first = names[0].split('/')[0];
  for (const n of names) if (n.split('/')[0] !== first) throw new Error(`parameter names do not share a first segment: ${first} vs ${n}`);
  return first;
}

export function disposeParams(params: Params): void {
  for (const v of Object.values(params)) v.dispose();
}
