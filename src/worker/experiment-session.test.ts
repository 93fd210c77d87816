import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../core/backend';
import { parseExperimentConfig, PRESETS } from '../core/config';
import { memoryBaseEvalStore, type BaseEvalCacheStore } from '../core/eval/baseEvalCache';
import { sampleImages } from '../core/diffusion/sample';
import { disposeReducedSD, initReducedSD, type ReducedSD, type SDConfig } from '../core/model/sd';
import { MAX_TOKENS, tokenize, VOCAB, type Dataset } from '../core/world';
import { ExperimentSession, type SessionAssets } from './experiment-session';
import type { WorkerEvent } from './protocol';
import type { ExperimentEvent } from './protocol-experiment';
import { memoryStore, type RunStore } from './experiment-store';
import { tinyAlignmentDataset } from '../core/align/testFixtures';

// A tiny randomly initialised model: the session's wiring does not depend on pretraining.
const TINY: SDConfig = {
  ae: { imageSize: 32, imageChannels: 3, latentChannels: 4, channels: [8, 8, 8], groups: 4 },
  text: { vocabSize: VOCAB.length, maxTokens: MAX_TOKENS, dim: 16, heads: 2, mlpMult: 2 },
  unet: { latentChannels: 4, latentSize: 8, channels: [16, 16], timeDim: 16, ctxDim: 16, heads: 2, groups: 4 },
};

let base: ReducedSD;
let ds: Dataset;
let evalCalls = 0;

const evaluate: SessionAssets['evaluate'] = async (m, prompts, o, _subject, onBatch) => {
  evalCalls++;
  // One image at a time, like the worker's batches (the noise of image i does not depend on the batch).
  const images: ReturnType<typeof sampleImages> = [];
  for (let i = 0; i < prompts.length; i++) {
    images.push(...sampleImages(m, [tokenize(prompts[i])], { seed: o.seed, steps: o.steps, guidance: o.guidance, offset: i }));
    await onBatch?.(i + 1, prompts.length);
  }
  const perImage = images.map((im) => {
    let s = 0;
    for (const v of im) s += v;
    const mu = s / im.length;
    return { pickScore: 20 + mu, hps: mu, alignment: 0.5, aesthetic: 5, trueUtility: 0.5 + mu / 10 };
  });
  const mean: Record<string, number> = {};
  for (const k of Object.keys(perImage[0])) mean[k] = perImage.reduce((a, b) => a + b[k as keyof (typeof perImage)[0]], 0) / perImage.length;
  return { images, perImage, mean };
};

beforeAll(async () => {
  await initNodeBackend('wasm');
  base = initReducedSD('sessbase', TINY, 5);
  ds = tinyAlignmentDataset();
});
afterAll(() => disposeReducedSD(base));

const config = () => parseExperimentConfig({ ...PRESETS.smoke, dataSize: 8, evalPrompts: 2, updates: 4, checkpointEvery: 2, maxCheckpoints: 3 });

function makeSession(store?: RunStore, o: { baseCache?: BaseEvalCacheStore; model?: string; backend?: string; onEvent?: (e: ExperimentEvent, s: ExperimentSession) => void } = {}) {
  const events: ExperimentEvent[] = [];
  const emit = (e: WorkerEvent) => {
    if (e.type.startsWith('exp.')) {
      events.push(e as ExperimentEvent);
      o.onEvent?.(e as ExperimentEvent, s);
    }
  };
  const assets: SessionAssets = { base, dataset: ds, evaluate, identity: { model: o.model ?? 'tiny-model', scorers: 'fake-scorers' } };
  const s: ExperimentSession = new ExperimentSession(emit, { loadAssets: async () => assets, backend: () => o.backend ?? 'wasm', store, baseCache: o.baseCache ?? memoryBaseEvalStore() });
  return { s, events };
}

const updates = (ev: ExperimentEvent[]) => ev.filter((e) => e.type === 'exp.update').map((e) => (e as { update: number }).update);

