import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../core/backend';
import { saveSafetensors, serializeReducedSD } from '../core/model/checkpoint';
import { disposeReducedSD, initReducedSD, type SDConfig } from '../core/model/sd';
import { MAX_TOKENS, VOCAB } from '../core/world';
import { createVideoUNet, disposeVideoUNet } from '../core/video/motion';
import { VIDEO_PRESETS } from '../core/video/config';
import { ASSET_URLS, loadBaseModel, resetAssets, setAssetFetch } from './assets';
import { VIDEO_ASSET_URLS, VideoSession, clipToUint8, resetVideoAssets } from './handle-video';
import type { WorkerEvent } from './protocol';
import type { VideoEvent } from './protocol-video';

/** A tiny base (fast in Node) with the shipped file layout, and motion modules made for it. */
const TINY: SDConfig = {
  ae: { imageSize: 32, imageChannels: 3, latentChannels: 4, channels: [8, 8, 8], groups: 4 },
  text: { vocabSize: VOCAB.length, maxTokens: MAX_TOKENS, dim: 16, heads: 2, mlpMult: 2 },
  unet: { latentChannels: 4, latentSize: 8, channels: [16, 16], timeDim: 16, ctxDim: 16, heads: 2, groups: 4 },
};
const SMOKE = VIDEO_PRESETS['video-smoke'];
const MOTION_CONFIG = { format: 'seppo-motion/1', frames: SMOKE.frames, heads: SMOKE.heads, steps: 0 };

let files: Map<string, Uint8Array>;
const enc = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));

function serve(extra: Record<string, Uint8Array | null> = {}) {
  resetVideoAssets();
  setAssetFetch(async (url) => {
    const body = url in extra ? extra[url] : files.get(url);
    if (!body) return new Response('not found', { status: 404 });
    return new Response(body as BodyInit, { status: 200, headers: { 'content-type': 'application/octet-stream' } });
  });
}

beforeAll(async () => {
  await initNodeBackend('wasm');
  const m = initReducedSD('tiny', TINY, 1);
  const { safetensors, config } = serializeReducedSD(m);
  const v = createVideoUNet('mm', m.unet, TINY.unet, { frames: SMOKE.frames, heads: SMOKE.heads }, 7);
  for (const [k, p] of Object.entries(v.motion)) if (k.endsWith('/out/w')) p.assign(tf.randomNormal(p.shape, 0, 0.05, 'float32', 3));
  const motion = saveSafetensors(v.motion, {}, v.motionPrefix);
  disposeVideoUNet(v);
  disposeReducedSD(m);
  files = new Map<string, Uint8Array>([
    [ASSET_URLS.baseWeights, safetensors],
    [ASSET_URLS.baseConfig, enc(config)],
    [VIDEO_ASSET_URLS.motionWeights, motion],
    [VIDEO_ASSET_URLS.motionConfig, enc(MOTION_CONFIG)],
  ]);
});
afterAll(() => {
  resetAssets();
  resetVideoAssets();
});

/** A session whose events are collected; `until` resolves at the first event of a type. */
function session() {
  const events: VideoEvent[] = [];
  const transfers: ArrayBuffer[][] = [];
  const waiters: { type: string; resolve: () => void }[] = [];
  const s = new VideoSession((e: WorkerEvent, t) => {
    if (!e.type.startsWith('video.')) return;
    events.push(e as VideoEvent);
    if (t) transfers.push(t);
    for (const w of waiters.splice(0)) if (w.type === e.type) w.resolve();
    else waiters.push(w);
  });
  const until = (type: VideoEvent['type']) => (events.some((e) => e.type === type) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ type, resolve })));
  return { s, events, transfers, until };
}

describe('clipToUint8', () => {
  it('maps [-1, 1] to 0…255, clamps, and keeps the layout', () => {
    expect(Array.from(clipToUint8(Float32Array.from([-1, 0, 1, -2, 2, NaN, 0.5])))).toEqual([0, 128, 255, 0, 255, 0, 191]);
  });
});

