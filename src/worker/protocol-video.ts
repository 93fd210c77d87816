/**
 * Worker messages for the Video view (issue 17, the paper's Table 3): start a video experiment
 * (core/video/experiment.ts) on the shipped image base + motion modules, stop it, and sample the
 * animated grid. Owned by the Video view; unioned into protocol.ts.
 *
 * Every event carries `run` (bumped on every start) so the page drops a stale run's last messages.
 * Only plain numbers, strings and Uint8Arrays cross: clips travel as uint8 RGB frames (converted in
 * the worker, their buffers transferred), so the page does no tensor maths.
 */
import type { VideoConfig, VideoConfigInput } from '../core/video/config';

/** A paired mean difference with its 95 % interval (core/eval/intervals.ts pairedDelta, trimmed). */
export interface VideoDelta {
  n: number;
  mean: number;
  lo: number;
  hi: number;
}

/** One arm's record of one update (core/video/experiment.ts VideoUpdateRecord, plain data). */
export interface VideoUpdateView {
  arm: string;
  update: number;
  loss: number;
  /** SePPO: share of reference samples judged losers; SFT: null (NaN does not survive JSON-like handling well). */
  aafRate: number | null;
  implicitAcc: number | null;
  refK: number;
  ms: number;
}

/** One arm's checkpoint: mean true preference of its clips and Δ against the raw model on the same clips and noise. */
export interface VideoCheckpointView {
  arm: string;
  update: number;
  trueUtility: number;
  deltaVsRaw: VideoDelta;
}

/** The animated grid: one row per model (raw, then each arm), one clip per prompt, the same noise for every model. */
export interface VideoGridView {
  prompts: string[];
  frames: number;
  /** Frame side in pixels (32). */
  size: number;
  /** Each clip: `frames` frames of size×size RGB, frame-major (frame f at f·size·size·3). */
  rows: { name: string; clips: Uint8Array[] }[];
}

/** The final paired evaluation, per model (means over the evaluation clips; Δ vs raw with its interval). */
export interface VideoFinalView {
  prompts: number;
  models: {
    name: string;
    trueUtility: number;
    ssim: number;
    psnr: number;
    /** Absent for the raw model itself. */
    deltaVsRaw?: VideoDelta;
  }[];
}

export type VideoStatus = 'loading' | 'running' | 'final' | 'done' | 'stopped' | 'error';

export interface VideoStartReply {
  run: number;
  config: VideoConfig;
  /** Arm names and colours, in the config's order. */
  arms: { name: string; method: string; colour?: string }[];
  /** The motion modules' config.json record (steps, clips …) as shipped. */
  motion: Record<string, string | number>;
}

export type VideoRequest =
  /** A config (a preset's, or one the page edited): parsed in the worker with parseVideoConfig (clear errors). Replies once the run is built; updates then stream as events. */
  | { id: number; type: 'video.start'; config: VideoConfigInput; /** Clips per grid row (default 4). */ gridN?: number; /** Run the final evaluation after the last update (default true). */ finalEval?: boolean }
  /** Stops the run between updates and disposes it; replies once every tensor is freed. */
  | { id: number; type: 'video.stop' }
  /** Samples the grid now (between updates of a running run); the grid arrives as a `video.grid` event. */
  | { id: number; type: 'video.grid'; n: number };

export interface VideoReplyMap {
  'video.start': VideoStartReply;
  'video.stop': { stopped: boolean; update: number };
  'video.grid': { run: number; update: number };
}

export type VideoEvent =
  | { type: 'video.status'; run: number; status: VideoStatus; update: number; message?: string }
  | { type: 'video.update'; run: number; update: number; records: VideoUpdateView[] }
  | { type: 'video.checkpoint'; run: number; update: number; checkpoints: VideoCheckpointView[] }
  | ({ type: 'video.grid'; run: number; update: number } & VideoGridView)
  | { type: 'video.done'; run: number; update: number; final: VideoFinalView | null }
  | { type: 'video.error'; run: number; message: string };

/** The `type` of every VideoRequest (the worker routes by it). */
export const VIDEO_REQUEST_TYPES = ['video.start', 'video.stop', 'video.grid'] as const satisfies readonly VideoRequest['type'][];
