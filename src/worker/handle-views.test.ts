import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../core/backend';
import { serializeReducedSD } from '../core/model/checkpoint';
import { disposeReducedSD, initReducedSD, type SDConfig } from '../core/model/sd';
import { MAX_TOKENS, VOCAB } from '../core/world';
import { defaultScorerConfig, disposeScorer, initScorer } from '../core/eval/scorer';
import { serializeScorer } from '../core/eval/scorerFile';
import { ASSET_URLS, resetAssets, setAssetFetch } from './assets';
import { handleViews } from './handle-views';
import type { RequestBody, WorkerEvent } from './protocol';
import type { DataSummary, ModelInfo, PairsPage, SampleResult, ViewsRequest } from './protocol-views';

const TINY: SDConfig = {
  ae: { imageSize: 32, imageChannels: 3, latentChannels: 4, channels: [8, 8, 8], groups: 4 },
  text: { vocabSize: VOCAB.length, maxTokens: MAX_TOKENS, dim: 16, heads: 2, mlpMult: 2 },
  unet: { latentChannels: 4, latentSize: 8, channels: [16, 16], timeDim: 16, ctxDim: 16, heads: 2, groups: 4 },
};

const call = <T,>(req: RequestBody<ViewsRequest>, events: WorkerEvent[] = []) =>
  handleViews({ id: 1, ...req } as ViewsRequest, (e) => events.push(e)) as Promise<T>;

let files: Map<string, Uint8Array>;
// config.json's reconstruction record (npm run pretrain), two rows and the held-out ideal row.
const row = (set: string, o: number, r: number) => ({ set, images: 4, original: { total: o, parts: {} }, reconstructed: { total: r, parts: {} }, kept: { total: r / o, parts: { colour: 0.9, sharpness: 0.8 } }, mse: 0.01 });
const RECONSTRUCTION = { dataSeed: 0, pairs: 4, rows: [row('winners', 0.8, 0.78), row('ideal', 1, 0.96)], targets: [], heldOutIdeal: { prompts: 'validationUnique', row: row('ideal, held-out prompts', 1, 0.95) } };

beforeAll(async () => {
  await initNodeBackend('cpu');
  const m = initReducedSD('tiny', TINY, 1);
  const { safetensors, config } = serializeReducedSD(m);
  disposeReducedSD(m);
  files = new Map<string, Uint8Array>([
    [ASSET_URLS.baseWeights, safetensors],
    [ASSET_URLS.baseConfig, new TextEncoder().encode(JSON.stringify({ ...config, trainSteps: 12, quality: { meanTrueUtility: 0.5 }, baseQuality: { meanTrueUtility: 0.6, ratioToGenerators: 0.9, guidance: 3, ddimSteps: 20, headroom: 0.2, headroomInterval: { lo: 0.15, hi: 0.25 }, decoderCeiling: { winnersReconstructed: { total: 0.8 } } }, reconstruction: RECONSTRUCTION }))],
  ]);
  setAssetFetch(async (url) => {
    const body = files.get(url);
    return body ? new Response(body as BodyInit, { status: 200 }) : new Response('not found', { status: 404 });
  });
});
afterAll(() => resetAssets());

describe('data requests', () => {
  const seed = 5;
  it('summarises the dataset and pages through pairs', async () => {
    const s = await call<DataSummary>({ type: 'data:summary', seed });
    const train = s.splits.find((x) => x.name.startsWith('train'))!;
    expect(train.pairs).toBe(1000);
    expect(s.agreement[0].overall).toBeGreaterThan(0.8);
    expect(s.validationPrompts.length).toBeGreaterThan(0);
    const page = await call<PairsPage>({ type: 'data:pairs', seed, offset: 990, limit: 20 });
    expect(page.total).toBe(1000);
    expect(page.pairs).toHaveLength(10);
    const p = page.pairs[0];
    expect(p.index).toBe(990);
    expect(p.winner.image).toHaveLength(32 * 32 * 3);
    expect(p.winner.parts.shape).toBeGreaterThanOrEqual(0);
    expect(typeof p.loser.generator).toBe('string');
    await expect(call({ type: 'data:pairs', seed, offset: 0, limit: 500 })).rejects.toThrow(/limit must be/);
    // Filters: pairs where the rater chose the lower-utility image are a small, non-empty share.
    const upset = await call<PairsPage>({ type: 'data:pairs', seed, offset: 0, limit: 50, filter: 'upset' });
    expect(upset.totalAll).toBe(1000);
    expect(upset.total).toBeGreaterThan(0);
    expect(upset.total).toBeLessThan(200);
    expect(upset.pairs.every((p) => p.winner.utility < p.loser.utility)).toBe(true);
    const close = await call<PairsPage>({ type: 'data:pairs', seed, offset: 0, limit: 50, filter: 'close' });
    expect(close.pairs.every((p) => Math.abs(p.winner.utility - p.loser.utility) < 0.1)).toBe(true);
  });
});

