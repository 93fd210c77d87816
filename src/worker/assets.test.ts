import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../core/backend';
import { serializeReducedSD } from '../core/model/checkpoint';
import { disposeReducedSD, initReducedSD, type SDConfig } from '../core/model/sd';
import { MAX_TOKENS, VOCAB } from '../core/world';
import { defaultScorerConfig, disposeScorer, initScorer } from '../core/eval/scorer';
import { serializeScorer } from '../core/eval/scorerFile';
import { ASSET_URLS, getDataset, loadBaseModel, loadScorers, resetAssets, setAssetFetch } from './assets';
import type { WorkerEvent } from './protocol';

/** A tiny model (fast on the CPU backend) with the shipped file layout. */
const TINY: SDConfig = {
  ae: { imageSize: 32, imageChannels: 3, latentChannels: 4, channels: [8, 8, 8], groups: 4 },
  text: { vocabSize: VOCAB.length, maxTokens: MAX_TOKENS, dim: 16, heads: 2, mlpMult: 2 },
  unet: { latentChannels: 4, latentSize: 8, channels: [16, 16], timeDim: 16, ctxDim: 16, heads: 2, groups: 4 },
};

let files: Map<string, Uint8Array>;
let fetches: string[];

function serve(extra: Record<string, Uint8Array | null> = {}) {
  fetches = [];
  setAssetFetch(async (url) => {
    fetches.push(url);
    const body = url in extra ? extra[url] : files.get(url);
    if (!body) return new Response('<!doctype html><title>app</title>', { status: url.endsWith('.html') ? 200 : 404 });
    return new Response(body as BodyInit, { status: 200, headers: { 'content-type': 'application/octet-stream', 'content-length': String(body.length) } });
  });
}

beforeAll(async () => {
  await initNodeBackend('cpu');
  const m = initReducedSD('tiny', TINY, 1);
  const { safetensors, config } = serializeReducedSD(m, { note: 'test' });
  disposeReducedSD(m);
  files = new Map([
    [ASSET_URLS.baseWeights, safetensors],
    [ASSET_URLS.baseConfig, new TextEncoder().encode(JSON.stringify(config))],
  ]);
  for (const [name, dir] of [['pickscore-mini', ASSET_URLS.pickscore], ['hps-mini', ASSET_URLS.hps]]) {
    const s = initScorer(name, `t/${name}`, { ...defaultScorerConfig(VOCAB.length, MAX_TOKENS), channels: [4, 4, 4] }, 2);
    const f = serializeScorer(s, VOCAB, { heldOutAccuracy: 0.9 });
    disposeScorer(s);
    files.set(dir + 'model.safetensors', f.safetensors);
    files.set(dir + 'config.json', new TextEncoder().encode(JSON.stringify(f.config)));
  }
});

afterEach(() => resetAssets());

describe('loadBaseModel', () => {
  it('loads once with progress events and returns the same object later', async () => {
    serve();
    const events: WorkerEvent[] = [];
    const a = await loadBaseModel((e) => events.push(e));
    const b = await loadBaseModel(() => {});
    expect(b).toBe(a);
    expect(fetches).toEqual([ASSET_URLS.baseConfig, ASSET_URLS.baseWeights]);
    expect(a.params.total).toBeGreaterThan(1000);
    expect(a.config.note).toBe('test');
    const prog = events.filter((e) => e.type === 'progress' && e.stage === 'model');
    expect(prog.length).toBeGreaterThan(2);
    const last = prog[prog.length - 1] as { done: number; total: number };
    expect(last.done).toBe(last.total);
  });

  it('names a missing file (404) and retries after a failure', async () => {
    serve({ [ASSET_URLS.baseWeights]: null });
    await expect(loadBaseModel(() => {})).rejects.toThrow(/model\.safetensors.*missing.*404/s);
    serve();
    const m = await loadBaseModel(() => {});
    expect(m.model.config.unet.channels).toEqual([16, 16]);
  });

  it('treats an HTML answer (dev-server fallback) as missing', async () => {
    setAssetFetch(async () => new Response('<!doctype html>', { status: 200, headers: { 'content-type': 'text/html' } }));
    await expect(loadBaseModel(() => {})).rejects.toThrow(/config\.json.*missing.*HTML/s);
  });

  it('rejects a truncated weights file and a broken config with a clear message, leaving no variables behind', async () => {
    const vars = () => Object.keys(tf.engine().registeredVariables).length;
    const before = vars();
    const tensors = tf.memory().numTensors;
    const w = files.get(ASSET_URLS.baseWeights)!;
    serve({ [ASSET_URLS.baseWeights]: w.slice(0, w.length - 100) });
    await expect(loadBaseModel(() => {})).rejects.toThrow(/base model in \/models\/base\/ is corrupt.*(truncated|length)/s);
    serve({ [ASSET_URLS.baseConfig]: new TextEncoder().encode('{"format": "nope"') });
    await expect(loadBaseModel(() => {})).rejects.toThrow(/config\.json is not valid JSON/);
    expect(vars()).toBe(before);
    expect(tf.memory().numTensors).toBe(tensors);
  });
});

describe('loadScorers', () => {
  it('loads both scorers once, and names a corrupt one', async () => {
    serve();
    const a = await loadScorers(() => {});
    expect(await loadScorers(() => {})).toBe(a);
    expect(a.pickScore.name).toBe('pickscore-mini');
    expect(a.hps.name).toBe('hps-mini');
    resetAssets();
    const w = files.get(ASSET_URLS.hps + 'model.safetensors')!;
    serve({ [ASSET_URLS.hps + 'model.safetensors']: w.slice(0, 50) });
    await expect(loadScorers(() => {})).rejects.toThrow(/HPS-mini is corrupt/);
  });
});

describe('getDataset', () => {
  it('builds once per options', () => {
    const opts = { seed: 3, nTrainPairs: 20, nScorerTest: 0, nHpsTest: 0, nOodRaterPairs: 0 };
    const a = getDataset(opts);
    expect(getDataset({ ...opts })).toBe(a);
    expect(a.dataset.train).toHaveLength(20);
    expect(getDataset({ ...opts, seed: 4 })).not.toBe(a);
  });
});
