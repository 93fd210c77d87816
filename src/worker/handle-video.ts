/**
 * The Video view's requests inside the worker (issue 17): a VideoExperiment (core/video/experiment.ts)
 * on the shipped image base (assets.ts) and the shipped motion modules (public/models/video-motion/),
 * run update by update with a yield between updates so `video.stop` lands, disposed on stop, on
 * finish and on error (leak-free: tf.memory().numTensors is back where it was; tested).
 *
 * The animated grid is sampled at every checkpoint and on request ("Sample now"), clips converted
 * here to uint8 RGB frames and their buffers transferred: the page only draws pixels.
 */
import { fetchBytes, fetchJson, loadBaseModel, AssetError, type Emit } from './assets';
import type { WorkerEvent } from './protocol';
import type { VideoCheckpointView, VideoDelta, VideoFinalView, VideoGridView, VideoReplyMap, VideoRequest, VideoStartReply, VideoUpdateView } from './protocol-video';
import { parseSafetensors } from '../core/model/checkpoint';
import type { ReducedSD } from '../core/model/sd';
import { parseVideoConfig, type VideoConfig } from '../core/video/config';
import { VideoExperiment } from '../core/video/experiment';
import type { MeanInterval } from '../core/eval/intervals';

/** URLs of the shipped motion modules (served from `public/`). */
export const VIDEO_ASSET_URLS = {
  motionConfig: '/models/video-motion/config.json',
  motionWeights: '/models/video-motion/motion.safetensors',
} as const;

/** Events, with an optional transfer list (the grid's frame buffers). */
export type VideoEmit = (e: WorkerEvent, transfer?: ArrayBuffer[]) => void;

export interface VideoAssets {
  sd: ReducedSD;
  motionBytes: Uint8Array;
  /** config.json of the motion modules (frames, heads, steps …). */
  motion: Record<string, unknown>;
}
export type VideoAssetLoader = (emit: Emit) => Promise<VideoAssets>;

// ---- the motion modules ----

let motionLoad: Promise<{ bytes: Uint8Array; config: Record<string, unknown> }> | null = null;

/** The shipped motion modules' config.json and motion.safetensors, fetched once (a failed load is retried next time). */
export function loadMotionModules(emit: Emit): Promise<{ bytes: Uint8Array; config: Record<string, unknown> }> {
  motionLoad ??= (async () => {
    const config = await fetchJson(VIDEO_ASSET_URLS.motionConfig, 'motion modules config (video-motion/config.json)', emit, 'motion');
    if (!config || typeof config !== 'object' || Array.isArray(config)) throw new AssetError(`motion modules config ${VIDEO_ASSET_URLS.motionConfig} is not a JSON object`);
    const c = config as Record<string, unknown>;
    if (c.format !== 'seppo-motion/1') throw new AssetError(`motion modules config ${VIDEO_ASSET_URLS.motionConfig}: format ${JSON.stringify(c.format)}, expected "seppo-motion/1"`);
    if (!Number.isInteger(c.frames) || !Number.isInteger(c.heads)) throw new AssetError(`motion modules config ${VIDEO_ASSET_URLS.motionConfig}: frames and heads must be integers, got ${JSON.stringify(c.frames)} and ${JSON.stringify(c.heads)}`);
    const bytes = await fetchBytes(VIDEO_ASSET_URLS.motionWeights, 'motion modules (video-motion/motion.safetensors)', emit, 'motion');
    try {
      parseSafetensors(bytes);
    } catch (e) {
      throw new AssetError(`motion modules ${VIDEO_ASSET_URLS.motionWeights} are corrupt: ${e instanceof Error ? e.message : String(e)}`);
    }
    return { bytes, config: c };
  })().catch((e) => {
    motionLoad = null;
    throw e;
  });
  return motionLoad;
}

/** Forget the cached motion modules (tests). */
export function resetVideoAssets(): void {
  motionLoad = null;
}

const defaultAssets: VideoAssetLoader = async (emit) => {
  const base = await loadBaseModel(emit);
  const m = await loadMotionModules(emit);
  return { sd: base.model, motionBytes: m.bytes, motion: m.config };
};

// ---- plain-data conversions ----

/** A clip (F·S·S·3 floats in [-1, 1], frame-major) as uint8 RGB in the same layout: round((x + 1)·127.5), clamped. */
export function clipToUint8(clip: Float32Array): Uint8Array {
  const out = new Uint8Array(clip.length);
  for (let i = 0; i < clip.length; i++) {
    const v = Math.round((clip[i] + 1) * 127.5);
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v; // NaN → 0
  }
  return out;
}

