/**
 * The Video view's chart rows and frame pixels, from the worker's plain records. Pure (no DOM, no
 * tfjs): the worker sends uint8 RGB; here it only becomes RGBA for a canvas.
 */
import type { VideoCheckpointView, VideoUpdateView } from '../../worker/protocol-video';

/** One row per update: `loss_i` and `aaf_i` per arm i (missing when the arm has no value at that update). */
export type VideoRow = { update: number } & Record<string, number>;

export function updateRows(records: readonly VideoUpdateView[], arms: readonly string[]): VideoRow[] {
  const byUpdate = new Map<number, VideoRow>();
  for (const r of records) {
    const i = arms.indexOf(r.arm);
    if (i < 0) continue;
    let row = byUpdate.get(r.update);
    if (!row) byUpdate.set(r.update, (row = { update: r.update } as VideoRow));
    if (Number.isFinite(r.loss)) row[`loss${i}`] = r.loss;
    if (r.aafRate !== null && Number.isFinite(r.aafRate)) row[`aaf${i}`] = r.aafRate;
  }
  return [...byUpdate.values()].sort((a, b) => a.update - b.update);
}

/**
 * One row per checkpoint update: `d_i` the arm's Δ true preference vs raw (paired mean), `band_i`
 * its 95 % interval as [lo, hi] (recharts' range area), omitted where the interval is not finite.
 */
export type CheckpointRow = { update: number } & Record<string, number | [number, number]>;

export function checkpointRows(cps: readonly VideoCheckpointView[], arms: readonly string[]): CheckpointRow[] {
  const byUpdate = new Map<number, CheckpointRow>([[0, { update: 0 } as CheckpointRow]]);
  for (const c of cps) {
    const i = arms.indexOf(c.arm);
    if (i < 0) continue;
    let row = byUpdate.get(c.update);
    if (!row) byUpdate.set(c.update, (row = { update: c.update } as CheckpointRow));
    row[`d${i}`] = c.deltaVsRaw.mean;
    if (Number.isFinite(c.deltaVsRaw.lo) && Number.isFinite(c.deltaVsRaw.hi)) row[`band${i}`] = [c.deltaVsRaw.lo, c.deltaVsRaw.hi];
  }
  // Update 0: every arm starts as the raw model (zero LoRA), Δ = 0 exactly.
  const first = byUpdate.get(0)!;
  arms.forEach((_, i) => (first[`d${i}`] = 0));
  return [...byUpdate.values()].sort((a, b) => a.update - b.update);
}

/** Frame f of a uint8 RGB clip (frame-major, size×size×3 per frame) as RGBA for ImageData. */
export function frameRgba(clip: Uint8Array, f: number, size: number): Uint8ClampedArray<ArrayBuffer> {
  const n = size * size;
  if (clip.length % (n * 3) !== 0) throw new Error(`frameRgba: ${clip.length} bytes are not whole ${size}×${size} RGB frames`);
  const frames = clip.length / (n * 3);
  if (!Number.isInteger(f) || f < 0 || f >= frames) throw new Error(`frameRgba: frame ${f} of ${frames}`);
  const out = new Uint8ClampedArray(n * 4);
  for (let p = 0, i = f * n * 3; p < n; p++, i += 3) {
    out[4 * p] = clip[i];
    out[4 * p + 1] = clip[i + 1];
    out[4 * p + 2] = clip[i + 2];
    out[4 * p + 3] = 255;
  }
  return out;
}

/** Frames in a uint8 RGB clip. */
export const frameCount = (clip: Uint8Array, size: number) => clip.length / (size * size * 3);

/** A signed number with its interval, for the page: "+0.012 [−0.004, +0.028]". */
export function fmtDelta(d: { mean: number; lo: number; hi: number }, digits = 3): string {
  const s = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}` : x > 0 ? '+∞' : x < 0 ? '−∞' : 'n/a');
  return `${s(d.mean)} [${s(d.lo)}, ${s(d.hi)}]`;
}