describe('model requests', () => {
  it('loads the base model and reports its records', async () => {
    const info = await call<ModelInfo>({ type: 'model:load' });
    expect(info.params.total).toBeGreaterThan(1000);
    expect(info.record.trainSteps).toBe(12);
    expect(info.record['quality.meanTrueUtility']).toBe(0.5);
    expect(info.quality).toMatchObject({ meanTrueUtility: 0.6, ratioToGenerators: 0.9, guidance: 3, ddimSteps: 20, headroom: 0.2, decoderCeiling: 0.8, headroomInterval: { lo: 0.15, hi: 0.25 } });
    expect(info.reconstruction?.map((r) => [r.set, r.images, r.original, r.reconstructed])).toEqual([['winners', 4, 0.8, 0.78], ['ideal', 4, 1, 0.96], ['ideal, held-out prompts', 4, 1, 0.95]]);
    expect(info.reconstruction?.[0].kept).toEqual({ total: 0.78 / 0.8, colour: 0.9, sharpness: 0.8 });
  });

  it('samples step by step with previews, scores the image, and leaks nothing', async () => {
    const req = { type: 'model:sample', sampleId: 7, prompt: 'a large red circle on the left, dark background', seed: 3, steps: 4, guidance: 3, previewEvery: 2 } as const;
    await call<SampleResult>(req); // warm-up (schedule, caches)
    const before = tf.memory().numTensors;
    const events: WorkerEvent[] = [];
    const r = await call<SampleResult>(req, events);
    expect(tf.memory().numTensors).toBe(before);
    expect(r.image).toHaveLength(32 * 32 * 3);
    expect(r.image.every((v) => Number.isFinite(v) && v >= -1 && v <= 1)).toBe(true);
    const steps = events.filter((e) => e.type === 'model:step') as Extract<WorkerEvent, { type: 'model:step' }>[];
    expect(steps.map((e) => e.step)).toEqual([1, 2, 3, 4]);
    expect(steps.map((e) => !!e.image)).toEqual([true, true, false, true]);
    expect(steps.every((e) => e.sampleId === 7 && e.total === 4)).toBe(true);
    // Scorers are not served here: the pixel metrics are still given, and the reason is named.
    expect(r.metrics).toBeNull();
    expect(r.metricsError).toMatch(/PickScore-mini.*missing.*404/s);
    expect(r.partialMetrics.trueUtility).toBeGreaterThanOrEqual(0);
    // Same seed → same image.
    const again = await call<SampleResult>(req);
    expect(Array.from(again.image)).toEqual(Array.from(r.image));
  });

  it('gives all five metrics once the scorers are there', async () => {
    for (const [name, dir] of [['pickscore-mini', ASSET_URLS.pickscore], ['hps-mini', ASSET_URLS.hps]]) {
      const sc = initScorer(name, `t/${name}`, { ...defaultScorerConfig(VOCAB.length, MAX_TOKENS), channels: [4, 4, 4] }, 2);
      const f = serializeScorer(sc, VOCAB, { testAccuracy: 0.9, ceiling: 0.95, testPairs: 10, trainPairs: 12000, seed: 4 });
      disposeScorer(sc);
      files.set(dir + 'model.safetensors', f.safetensors);
      files.set(dir + 'config.json', new TextEncoder().encode(JSON.stringify(f.config)));
    }
    const r = await call<SampleResult>({ type: 'model:sample', sampleId: 9, prompt: 'a small blue ring at the top, light background', seed: 1, steps: 2, guidance: 1 });
    expect(r.metricsError).toBeUndefined();
    expect(r.metrics).not.toBeNull();
    for (const v of Object.values(r.metrics!)) expect(Number.isFinite(v)).toBe(true);
    expect(r.metrics!.trueUtility).toBeCloseTo(r.partialMetrics.trueUtility, 6);
    // The page is told how good each learned scorer is, from its own config.json.
    expect(r.scorerNotes).toEqual({
      pickScore: 'pickscore-mini (held-out 90.0% vs ceiling 95.0% on 10 pairs; 12,000 training pairs, seed 4)',
      hps: 'hps-mini (held-out 90.0% vs ceiling 95.0% on 10 pairs; 12,000 training pairs, seed 4)',
    });
  });

  it('stops a running sample on model:stop, leaking nothing', async () => {
    const before = tf.memory().numTensors;
    const events: WorkerEvent[] = [];
    const run = call<SampleResult>({ type: 'model:sample', sampleId: 11, prompt: 'a small blue ring at the top, light background', seed: 1, steps: 50, guidance: 3 }, events);
    while (!events.some((e) => e.type === 'model:step')) await new Promise((r) => setTimeout(r, 5));
    expect(await call<{ stopped: boolean }>({ type: 'model:stop' })).toEqual({ stopped: true });
    await expect(run).rejects.toThrow('Sampling stopped');
    expect(events.length).toBeLessThan(50);
    expect(tf.memory().numTensors).toBe(before);
    expect(await call<{ stopped: boolean }>({ type: 'model:stop' })).toEqual({ stopped: false });
  });

  it('rejects an unknown word by name and bad knobs clearly', async () => {
    const base = { type: 'model:sample', sampleId: 1, seed: 0, steps: 2, guidance: 3 } as const;
    await expect(call({ ...base, prompt: 'a large red hexagon on the left, dark background' })).rejects.toThrow(/Unknown word "hexagon".*Vocabulary: .*circle/);
    await expect(call({ ...base, prompt: 'a large red circle on the left, dark background', steps: 0 })).rejects.toThrow(/DDIM steps must be/);
    await expect(call({ ...base, prompt: 'a large red circle on the left, dark background', guidance: NaN })).rejects.toThrow(/Guidance scale/);
  });
});