describe('ExperimentSession (worker wiring over the real Experiment, tiny model)', () => {
  it('configure evaluates the base; step advances exactly one update for every arm; checkpoints carry images and per-image metrics', async () => {
    const { s, events } = makeSession();
    const snap = await s.configure(config());
    expect(snap.status).toBe('ready');
    expect(snap.base!.images.length).toBe(2);
    expect(snap.evalPrompts.length).toBe(2);
    const r1 = await s.step();
    expect(r1.update).toBe(1);
    expect(updates(events)).toEqual([1]);
    const u1 = events.find((e) => e.type === 'exp.update') as Extract<ExperimentEvent, { type: 'exp.update' }>;
    expect(u1.records.map((r) => r.arm)).toEqual(['SePPO', 'Diffusion-DPO']);
    await s.step();
    const cp = events.find((e) => e.type === 'exp.checkpoint') as Extract<ExperimentEvent, { type: 'exp.checkpoint' }>;
    expect(cp.update).toBe(2);
    expect(cp.checkpoints.map((c) => c.arm)).toEqual(['SePPO', 'Diffusion-DPO']);
    expect(cp.evals[0].images.length).toBe(2);
    expect(cp.evals[0].perImage[0].pickScore).toBeTypeOf('number');
    expect(cp.checkpoints[0].winRate).not.toBeNull();
    const snap2 = s.snapshot();
    expect(snap2.update).toBe(2);
    expect(snap2.records.length).toBe(4);
  }, 60_000);

  it('play runs to the end posting one update event per update; pause stops it; reset replays the same run', async () => {
    const { s, events } = makeSession();
    const first = await s.configure(config());
    const runA = first.run;
    s.play();
    // Pause right away: the update in flight finishes and is posted before pause answers.
    const p = await s.pause();
    const after = updates(events.filter((e) => e.run === runA)).length;
    expect(p.update).toBe(after);
    await new Promise((r) => setTimeout(r, 200));
    expect(updates(events.filter((e) => e.run === runA)).length).toBe(after); // nothing after pause
    // Play to the end.
    s.play();
    for (let i = 0; i < 200 && s.snapshot().status !== 'done'; i++) await new Promise((r) => setTimeout(r, 50));
    expect(s.snapshot().status).toBe('done');
    expect(updates(events.filter((e) => e.run === runA))).toEqual([1, 2, 3, 4]);
    const recsA = s.snapshot().records.map((r) => r.loss);
    // Reset: a new run id, same seed → the same losses.
    const snapB = await s.reset();
    expect(snapB.run).toBeGreaterThan(runA);
    expect(snapB.update).toBe(0);
    for (let i = 0; i < 4; i++) await s.step();
    expect(s.snapshot().records.map((r) => r.loss)).toEqual(recsA);
  }, 120_000);

  it('a newer configure supersedes an older one in flight (stale run rejected, its events tagged with the old run)', async () => {
    const { s } = makeSession();
    const a = s.configure(config());
    const b = s.configure(parseExperimentConfig({ ...config(), seed: 3 }));
    await expect(a).rejects.toThrow(/superseded/);
    const sb = await b;
    expect(sb.config.seed).toBe(3);
  }, 60_000);

  it('base evaluation is cached across configures of the same evaluation settings', async () => {
    const { s } = makeSession();
    await s.configure(config());
    const before = evalCalls;
    await s.configure(parseExperimentConfig({ ...config(), beta: 500 }));
    expect(evalCalls).toBe(before); // no new base evaluation
  }, 60_000);

  it('resume after a reload: replays to the saved checkpoint with the saved evaluations, loads the saved weights, and goes on exactly as an uninterrupted run', async () => {
    const store = memoryStore();
    const a = makeSession(store);
    await a.s.configure(config());
    for (let i = 0; i < 3; i++) await a.s.step(); // saved at the checkpoint after update 2; update 3 is lost
    expect(store.run!.update).toBe(2);
    expect(Object.keys(store.run!.weights)).toEqual(['SePPO', 'Diffusion-DPO']);
    expect((await a.s.stored())!.update).toBe(2);
    await a.s.step(); // update 4 (checkpoint)
    const full = a.s.snapshot().records.map((r) => [r.arm, r.update, r.loss]);
    // Roll the store back to the save at update 2, as a reload after update 3 would find it.
    const b0 = makeSession(store);
    await b0.s.configure(config());
    await b0.s.step();
    await b0.s.step();
    const savedAt2 = structuredClone(store.run!);
    const b = makeSession(store);
    store.run = savedAt2;
    const before = evalCalls;
    const snap = await b.s.configure(config(), true);
    expect(snap.resumedFrom).toBe(2);
    expect(snap.update).toBe(2);
    expect(snap.records.length).toBe(4);
    expect(snap.evals.length).toBe(2);
    expect(evalCalls).toBe(before); // saved evaluations fed back, nothing re-evaluated
    expect(updates(b.events)).toEqual([]); // replay posts nothing; the snapshot carries it
    await b.s.step();
    await b.s.step();
    expect(b.s.snapshot().records.map((r) => [r.arm, r.update, r.loss])).toEqual(full);
  }, 120_000);
});