describe('motion module assets', () => {
  it('names a missing, malformed or mismatched file', async () => {
    const start = (s: VideoSession) => s.start({ id: 1, type: 'video.start', config: SMOKE });
    serve({ [VIDEO_ASSET_URLS.motionWeights]: null });
    await expect(start(session().s)).rejects.toThrow(/motion modules \(video-motion\/motion\.safetensors\) is missing: \/models\/video-motion\/motion\.safetensors was not found/);
    serve({ [VIDEO_ASSET_URLS.motionWeights]: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]) });
    await expect(start(session().s)).rejects.toThrow(/motion modules \/models\/video-motion\/motion\.safetensors are corrupt: checkpoint truncated/);
    serve({ [VIDEO_ASSET_URLS.motionConfig]: enc({ ...MOTION_CONFIG, format: 'other' }) });
    await expect(start(session().s)).rejects.toThrow(/format "other", expected "seppo-motion\/1"/);
    serve({ [VIDEO_ASSET_URLS.motionConfig]: enc({ ...MOTION_CONFIG, frames: 4 }) });
    await expect(start(session().s)).rejects.toThrow(/pretrained for 4 frames and 4 heads; this config asks for 8 frames and 4 heads/);
    serve();
    await expect(session().s.start({ id: 1, type: 'video.start', config: { ...SMOKE, batchSize: 0 } })).rejects.toThrow(/invalid video config: batchSize/);
  });
});

describe('a video-smoke run on a tiny base', () => {
  it('streams updates, checkpoints and uint8 grids, finishes, and frees every tensor', async () => {
    serve();
    await loadBaseModel(() => {});
    const n0 = tf.memory().numTensors;
    const { s, events, transfers, until } = session();
    const reply = await s.start({ id: 1, type: 'video.start', config: SMOKE, gridN: 2 });
    expect(reply.arms.map((a) => a.name)).toEqual(['SFT', 'SePPO']);
    expect(reply.motion.format).toBe('seppo-motion/1');
    await until('video.done');
    await s.stop(); // already finished: nothing to stop
    expect(events.filter((e) => e.type === 'video.error')).toEqual([]);
    const updates = events.filter((e) => e.type === 'video.update');
    expect(updates.map((e) => e.update)).toEqual([1, 2]);
    for (const u of updates) {
      expect(u.records.map((r) => r.arm)).toEqual(['SFT', 'SePPO']);
      expect(Number.isFinite(u.records[0].loss)).toBe(true);
      expect(u.records[0].aafRate).toBeNull(); // SFT has no AAF
      expect(u.records[1].aafRate).toBeGreaterThanOrEqual(0);
    }
    const cps = events.filter((e) => e.type === 'video.checkpoint');
    expect(cps.map((e) => e.update)).toEqual([1, 2]);
    expect(cps[0].checkpoints.map((c) => c.arm)).toEqual(['SFT', 'SePPO']);
    expect(Number.isFinite(cps[0].checkpoints[0].deltaVsRaw.mean)).toBe(true);
    const grids = events.filter((e) => e.type === 'video.grid');
    expect(grids.map((g) => g.update)).toEqual([1, 2]);
    const g = grids[1];
    expect(g.rows.map((r) => r.name)).toEqual(['raw', 'SFT', 'SePPO']);
    expect(g.prompts).toHaveLength(2);
    for (const r of g.rows) {
      expect(r.clips).toHaveLength(2);
      for (const c of r.clips) {
        expect(c).toBeInstanceOf(Uint8Array);
        expect(c.length).toBe(SMOKE.frames * 32 * 32 * 3);
      }
    }
    expect(transfers[1]).toHaveLength(6); // every clip's buffer is transferred
    const done = events.find((e) => e.type === 'video.done')!;
    expect(done.final!.models.map((m) => m.name)).toEqual(['raw (motion modules, no LoRA)', 'SFT', 'SePPO']);
    expect(done.final!.models[1].deltaVsRaw!.n).toBe(SMOKE.evalPrompts * SMOKE.evalNoises);
    expect(s.running).toBe(false);
    expect(tf.memory().numTensors).toBe(n0);
  });

  it('stops between updates, serves a grid on request, rejects grids when idle, and frees every tensor', async () => {
    serve();
    await loadBaseModel(() => {});
    const n0 = tf.memory().numTensors;
    const { s, events, until } = session();
    await expect(s.grid(2)).rejects.toThrow(/no video run in progress/);
    await s.start({ id: 1, type: 'video.start', config: { ...SMOKE, updates: 50, checkpointEvery: 50 }, gridN: 1 });
    await until('video.update');
    const asked = await s.grid(1);
    expect(asked.update).toBeGreaterThanOrEqual(1);
    expect(events.filter((e) => e.type === 'video.grid')).toHaveLength(1);
    const r = await s.stop();
    expect(r.stopped).toBe(true);
    expect(s.running).toBe(false);
    const last = events.filter((e) => e.type === 'video.status').at(-1)!;
    expect(last.status).toBe('stopped');
    expect(events.filter((e) => e.type === 'video.update').length).toBeLessThan(50);
    expect(events.some((e) => e.type === 'video.done')).toBe(false);
    expect(tf.memory().numTensors).toBe(n0);
  });
});
