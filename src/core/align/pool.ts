/**
 * The checkpoint pool of Algorithm 1 (paper §4.1, DESIGN §4): frozen copies θ₀ … θ_{k−1} of the
 * policy UNet, saved every N updates, from which each iteration draws its reference model:
 *   'init'   → θ₀        (DITTO-like; conventional DPO's fixed reference)
 *   'latest' → θ_{k−1}   (SPIN-like)
 *   'random' → uniform over θ₀ … θ_{k−1}   (SePPO)
 * At most K checkpoints are kept; when full, the oldest one after θ₀ is dropped (θ₀ always stays,
 * so 'init' keeps its meaning), and entries keep their original index k.
 */
import * as tf from '@tensorflow/tfjs';
import { cloneParams, disposeParams, type Params } from '../model/sd';
import type { Rng } from '../rng';
import type { RefStrategy } from '../config';

export interface PoolEntry {
  /** k of θ_k: 0 for the initial model, then 1, 2, … in saving order. */
  k: number;
  /** Number of updates the policy had taken when this snapshot was saved. */
  update: number;
  params: Params;
  /** False for a θ₀ shared between arms (disposed by its owner, not by this pool). */
  owned: boolean;
}

/** Index into a pool of `size` entries (θ₀ … θ_{size−1}) chosen by `strategy`; `rng` is used by 'random' only. */
export function pickReferenceIndex(strategy: RefStrategy, size: number, rng: Rng): number {
  if (size < 1) throw new Error('pickReferenceIndex: the pool is empty (θ₀ must be saved first)');
  switch (strategy) {
    case 'init':
      return 0;
    case 'latest':
      return size - 1;
    case 'random':
      return rng.int(size);
    default:
      throw new Error(`pickReferenceIndex: strategy must be one of init, latest, random, got ${String(strategy)}`);
  }
}

const bytesOf = (p: Params) => Object.values(p).reduce((a, v: tf.Variable) => a + v.size * 4, 0);

export class CheckpointPool {
  private entries: PoolEntry[] = [];
  private nextK = 0;
  private disposed = false;

  /**
   * @param maxCheckpoints K (≥ 1)
   * @param prefix variable-name prefix for snapshots (`<prefix>ref<k>/…`); must be globally unique
   */
  constructor(
    readonly maxCheckpoints: number,
    readonly prefix: string,
  ) {
    if (!Number.isInteger(maxCheckpoints) || maxCheckpoints < 1) {
      throw new Error(`CheckpointPool: maxCheckpoints must be an integer ≥ 1, got ${maxCheckpoints}`);
    }
  }

  get size(): number {
    return this.entries.length;
  }

  /** The entries, oldest first (θ₀ first). */
  list(): readonly PoolEntry[] {
    return this.entries;
  }

  get(i: number): PoolEntry {
    const e = this.entries[i];
    if (!e) throw new Error(`CheckpointPool: no entry ${i} (size ${this.size})`);
    return e;
  }

  /** Adds an existing frozen θ₀ shared with other pools (not copied, not disposed here). */
  addShared(params: Params, update = 0): PoolEntry {
    return this.push({ k: this.nextK++, update, params, owned: false });
  }

  /** Saves a frozen snapshot of `policy` as the next θ_k. */
  save(policy: Params, update: number): PoolEntry {
    const k = this.nextK++;
    // tidy: cloneParams' intermediate `clone()` tensors would otherwise stay counted (variables survive tidy).
    const params = tf.tidy(() => cloneParams(policy, `${this.prefix}ref${k}`));
    return this.push({ k, update, params, owned: true });
  }

  private push(e: PoolEntry): PoolEntry {
    if (this.disposed) throw new Error('CheckpointPool: used after dispose()');
    this.entries.push(e);
    if (this.entries.length > this.maxCheckpoints) {
      // Keep θ₀; drop the oldest later checkpoint (or θ₀ itself only when K = 1).
      const drop = this.maxCheckpoints === 1 ? 0 : 1;
      const [old] = this.entries.splice(drop, 1);
      if (old.owned) disposeParams(old.params);
    }
    return e;
  }

  /** The reference model for an iteration, by strategy. */
  pick(strategy: RefStrategy, rng: Rng): PoolEntry {
    return this.get(pickReferenceIndex(strategy, this.size, rng));
  }

  /** Bytes of parameters held: `owned` by this pool, `shared` (θ₀ shared with other arms). */
  memory(): { ownedBytes: number; sharedBytes: number; checkpoints: number } {
    let ownedBytes = 0;
    let sharedBytes = 0;
    for (const e of this.entries) {
      if (e.owned) ownedBytes += bytesOf(e.params);
      else sharedBytes += bytesOf(e.params);
    }
    return { ownedBytes, sharedBytes, checkpoints: this.size };
  }

  dispose(): void {
    for (const e of this.entries) if (e.owned) disposeParams(e.params);
    this.entries = [];
    this.disposed = true;
  }
}
