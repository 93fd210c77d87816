/**
 * IndexedDB persistence of the running experiment (issue 7: a running experiment survives a
 * reload). The worker writes, at every checkpoint, the config, every record, the checkpoint
 * evaluations with their images, and each arm's policy weights as safetensors bytes; a reload
 * resumes from there, losing at most the updates since the last checkpoint.
 *
 * Plain IndexedDB (works in the worker and the page), one database, one object store, two keys:
 * 'run' (the whole saved run) and 'playing' (a tiny flag written on every play/pause).
 */
import type { ExperimentConfig } from '../core/config';
import type { ExpBaseEval, ExpCheckpointRecord, ExpEvalImages, ExpUpdateRecord } from './protocol-experiment';

export const DB_NAME = 'seppo-playground';
const STORE = 'experiment';

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

function available(): boolean {
  return typeof indexedDB !== 'undefined';
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => {
      if (!req.result.objectStoreNames.contains(STORE)) req.result.createObjectStore(STORE);
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB: could not open the database'));
    req.onblocked = () => reject(new Error('IndexedDB: the database is blocked by another tab'));
  });
}

async function tx<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T> | void): Promise<T | undefined> {
  const db = await open();
  try {
    return await new Promise<T | undefined>((resolve, reject) => {
      const t = db.transaction(STORE, mode);
      const r = fn(t.objectStore(STORE));
      t.oncomplete = () => resolve(r ? r.result : undefined);
      t.onerror = () => reject(t.error ?? new Error('IndexedDB transaction failed'));
      t.onabort = () => reject(t.error ?? new Error('IndexedDB transaction aborted (storage full?)'));
    });
  } finally {
    db.close();
  }
}

export async function saveRun(run: StoredRun): Promise<void> {
  if (!available()) return;
  await tx('readwrite', (s) => s.put(run, 'run'));
}

export async function loadRun(): Promise<StoredRun | null> {
  if (!available()) return null;
  const r = (await tx<StoredRun>('readonly', (s) => s.get('run'))) ?? null;
  return r && r.version === 1 ? r : null;
}

export async function savePlaying(playing: boolean): Promise<void> {
  if (!available()) return;
  await tx('readwrite', (s) => s.put(playing, 'playing'));
}

export async function loadPlaying(): Promise<boolean> {
  if (!available()) return false;
  return ((await tx<boolean>('readonly', (s) => s.get('playing'))) ?? false) === true;
}

export async function clearRun(): Promise<void> {
  if (!available()) return;
  await tx('readwrite', (s) => {
    s.delete('run');
    s.delete('playing');
  });
}

/** The persistence the session uses (IndexedDB in the browser; an in-memory one in tests). */
export interface RunStore {
  saveRun(run: StoredRun): Promise<void>;
  loadRun(): Promise<StoredRun | null>;
  savePlaying(playing: boolean): Promise<void>;
  loadPlaying(): Promise<boolean>;
  clearRun(): Promise<void>;
}

export const indexedDbStore: RunStore = { saveRun, loadRun, savePlaying, loadPlaying, clearRun };

/** A store that keeps everything in memory (tests, or browsers without IndexedDB). */
export function memoryStore(): RunStore & { run: StoredRun | null; playing: boolean } {
  const m = {
    run: null as StoredRun | null,
    playing: false,
    saveRun: async (r: StoredRun) => void (m.run = structuredClone(r)),
    loadRun: async () => (m.run ? structuredClone(m.run) : null),
    savePlaying: async (p: boolean) => void (m.playing = p),
    loadPlaying: async () => m.playing,
    clearRun: async () => {
      m.run = null;
      m.playing = false;
    },
  };
  return m;
}
