/**
 * The records of a video run as plain data (no tfjs), shared by the engine (experiment.ts), the report
 * (report.ts, which `npm run video-seeds` reads without tfjs) and the worker's events.
 */
import type { PairedComparison } from '../eval/intervals';

/** Per-clip metrics of one evaluated clip. */
export interface VideoClipMetrics {
  trueUtility: number;
  frame: number;
  temporal: number;
  follow: number;
  ssim: number;
  psnr: number;
  /** LPIPS-like distance to the ideal video (lower is better); NaN without feature networks. */
  lpips: number;
}
export const CLIP_METRIC_KEYS = ['trueUtility', 'frame', 'temporal', 'follow', 'ssim', 'psnr', 'lpips'] as const satisfies readonly (keyof VideoClipMetrics)[];

export interface VideoUpdateRecord {
  update: number;
  loss: number;
  /** SePPO: share of reference samples judged losers (s = −1); SFT: NaN. */
  aafRate: number;
  implicitAcc: number;
  /** θ_ref's k (SePPO), −1 for SFT. */
  refK: number;
  ms: number;
}

export interface VideoCheckpointRecord {
  update: number;
  /** Mean true utility of the checkpoint's clips, and Δ against the raw model on the same clips. */
  trueUtility: number;
  deltaVsRaw: PairedComparison;
}
