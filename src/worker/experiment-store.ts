/**
 * IndexedDB persistence of experiments' runs (issue 7: a run survives a reload; issue 18: saved
 * runs are a list, one per experiment, kept until the user deletes them).
 *
 * The worker writes, at every checkpoint, the config, every record, the checkpoint evaluations
 * with their images and each arm's policy weights (safetensors bytes), under the experiment's
 * key (its canonical config). Opening another experiment never deletes a saved run; Reset deletes
 * the run of the experiment it restarts; the page's "Saved runs" list deletes on request.
 *
 *  - Two object stores written in one transaction: `runs` (key → the whole StoredRun) and
 *    `index` (key → a small SavedRunSummary), so the list never reads weights or images.
 *  - Two tabs never overwrite each other: only the tab holding the experiment's Web Lock
 *    (`seppo-run:<key>`, taken at the first save and held until that tab opens another
 *    experiment or closes) may write it. A second tab on the same experiment may resume from
 *    the saved run but its own progress is not saved (saveRun throws a RunStoreError 'locked').
 *  - A full disk aborts the transaction, so the previous save stays intact; saveRun throws a
 *    RunStoreError 'quota' with a message the page shows as is.
 *  - Every write posts on the BroadcastChannel `seppo-runs`, so every open tab refreshes its list.
 *
 * Plain IndexedDB: works in the worker and in the page (which lists and deletes directly).
 */
import type { ExperimentConfig } from '../core/config';
import type { ExpBaseEval, ExpCheckpointRecord, ExpEvalImages, ExpUpdateRecord } from './protocol-experiment';

export const DB_NAME = 'seppo-playground';
const DB_VERSION = 2;
const RUNS = 'runs';
const INDEX = 'index';
/** Version 1 kept one run under the key 'run' in this store; it is moved into the list on upgrade. */
const LEGACY = 'experiment';
export const RUNS_CHANNEL = 'seppo-runs';
const LOCK_PREFIX = 'seppo-run:';

export interface StoredRun {
  version: 1;
  config: ExperimentConfig;
  /** Updates done when saved (always a checkpoint). */
  update: number;
  base: ExpBaseEval | null;
  records: ExpUpdateRecord[];
  checkpoints: ExpCheckpointRecord[];
  evals: ExpEvalImages[];
  halted: { arm: string; message: string }[];
  /** Each arm's policy UNet at `update`, safetensors bytes (names without the arm's prefix). */
  weights: Record<string, Uint8Array>;
  savedAt: number;
}

/** One row of the "Saved runs" list. */
export interface SavedRunSummary {
  key: string;
  config: ExperimentConfig;
  /** Updates done at the save. */
  update: number;
  savedAt: number;
  /** Approximate bytes the run takes (weights, images, records). */
  bytes: number;
  /** Whether it was playing when last saved or paused (a reload resumes playing). */
  playing: boolean;
}

export type RunStoreErrorKind = 'quota' | 'locked' | 'unavailable' | 'failed';

export class RunStoreError extends Error {
  constructor(
    readonly kind: RunStoreErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'RunStoreError';
  }
}

