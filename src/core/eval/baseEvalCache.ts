/**
 * The base model's evaluation, cut short and cached (issue 18, item 7).
 *
 *  - `EvaluationCutShort`: thrown by an evaluator that was asked to stop; the experiment then has
 *    no base figures (no win rates against the base) and says so, never partial numbers.
 *  - `baseEvalKey`: everything the base's evaluation numbers depend on: the base model's identity
 *    (a hash of its config and weight bytes), the scorers' identity, the evaluation protocol
 *    (prompt texts in order, noise seed, DDIM steps, guidance) and the backend. A changed model,
 *    scorer, protocol or backend is a different key, so a stale entry is never hit.
 *  - `cachedBaseEval`: looks the key up in a store, else computes and stores. A cut-short
 *    evaluation is never stored; store failures (quota, a closed database) only cost the cache.
 *
 * Pure: no DOM, no IndexedDB (the worker's store is src/worker/base-eval-store.ts).
 */
import type { EvalResult } from '../align/records';

/** The evaluator was asked to stop before it finished: `done` of `total` images were made. */
export class EvaluationCutShort extends Error {
  constructor(
    readonly done: number,
    readonly total: number,
  ) {
    super(`the evaluation was cut short after ${done} of ${total} images`);
    this.name = 'EvaluationCutShort';
  }
}

export const isCutShort = (e: unknown): e is EvaluationCutShort => e instanceof EvaluationCutShort || (e instanceof Error && e.name === 'EvaluationCutShort');

/** FNV-1a (32-bit) of bytes or a string's UTF-16 code units, as 8 hex digits; `h` chains calls. */
export function fnv1a(data: Uint8Array | string, h = 0x811c9dc5): string {
  let x = h >>> 0;
  if (typeof data === 'string') {
    for (let i = 0; i < data.length; i++) {
      x ^= data.charCodeAt(i);
      x = Math.imul(x, 0x01000193) >>> 0;
    }
  } else {
    for (let i = 0; i < data.length; i++) {
      x ^= data[i];
      x = Math.imul(x, 0x01000193) >>> 0;
    }
  }
  return x.toString(16).padStart(8, '0');
}

/** A file's identity: its length and two FNV-1a hashes (different offset bases), cheap and collision-resistant enough for a cache key. */
export function fileIdentity(bytes: Uint8Array | string): string {
  return `${bytes.length}:${fnv1a(bytes)}${fnv1a(bytes, 0x050c5d1f)}`;
}

export interface BaseEvalIdentity {
  /** The base model's identity (fileIdentity of its config and weights). */
  model: string;
  /** The scorers' identity (their files). */
  scorers: string;
  /** The evaluation prompts' texts, in order. */
  prompts: string[];
  seed: number;
  steps: number;
  guidance: number;
  /** tfjs backend: the numbers differ slightly between backends. */
  backend: string;
}

export const BASE_EVAL_CACHE_VERSION = 1;

/** The cache key: a stable JSON of the identity (field order fixed here), with a version. */
export function baseEvalKey(id: BaseEvalIdentity): string {
  return JSON.stringify([`base-eval/v${BASE_EVAL_CACHE_VERSION}`, id.model, id.scorers, id.backend, id.seed, id.steps, id.guidance, id.prompts]);
}

export interface CachedBaseEval {
  key: string;
  /** When the evaluation was computed (ms since the epoch). */
  savedAt: number;
  result: EvalResult;
}

export interface BaseEvalCacheStore {
  get(key: string): Promise<CachedBaseEval | null>;
  put(entry: CachedBaseEval): Promise<void>;
}

/** A cached result is used only when it is whole: the same key, one finite per-image row per prompt. */
export function usableEntry(e: CachedBaseEval | null | undefined, key: string, images: number): e is CachedBaseEval {
  if (!e || e.key !== key || !e.result || !Array.isArray(e.result.perImage) || e.result.perImage.length !== images) return false;
  const finite = (m: Record<string, number>) => Object.values(m).every((v) => typeof v === 'number' && Number.isFinite(v));
  return finite(e.result.mean) && e.result.perImage.every(finite) && (!e.result.images || e.result.images.length === images);
}

/**
 * The base evaluation under `key`: from `store` when a whole entry is there (`cachedAt` its date),
 * else computed (`cachedAt` null) and stored. A cut-short computation throws through, storing nothing.
 */
export async function cachedBaseEval(
  store: BaseEvalCacheStore | undefined,
  key: string,
  images: number,
  compute: () => Promise<EvalResult>,
  now: () => number = Date.now,
): Promise<{ result: EvalResult; cachedAt: number | null }> {
  if (store) {
    const hit = await store.get(key).catch(() => null);
    if (usableEntry(hit, key, images)) return { result: hit.result, cachedAt: hit.savedAt };
  }
  const result = await compute();
  if (store) await store.put({ key, savedAt: now(), result }).catch(() => undefined);
  return { result, cachedAt: null };
}

/** An in-memory store (the worker's first layer; tests). */
export function memoryBaseEvalStore(limit = 4): BaseEvalCacheStore & { size(): number } {
  const m = new Map<string, CachedBaseEval>();
  return {
    get: async (key) => m.get(key) ?? null,
    put: async (e) => {
      m.delete(e.key);
      m.set(e.key, e);
      while (m.size > limit) m.delete(m.keys().next().value!);
    },
    size: () => m.size,
  };
}

/** Memory in front of a slower store: a hit below is kept in memory; a put goes to both. */
export function layeredBaseEvalStore(front: BaseEvalCacheStore, back: BaseEvalCacheStore): BaseEvalCacheStore {
  return {
    get: async (key) => {
      const a = await front.get(key).catch(() => null);
      if (a) return a;
      const b = await back.get(key);
      if (b) await front.put(b).catch(() => undefined);
      return b;
    },
    put: async (e) => {
      await front.put(e).catch(() => undefined);
      await back.put(e);
    },
  };
}
