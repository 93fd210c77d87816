/**
 * The worker's cache of base-model evaluations (issue 18, item 7): IndexedDB database
 * `seppo-base-eval`, one object store `evals` (key → CachedBaseEval), the key built by
 * core/eval/baseEvalCache.ts's `baseEvalKey` (model and scorer hashes, prompts, seed, steps,
 * guidance, backend). At most `KEEP` entries, the oldest dropped. A separate database from the
 * saved runs (experiment-store.ts), so neither's upgrade touches the other; a failed write
 * (full disk) only costs the cache.
 */
import { layeredBaseEvalStore, memoryBaseEvalStore, type BaseEvalCacheStore, type CachedBaseEval } from '../core/eval/baseEvalCache';

export const BASE_EVAL_DB = 'seppo-base-eval';
const STORE = 'evals';
const KEEP = 8;

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(BASE_EVAL_DB, 1);
    req.onupgradeneeded = () => {
      if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE, { keyPath: 'key' });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB: could not open the base-evaluation cache'));
    req.onblocked = () => reject(new Error('IndexedDB: the base-evaluation cache is blocked by another tab'));
  });
}

async function run<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T> | void): Promise<T | undefined> {
  const db = await open();
  try {
    return await new Promise<T | undefined>((resolve, reject) => {
      const t = db.transaction([STORE], mode);
      let r: IDBRequest<T> | void;
      try {
        r = fn(t.objectStore(STORE));
      } catch (e) {
        reject(e);
        return;
      }
      t.oncomplete = () => resolve(r ? r.result : undefined);
      t.onerror = () => reject(t.error ?? new Error('IndexedDB transaction failed'));
      t.onabort = () => reject(t.error ?? new Error('IndexedDB transaction aborted'));
    });
  } finally {
    db.close();
  }
}

export const indexedDbBaseEvalStore: BaseEvalCacheStore = {
  async get(key) {
    if (typeof indexedDB === 'undefined') return null;
    return ((await run<CachedBaseEval>('readonly', (s) => s.get(key) as IDBRequest<CachedBaseEval>)) ?? null) as CachedBaseEval | null;
  },
  async put(entry) {
    if (typeof indexedDB === 'undefined') return;
    await run('readwrite', (s) => {
      s.put(entry);
      // Keep the newest KEEP entries (by savedAt).
      const all = s.getAll() as IDBRequest<CachedBaseEval[]>;
      all.onsuccess = () => {
        const old = all.result.sort((a, b) => b.savedAt - a.savedAt).slice(KEEP);
        for (const o of old) s.delete(o.key);
      };
    });
  },
};

/** Memory first (a reconfigure in the same worker), IndexedDB below (a reload). */
export const baseEvalStore: BaseEvalCacheStore = layeredBaseEvalStore(memoryBaseEvalStore(), indexedDbBaseEvalStore);