const finiteOrNull = (x: number) => (Number.isFinite(x) ? x : null);
const delta = (d: MeanInterval): VideoDelta => ({ n: d.n, mean: d.mean, lo: d.lo, hi: d.hi });
const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);

class Stopped extends Error {
  constructor() {
    super('video run stopped');
  }
}

/** One video run at a time: start, stop, grids on request. */
export class VideoSession {
  private run = 0;
  private exp: VideoExperiment | null = null;
  private loop: Promise<void> | null = null;
  private stopping = false;
  private gridN = 4;
  private pendingGrids: { n: number; resolve: (v: { run: number; update: number }) => void; reject: (e: Error) => void }[] = [];

  constructor(
    private readonly emit: VideoEmit,
    private readonly assets: VideoAssetLoader = defaultAssets,
  ) {}

  /** Whether a run is in progress (tests). */
  get running(): boolean {
    return this.loop !== null;
  }

  async start(req: Extract<VideoRequest, { type: 'video.start' }>): Promise<VideoStartReply> {
    await this.stop();
    const run = ++this.run;
    this.stopping = false;
    const config = parseVideoConfig(req.config); // VideoConfigError names every bad field
    if (req.gridN !== undefined && (!Number.isInteger(req.gridN) || req.gridN < 1 || req.gridN > 16)) throw new Error(`video.start: gridN must be an integer in 1…16, got ${req.gridN}`);
    this.gridN = req.gridN ?? 4;
    this.emit({ type: 'video.status', run, status: 'loading', update: 0, message: 'loading the base model and the motion modules' });
    const a = await this.assets(this.emit);
    if (a.motion.frames !== config.frames || a.motion.heads !== config.heads) {
      throw new AssetError(`the shipped motion modules were pretrained for ${String(a.motion.frames)} frames and ${String(a.motion.heads)} heads; this config asks for ${config.frames} frames and ${config.heads} heads`);
    }
    this.emit({ type: 'video.status', run, status: 'loading', update: 0, message: 'building the time-lapse dataset and encoding the winning videos' });
    await new Promise((r) => setTimeout(r, 0));
    const exp = new VideoExperiment({ sd: a.sd, motionBytes: a.motionBytes, config, log: (s) => this.emit({ type: 'log', level: 'info', message: s }) });
    if (run !== this.run) {
      exp.dispose(); // stopped, or overtaken by a newer start, while loading
      throw new Error('video.start: stopped before the run began');
    }
    this.exp = exp;
    this.loop = this.runLoop(run, exp, config, req.finalEval ?? true);
    const motion: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(a.motion)) if (typeof v === 'string' || typeof v === 'number') motion[k] = v;
    return { run, config, arms: config.arms.map((x) => ({ name: x.name, method: x.method, ...(x.colour ? { colour: x.colour } : {}) })), motion };
  }

  /** Stops the run in progress between updates and waits until it is disposed. */
  async stop(): Promise<{ stopped: boolean; update: number }> {
    const loop = this.loop;
    if (!loop) {
      this.run++; // a start still loading its assets sees the bump and gives up
      return { stopped: false, update: 0 };
    }
    const update = this.exp?.update ?? 0;
    this.stopping = true;
    await loop;
    return { stopped: true, update };
  }

  /** Queues a grid of n clips per row; it is sampled before the next update and arrives as a `video.grid` event. */
  grid(n: number): Promise<{ run: number; update: number }> {
    if (!Number.isInteger(n) || n < 1 || n > 16) return Promise.reject(new Error(`video.grid: n must be an integer in 1…16, got ${n}`));
    if (!this.loop || this.stopping) return Promise.reject(new Error('video.grid: no video run in progress (press Start first)'));
    return new Promise((resolve, reject) => this.pendingGrids.push({ n, resolve, reject }));
  }

  private async sendGrid(run: number, exp: VideoExperiment, n: number): Promise<void> {
    const g = await exp.sampleGrid(n);
    const view: VideoGridView = { prompts: g.prompts, frames: exp.config.frames, size: 32, rows: g.rows.map((r) => ({ name: r.name, clips: r.clips.map(clipToUint8) })) };
    this.emit({ type: 'video.grid', run, update: exp.update, ...view }, view.rows.flatMap((r) => r.clips.map((c) => c.buffer as ArrayBuffer)));
  }

  private async servePendingGrids(run: number, exp: VideoExperiment): Promise<void> {
    while (this.pendingGrids.length && !this.stopping) {
      const p = this.pendingGrids.shift()!;
      try {
        await this.sendGrid(run, exp, p.n);
        p.resolve({ run, update: exp.update });
      } catch (e) {
        p.reject(e instanceof Error ? e : new Error(String(e)));
        throw e;
      }
    }
  }

  private async runLoop(run: number, exp: VideoExperiment, c: VideoConfig, withFinal: boolean): Promise<void> {
    const check = () => {
      if (this.stopping) throw new Stopped();
    };
    try {
      this.emit({ type: 'video.status', run, status: 'running', update: 0 });
      while (exp.update < c.updates) {
        await new Promise((r) => setTimeout(r, 0)); // let stop and grid requests in
        check();
        await this.servePendingGrids(run, exp);
        check();
        const before = exp.arms.map((a) => a.checkpoints.length);
        await exp.step();
        const u = exp.update;
        const records: VideoUpdateView[] = [];
        for (const a of exp.arms) {
          const r = a.updates[a.updates.length - 1];
          if (r && r.update === u) records.push({ arm: a.cfg.name, update: u, loss: r.loss, aafRate: finiteOrNull(r.aafRate), implicitAcc: finiteOrNull(r.implicitAcc), refK: r.refK, ms: r.ms });
        }
        const halted = exp.arms.filter((a) => a.halted).map((a) => a.halted!);
        this.emit({ type: 'video.update', run, update: u, records });
        this.emit({ type: 'video.status', run, status: 'running', update: u, ...(halted.length ? { message: halted.join('; ') } : {}) });
        const checkpoints: VideoCheckpointView[] = [];
        exp.arms.forEach((a, i) => {
          for (const cp of a.checkpoints.slice(before[i])) checkpoints.push({ arm: a.cfg.name, update: cp.update, trueUtility: cp.trueUtility, deltaVsRaw: delta(cp.deltaVsRaw.delta) });
        });
        if (checkpoints.length) this.emit({ type: 'video.checkpoint', run, update: u, checkpoints });
        if (u % c.checkpointEvery === 0 || u === c.updates) {
          await new Promise((r) => setTimeout(r, 0));
          check();
          await this.sendGrid(run, exp, this.gridN);
        }
      }
      await this.servePendingGrids(run, exp);
      let final: VideoFinalView | null = null;
      if (withFinal) {
        check();
        this.emit({ type: 'video.status', run, status: 'final', update: exp.update, message: 'final evaluation: sampling every model on the evaluation prompts' });
        const r = await exp.finalEval((name) => {
          check(); // between models: finalEval disposes what it made (core/video/experiment.ts)
          this.emit({ type: 'video.status', run, status: 'final', update: exp.update, message: `final evaluation: ${name}` });
        });
        final = {
          prompts: c.evalPrompts,
          models: r.models.map((m) => ({
            name: m.name,
            trueUtility: mean(m.clips.map((x) => x.trueUtility)),
            ssim: mean(m.clips.map((x) => x.ssim)),
            psnr: mean(m.clips.map((x) => x.psnr)),
            ...(m.vsRaw ? { deltaVsRaw: delta(m.vsRaw.trueUtility.delta) } : {}),
          })),
        };
      }
      this.emit({ type: 'video.status', run, status: 'done', update: exp.update });
      this.emit({ type: 'video.done', run, update: exp.update, final });
    } catch (e) {
      if (e instanceof Stopped) this.emit({ type: 'video.status', run, status: 'stopped', update: exp.update });
      else {
        const message = e instanceof Error ? e.message : String(e);
        this.emit({ type: 'video.status', run, status: 'error', update: exp.update, message });
        this.emit({ type: 'video.error', run, message });
      }
    } finally {
      exp.dispose();
      if (this.exp === exp) this.exp = null;
      this.loop = null;
      for (const p of this.pendingGrids.splice(0)) p.reject(new Error('video.grid: the run ended before the grid was sampled'));
    }
  }
}

let session: VideoSession | null = null;

/** Handles the Video view's requests inside the worker. */
export async function handleVideo(req: VideoRequest, emit: VideoEmit, assets?: VideoAssetLoader): Promise<VideoReplyMap[keyof VideoReplyMap]> {
  session ??= new VideoSession(emit, assets);
  switch (req.type) {
    case 'video.start':
      return session.start(req);
    case 'video.stop':
      return session.stop();
    case 'video.grid':
      return session.grid(req.n);
  }
  throw new Error(`unknown video request ${JSON.stringify(req)}`);
}