/** The persistence the session uses (IndexedDB in the browser; an in-memory one in tests). */
export interface RunStore {
  /** Saves the run under its experiment's key (replacing that experiment's previous save only). */
  saveRun(run: StoredRun): Promise<void>;
  /** The saved run of exactly this experiment, or null. */
  loadRun(config: ExperimentConfig): Promise<StoredRun | null>;
  savePlaying(config: ExperimentConfig, playing: boolean): Promise<void>;
  deleteRun(config: ExperimentConfig): Promise<void>;
  /** Every saved run, newest first. */
  list(): Promise<SavedRunSummary[]>;
  /** This tab now works on `config`: releases the experiment it held; true if it may write this one. */
  claim(config: ExperimentConfig): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------
// Keys, sizes, messages (pure)

/** Key-order independent JSON (undefined fields dropped): equal configs give equal strings. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(canonical(v));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) o[k] = canonical(x);
    }
    return o;
  }
  return v;
}

/** The experiment's key: 'exp-' + two FNV-1a 32-bit hashes of its canonical JSON (the config is stored and compared too). */
export function runKey(config: ExperimentConfig): string {
  const s = canonicalJson(config);
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return `exp-${h1.toString(16).padStart(8, '0')}${h2.toString(16).padStart(8, '0')}`;
}

/** Approximate bytes of a saved run: weights and images exactly, the rest as JSON text. */
export function runBytes(run: StoredRun): number {
  let n = 0;
  for (const w of Object.values(run.weights)) n += w.byteLength;
  const images = (list: Float32Array[] | undefined) => (list ?? []).reduce((a, im) => a + im.byteLength, 0);
  n += images(run.base?.images);
  for (const e of run.evals) n += images(e.images);
  n += JSON.stringify({ c: run.config, r: run.records, k: run.checkpoints, h: run.halted, p: run.evals.map((e) => e.perImage), b: run.base?.perImage }).length;
  return n;
}

export function summarize(run: StoredRun, playing: boolean): SavedRunSummary {
  return { key: runKey(run.config), config: run.config, update: run.update, savedAt: run.savedAt, bytes: runBytes(run), playing };
}

export function isQuotaError(e: unknown): boolean {
  const name = (e as { name?: string } | null)?.name ?? '';
  const msg = e instanceof Error ? e.message : String(e);
  return name === 'QuotaExceededError' || /quota/i.test(name) || /quota|storage.*full|disk.*full/i.test(msg);
}

export function quotaMessage(update: number, bytes: number): string {
  return (
    `Could not save the run at update ${update}: the browser's storage for this site is full (the run needs about ${formatBytes(bytes)}). ` +
    'Training goes on and every run saved before is intact, but a reload would lose the progress since the last save. ' +
    'Delete saved runs you no longer need (Saved runs, below) to make room.'
  );
}

export function lockedMessage(update: number): string {
  return (
    `Not saved at update ${update}: this experiment is open in another tab, which saves it. ` +
    'This tab trains on without saving so that the two never overwrite each other; close the other tab (or open another experiment there) to save here.'
  );
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}

// ---------------------------------------------------------------------------------------------
// IndexedDB

function available(): boolean {
  return typeof indexedDB !== 'undefined';
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(RUNS)) db.createObjectStore(RUNS);
      if (!db.objectStoreNames.contains(INDEX)) db.createObjectStore(INDEX);
      if (db.objectStoreNames.contains(LEGACY)) {
        // Keep the one run version 1 saved: move it into the list, then drop the old store.
        const t = req.transaction!;
        const legacy = t.objectStore(LEGACY);
        const getRun = legacy.get('run');
        const getPlaying = legacy.get('playing');
        getPlaying.onsuccess = () => {
          const run = getRun.result as StoredRun | undefined; // requests of one transaction complete in order
          if (run && run.version === 1 && run.config) {
            const s = summarize(run, getPlaying.result === true);
            t.objectStore(RUNS).put(run, s.key);
            t.objectStore(INDEX).put(s, s.key);
          }
          db.deleteObjectStore(LEGACY);
        };
      }
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB: could not open the database'));
    req.onblocked = () => reject(new Error('IndexedDB: the database is blocked by another tab (an older version of the page is open)'));
  });
}

async function tx<T>(stores: string[], mode: IDBTransactionMode, fn: (t: IDBTransaction) => IDBRequest<T> | void): Promise<T | undefined> {
  const db = await open();
  try {
    return await new Promise<T | undefined>((resolve, reject) => {
      const t = db.transaction(stores, mode);
      let r: IDBRequest<T> | void;
      try {
        r = fn(t);
      } catch (e) {
        reject(e);
        return;
      }
      t.oncomplete = () => resolve(r ? r.result : undefined);
      t.onerror = () => reject(t.error ?? new Error('IndexedDB transaction failed'));
      t.onabort = () => reject(t.error ?? new Error('IndexedDB transaction aborted (storage full?)'));
    });
  } finally {
    db.close();
  }
}

function broadcast(msg: { type: 'saved' | 'deleted' | 'playing'; key: string }) {
  if (typeof BroadcastChannel === 'undefined') return;
  const ch = new BroadcastChannel(RUNS_CHANNEL);
  ch.postMessage(msg);
  ch.close();
}

/** Subscribes to saves and deletions from any tab (and this one's worker). */
export function onRunsChanged(fn: () => void): () => void {
  if (typeof BroadcastChannel === 'undefined') return () => undefined;
  const ch = new BroadcastChannel(RUNS_CHANNEL);
  ch.onmessage = () => fn();
  return () => ch.close();
}

// Web Locks: the tab's worker holds the lock of the experiment it writes.
interface LockManagerLike {
  request(name: string, opts: { ifAvailable: boolean }, cb: (lock: unknown) => Promise<void> | void): Promise<unknown>;
}
let held: { key: string; release: () => void } | null = null;

async function takeLock(key: string): Promise<boolean> {
  if (held?.key === key) return true;
  held?.release();
  held = null;
  const locks = (globalThis.navigator as unknown as { locks?: LockManagerLike } | undefined)?.locks;
  if (!locks) {
    held = { key, release: () => undefined }; // no Web Locks: one writer per experiment cannot be enforced; write anyway
    return true;
  }
  return new Promise<boolean>((resolve) => {
    locks
      .request(LOCK_PREFIX + key, { ifAvailable: true }, (lock) => {
        if (!lock) {
          resolve(false);
          return;
        }
        return new Promise<void>((release) => {
          held = { key, release };
          resolve(true);
        });
      })
      .catch(() => {
        held = { key, release: () => undefined };
        resolve(true);
      });
  });
}

