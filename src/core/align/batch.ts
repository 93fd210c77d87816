/**
 * The batch of update u and its shared noise: the same for every arm (DESIGN §4, §7). Every arm
 * sees, at update u, the same training items (epoch-wise seeded permutations), the same timesteps
 * t and the same noise ε — shared between the two halves of a pair, as Diffusion-DPO does — all
 * drawn from `Rng(seed)` forked by update index, never by arm.
 *
 * `sharedBatchTensors` turns them into the tensors every arm's update reads (armUpdate.ts): t, ε
 * and the prompts' contexts for a batch [B], and the same doubled for a pair [2B] (x^w ‖ x^l).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';

/** Timesteps and ε of update u — a function of (seed, u) only, hence identical for every arm. */
export function updateNoise(seed: number, update: number, batch: number, latentLen: number, T = 1000): { t: Int32Array; eps: Float32Array } {
  const rng = new Rng(seed);
  const tr = rng.fork(`t/${update}`);
  const t = new Int32Array(batch);
  for (let i = 0; i < batch; i++) t[i] = tr.int(T);
  return { t, eps: rng.fork(`eps/${update}`).normals(batch * latentLen) };
}

/** Which training items each update takes: epoch-wise seeded permutations of 0…n−1 (the same for every arm). */
export class BatchOrder {
  private perms = new Map<number, number[]>();

  constructor(
    private readonly seed: number,
    /** Training items. */
    private readonly n: number,
    private readonly batchSize: number,
  ) {}

  /** Training-item indices of update u. */
  indices(update: number): number[] {
    const B = this.batchSize;
    const out: number[] = [];
    for (let j = 0; j < B; j++) {
      const pos = update * B + j;
      const epoch = Math.floor(pos / this.n);
      let perm = this.perms.get(epoch);
      if (!perm) {
        perm = new Rng(this.seed).fork(`order/${epoch}`).shuffle(Array.from({ length: this.n }, (_, i) => i));
        this.perms.clear(); // keep only the current epoch's
        this.perms.set(epoch, perm);
      }
      out.push(perm[pos % this.n]);
    }
    return out;
  }
}

/**
 * Prompt dropout during alignment (`alignDropout` = p): which items of update u see the empty
 * prompt in the loss's forwards — a function of (seed, u) only, the same for every arm. Trains the
 * unconditional branch that classifier-free guidance uses, as pretraining's prompt dropout does.
 */
export function dropoutMask(seed: number, update: number, batch: number, p: number): boolean[] {
  const r = new Rng(seed).fork(`dropout/${update}`);
  return Array.from({ length: batch }, () => r.next() < p);
}

/** The tensors of update u that every arm shares (disposed by the trainer after the last arm). */
export interface SharedBatch {
  /** Timesteps [B] (int32, for q_sample) and as floats (for the UNet's embedding). */
  t: tf.Tensor1D;
  tF: tf.Tensor1D;
  /** ε [B,S,S,C]. */
  eps: tf.Tensor4D;
  /** Text contexts of the loss's forwards [B,L,D] (with prompt dropout: the empty prompt's for the dropped items). */
  ctx: tf.Tensor3D;
  /** Text contexts of the batch's prompts [B,L,D], never dropped (reference sampling). */
  sampleCtx: tf.Tensor3D;
  /** The same for a pair x^w ‖ x^l [2B,…]: the same t and ε for both halves of a pair. */
  t2: tf.Tensor1D;
  tF2: tf.Tensor1D;
  eps2: tf.Tensor4D;
  ctx2: tf.Tensor3D;
}

/** Builds the shared tensors of one update from its noise, its items and the encoded contexts [N,L,D]. */
export function sharedBatchTensors(
  noise: { t: Int32Array; eps: Float32Array },
  idx: number[],
  contexts: tf.Tensor3D,
  latentShape: readonly [number, number, number],
  dropout?: { mask: boolean[]; uncond: tf.Tensor3D },
): SharedBatch {
  const B = idx.length;
  const [S, , C] = latentShape;
  return tf.tidy(() => {
    const t = tf.tensor1d(noise.t, 'int32');
    const eps = tf.tensor4d(noise.eps, [B, S, S, C]);
    const sampleCtx = tf.gather(contexts, tf.tensor1d(idx, 'int32')) as tf.Tensor3D; // [B,L,D]
    let ctx = sampleCtx;
    if (dropout && dropout.mask.some((m) => m)) {
      const [, L, D] = sampleCtx.shape;
      const keep = tf.tensor3d(dropout.mask.map((m) => (m ? 0 : 1)), [B, 1, 1]);
      ctx = sampleCtx.mul(keep).add(tf.broadcastTo(dropout.uncond, [B, L, D]).mul(tf.scalar(1).sub(keep))) as tf.Tensor3D;
    }
    return {
      t,
      tF: t.toFloat() as tf.Tensor1D,
      eps,
      ctx,
      sampleCtx,
      t2: tf.concat([t, t]) as tf.Tensor1D, // the same t and ε for both halves of a pair
      tF2: tf.concat([t, t]).toFloat() as tf.Tensor1D,
      eps2: tf.concat([eps, eps]) as tf.Tensor4D,
      ctx2: tf.concat([ctx, ctx]) as tf.Tensor3D,
    };
  });
}