describe('ExperimentSession: the base evaluation cut short and cached (issue 18 item 7)', () => {
  it('Cut short during the base evaluation: the run loads (ready, playable) with no base figures and says so; checkpoints have no win rates', async () => {
    const cache = memoryBaseEvalStore();
    let asked = false;
    const { s } = makeSession(undefined, {
      baseCache: cache,
      onEvent: (e, sess) => {
        if (!asked && e.type === 'exp.progress' && /^evaluating the base model: 1 of 2 images/.test(e.stage)) {
          asked = true;
          expect(sess.cutBaseEval()).toEqual({ cut: true });
        }
      },
    });
    const snap = await s.configure(config());
    expect(asked).toBe(true);
    expect(snap.status).toBe('ready');
    expect(snap.base).toBeNull();
    expect(snap.baseEval).toEqual({ state: 'cut', done: 1, total: 2 });
    expect(cache.size()).toBe(0); // a cut-short evaluation is never cached
    await s.step();
    const r = await s.step(); // checkpoint at update 2
    expect(r.update).toBe(2);
    const cps = s.snapshot().checkpoints;
    expect(cps.length).toBe(2);
    for (const c of cps) {
      expect(c.metrics).not.toBeNull(); // the arm's own figures are there
      expect(c.winRate).toBeNull(); // never a win rate against a partial base
    }
    expect(s.cutBaseEval()).toEqual({ cut: false }); // nothing in flight now
  }, 60_000);

  it('a reload (a fresh session) on the same cache reuses the base evaluation and says when it was made; a changed model, protocol or backend does not', async () => {
    const cache = memoryBaseEvalStore(16);
    const a = makeSession(undefined, { baseCache: cache });
    const first = await a.s.configure(config());
    expect(first.baseEval).toEqual({ state: 'complete' });
    expect(cache.size()).toBe(1);

    const before = evalCalls;
    const b = makeSession(undefined, { baseCache: cache }); // a reload: a new worker, the same IndexedDB
    const again = await b.s.configure(parseExperimentConfig({ ...config(), beta: 500 })); // the base does not depend on β
    expect(evalCalls).toBe(before);
    expect(again.baseEval?.state).toBe('cached');
    expect(again.base!.metrics).toEqual(first.base!.metrics);

    for (const [opts, cfg] of [
      [{ model: 'another-model' }, config()],
      [{ backend: 'webgpu' }, config()],
      [{}, parseExperimentConfig({ ...config(), evalSteps: config().evalSteps + 1 })],
      [{}, parseExperimentConfig({ ...config(), evalGuidance: config().evalGuidance + 0.5 })],
      [{}, parseExperimentConfig({ ...config(), evalPrompts: 3 })],
      [{}, parseExperimentConfig({ ...config(), seed: config().seed + 1 })], // the noise follows the seed when evalSeed is unset
    ] as const) {
      const n = evalCalls;
      const c = makeSession(undefined, { baseCache: cache, ...opts });
      const snap = await c.s.configure(cfg);
      expect(evalCalls).toBe(n + 1);
      expect(snap.baseEval).toEqual({ state: 'complete' });
    }
  }, 120_000);
});