export async function saveRun(run: StoredRun): Promise<void> {
  if (!available()) throw new RunStoreError('unavailable', 'Not saved: this browser offers no IndexedDB here (private window?), so a reload starts over.');
  const key = runKey(run.config);
  if (!(await takeLock(key))) throw new RunStoreError('locked', lockedMessage(run.update));
  const prev = await tx<SavedRunSummary>([INDEX], 'readonly', (t) => t.objectStore(INDEX).get(key)).catch(() => undefined);
  const summary = summarize(run, prev?.playing ?? false);
  try {
    await tx([RUNS, INDEX], 'readwrite', (t) => {
      t.objectStore(RUNS).put(run, key);
      t.objectStore(INDEX).put(summary, key);
    });
  } catch (e) {
    if (isQuotaError(e)) throw new RunStoreError('quota', quotaMessage(run.update, summary.bytes));
    throw new RunStoreError('failed', `Could not save the run at update ${run.update}: ${e instanceof Error ? e.message : String(e)}`);
  }
  broadcast({ type: 'saved', key });
}

export async function loadRun(config: ExperimentConfig): Promise<StoredRun | null> {
  if (!available()) return null;
  const r = (await tx<StoredRun>([RUNS], 'readonly', (t) => t.objectStore(RUNS).get(runKey(config)))) ?? null;
  return r && r.version === 1 && canonicalJson(r.config) === canonicalJson(config) ? r : null;
}

export async function savePlaying(config: ExperimentConfig, playing: boolean): Promise<void> {
  if (!available()) return;
  const key = runKey(config);
  if (held?.key !== key) return; // only the tab that writes this run records its play state
  await tx([INDEX], 'readwrite', (t) => {
    const s = t.objectStore(INDEX);
    const g = s.get(key);
    g.onsuccess = () => {
      try {
        if (g.result) s.put({ ...(g.result as SavedRunSummary), playing }, key);
      } catch {
        t.abort(); // a put refused at once (full disk): the transaction fails, never an uncaught error
      }
    };
  });
  broadcast({ type: 'playing', key });
}

export async function deleteRunByKey(key: string): Promise<void> {
  if (!available()) return;
  await tx([RUNS, INDEX], 'readwrite', (t) => {
    t.objectStore(RUNS).delete(key);
    t.objectStore(INDEX).delete(key);
  });
  broadcast({ type: 'deleted', key });
}

export async function listRuns(): Promise<SavedRunSummary[]> {
  if (!available()) return [];
  const all = ((await tx<SavedRunSummary[]>([INDEX], 'readonly', (t) => t.objectStore(INDEX).getAll() as IDBRequest<SavedRunSummary[]>)) ?? []).filter(
    (s) => s && typeof s.key === 'string' && s.config,
  );
  return all.sort((a, b) => b.savedAt - a.savedAt);
}

export const indexedDbStore: RunStore = {
  saveRun,
  loadRun,
  savePlaying,
  deleteRun: (config) => deleteRunByKey(runKey(config)),
  list: listRuns,
  claim: (config) => takeLock(runKey(config)),
};

// ---------------------------------------------------------------------------------------------
// In memory (tests, or browsers without IndexedDB)

/**
 * A store that keeps everything in memory. `run` is the most recently saved run (reading) or
 * replaces the saved run of its experiment (writing). Stores made with the same `locks` map act
 * as tabs of one browser: only one of them at a time writes an experiment.
 */
export function memoryStore(locks: Map<string, object> = new Map()): RunStore & { run: StoredRun | null; runs: Map<string, StoredRun>; playing: Map<string, boolean> } {
  const runs = new Map<string, StoredRun>();
  const playing = new Map<string, boolean>();
  const me = {};
  let mine: string | null = null;
  const claim = async (config: ExperimentConfig) => {
    const key = runKey(config);
    if (mine === key) return true;
    if (mine && locks.get(mine) === me) locks.delete(mine);
    mine = null;
    if (locks.has(key)) return false;
    locks.set(key, me);
    mine = key;
    return true;
  };
  const m = {
    runs,
    playing,
    get run(): StoredRun | null {
      let last: StoredRun | null = null;
      for (const r of runs.values()) if (!last || r.savedAt >= last.savedAt) last = r;
      return last ? structuredClone(last) : null;
    },
    set run(r: StoredRun | null) {
      if (r) runs.set(runKey(r.config), structuredClone(r));
    },
    saveRun: async (r: StoredRun) => {
      if (!(await claim(r.config))) throw new RunStoreError('locked', lockedMessage(r.update));
      runs.set(runKey(r.config), structuredClone(r));
    },
    loadRun: async (config: ExperimentConfig) => {
      const r = runs.get(runKey(config));
      return r && canonicalJson(r.config) === canonicalJson(config) ? structuredClone(r) : null;
    },
    savePlaying: async (config: ExperimentConfig, p: boolean) => void playing.set(runKey(config), p),
    deleteRun: async (config: ExperimentConfig) => {
      runs.delete(runKey(config));
      playing.delete(runKey(config));
    },
    list: async () => [...runs.values()].map((r) => summarize(r, playing.get(runKey(r.config)) ?? false)).sort((a, b) => b.savedAt - a.savedAt),
    claim,
  };
  return m;
}
