/**
 * Saved runs are a list keyed by the experiment (issue 18): opening another experiment never
 * deletes a saved run, reopening resumes it, two tabs never overwrite each other, and a full disk
 * gets a clear message while the run trains on. The session over the real engine, a tiny model,
 * and the in-memory store (IndexedDB itself is covered by e2e/saved-runs.spec.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../core/backend';
import { parseExperimentConfig, PRESETS, type ExperimentConfig } from '../core/config';
import type { Evaluator } from '../core/align/trainer';
import { disposeReducedSD, initReducedSD, type ReducedSD, type SDConfig } from '../core/model/sd';
import { MAX_TOKENS, VOCAB, type Dataset } from '../core/world';
import { tinyAlignmentDataset } from '../core/align/testFixtures';
import { ExperimentSession } from './experiment-session';
import type { WorkerEvent } from './protocol';
import {
  canonicalJson,
  formatBytes,
  isQuotaError,
  memoryStore,
  quotaMessage,
  runBytes,
  runKey,
  RunStoreError,
  type RunStore,
  type StoredRun,
} from './experiment-store';

const TINY: SDConfig = {
  ae: { imageSize: 32, imageChannels: 3, latentChannels: 4, channels: [8, 8, 8], groups: 4 },
  text: { vocabSize: VOCAB.length, maxTokens: MAX_TOKENS, dim: 16, heads: 2, mlpMult: 2 },
  unet: { latentChannels: 4, latentSize: 8, channels: [16, 16], timeDim: 16, ctxDim: 16, heads: 2, groups: 4 },
};

let base: ReducedSD;
let ds: Dataset;

// No sampling: the store's behaviour does not depend on the images.
const evaluate: Evaluator = async (_m, prompts) => {
  const perImage = prompts.map(() => ({ pickScore: 20, hps: 0, alignment: 0.5, aesthetic: 5, trueUtility: 0.5 }));
  return { images: prompts.map(() => new Float32Array(32 * 32 * 3)), perImage, mean: { ...perImage[0] } };
};

beforeAll(async () => {
  await initNodeBackend('wasm');
  base = initReducedSD('storebase', TINY, 5);
  ds = tinyAlignmentDataset();
});
afterAll(() => disposeReducedSD(base));

const cfg = (seed = 0): ExperimentConfig =>
  parseExperimentConfig({ ...PRESETS.smoke, seed, dataSize: 8, evalPrompts: 2, updates: 4, checkpointEvery: 2, maxCheckpoints: 3 });

function tab(store: RunStore) {
  const warnings: string[] = [];
  const emit = (e: WorkerEvent) => {
    if (e.type === 'log' && e.level === 'warn') warnings.push(e.message);
  };
  const s = new ExperimentSession(emit, { loadAssets: async () => ({ base, dataset: ds, evaluate }), backend: () => 'wasm', store });
  return { s, warnings };
}

describe('keys and sizes', () => {
  it('the key depends on the config, not on key order or undefined fields', () => {
    const a = cfg(0);
    const shuffled = Object.fromEntries(Object.entries(a).reverse()) as ExperimentConfig;
    expect(runKey(shuffled)).toBe(runKey(a));
    expect(runKey({ ...a, notes: undefined } as ExperimentConfig)).toBe(runKey(a));
    expect(runKey(cfg(1))).not.toBe(runKey(a));
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe('{"a":[{"c":3,"d":2}],"b":1}');
  });

  it('size counts weights and images exactly, plus the records', () => {
    const run: StoredRun = {
      version: 1, config: cfg(), update: 2, base: { metrics: {}, perImage: [], images: [new Float32Array(10)] },
      records: [], checkpoints: [], evals: [{ arm: 'a', update: 2, images: [new Float32Array(5)], perImage: [] }], halted: [],
      weights: { a: new Uint8Array(1000) }, savedAt: 1,
    };
    const n = runBytes(run);
    expect(n).toBeGreaterThan(1000 + 40 + 20);
    expect(n).toBeLessThan(1000 + 40 + 20 + 5000);
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3.0 MB');
  });

  it('recognises quota errors and names the size in the message', () => {
    expect(isQuotaError(Object.assign(new Error('x'), { name: 'QuotaExceededError' }))).toBe(true);
    expect(isQuotaError(new Error('The transaction was aborted, so the request cannot be fulfilled: quota exceeded'))).toBe(true);
    expect(isQuotaError(new Error('constraint failed'))).toBe(false);
    expect(quotaMessage(10, 2 * 1024 * 1024)).toMatch(/update 10.*full.*2\.0 MB.*intact/);
  });
});

describe('saved runs keyed by the experiment (session + in-memory store)', () => {
  it('opening another experiment keeps the first run; reopening it resumes at its save', async () => {
    const store = memoryStore();
    const t = tab(store);
    await t.s.configure(cfg(0), true);
    await t.s.step();
    await t.s.step(); // saved at 2
    expect((await store.list()).map((r) => [r.key, r.update])).toEqual([[runKey(cfg(0)), 2]]);
    // Another experiment in the same tab: configured fresh, and the first run is still there.
    const other = await t.s.configure(cfg(1), true);
    expect(other.resumedFrom).toBeNull();
    await t.s.step();
    await t.s.step(); // saves the second experiment too
    const list = await store.list();
    expect(list.map((r) => r.key).sort()).toEqual([runKey(cfg(0)), runKey(cfg(1))].sort());
    expect(list[0].key).toBe(runKey(cfg(1))); // newest first
    // Reopen the first: it resumes at update 2.
    const back = await t.s.configure(cfg(0), true);
    expect(back.resumedFrom).toBe(2);
    expect(back.update).toBe(2);
    expect((await t.s.stored())!.config.seed).toBe(1); // the latest save is the other experiment's
  }, 120_000);

  it('Reset deletes only the saved run of the experiment it restarts', async () => {
    const store = memoryStore();
    const t = tab(store);
    await t.s.configure(cfg(1), true);
    await t.s.step();
    await t.s.step();
    await t.s.configure(cfg(0), true);
    await t.s.step();
    await t.s.step();
    await t.s.reset();
    expect((await store.list()).map((r) => r.key)).toEqual([runKey(cfg(1))]);
  }, 120_000);

  it('two tabs on one experiment: the second may resume from the save but never overwrites it, and says why', async () => {
    const locks = new Map<string, object>();
    const runs = memoryStore(locks);
    const a = tab(runs);
    await a.s.configure(cfg(0), true);
    await a.s.step();
    await a.s.step(); // tab A saved at 2 and holds the experiment
    // Tab B shares the browser's storage (same runs map) and locks.
    const bStore = memoryStore(locks);
    bStore.runs.set(runKey(cfg(0)), runs.runs.get(runKey(cfg(0)))!);
    const b = tab(bStore);
    const snap = await b.s.configure(cfg(0), true);
    expect(snap.resumedFrom).toBe(2);
    await b.s.step();
    await b.s.step(); // checkpoint at 4: not saved
    expect(bStore.runs.get(runKey(cfg(0)))!.update).toBe(2);
    expect(b.warnings.join('\n')).toMatch(/Not saved at update 4: this experiment is open in another tab/);
    // Tab A opens another experiment: it lets go, and B's next save goes through.
    await a.s.configure(cfg(1), true);
    expect(await bStore.claim(cfg(0))).toBe(true);
  }, 120_000);

  it('a full disk: the run trains on with a clear message, and the earlier save is intact', async () => {
    const store = memoryStore();
    const t = tab(store);
    await t.s.configure(cfg(0), true);
    await t.s.step();
    await t.s.step(); // saved at 2
    const real = store.saveRun;
    store.saveRun = async (r: StoredRun) => {
      throw new RunStoreError('quota', quotaMessage(r.update, runBytes(r)));
    };
    await t.s.step();
    const r = await t.s.step(); // checkpoint at 4: the save fails
    expect(r.update).toBe(4);
    expect(t.s.snapshot().status).toBe('done');
    expect(t.warnings.join('\n')).toMatch(/Could not save the run at update 4: the browser's storage for this site is full/);
    expect((await store.loadRun(cfg(0)))!.update).toBe(2);
    store.saveRun = real;
  }, 120_000);

  it('the play loop yields to the event loop between updates, so a pause sent as a message lands at once (WASM steps never yield by themselves)', async () => {
    const t = tab(memoryStore());
    await t.s.configure(parseExperimentConfig({ ...cfg(0), updates: 40, checkpointEvery: 40 }), true);
    t.s.play();
    // A message handler runs as a macrotask, like the worker's onmessage.
    const paused = await new Promise<{ update: number }>((resolve) => setTimeout(() => void t.s.pause().then(resolve), 0));
    expect(paused.update).toBeLessThan(5);
    expect(t.s.snapshot().status).toBe('paused');
  }, 120_000);
});
