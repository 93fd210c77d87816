/**
 * The decoder's ceiling (DESIGN §3, "the decoder sets the ceiling"): how much of the true
 * preference survives encode → decode. Alignment moves a latent model only as far as its decoder
 * lets it, so this table is measured whenever the autoencoder changes.
 *
 * For each named set of images (the alignment winners, the losers, the ideal renders of the same
 * prompts) it gives the mean true utility and each of its parts before and after the round trip,
 * and the share kept (reconstructed / original, of the means). `reconstructionTargets` checks the
 * targets of the issue "A decoder that keeps quality".
 */
import * as tf from '@tensorflow/tfjs';
import { IMAGE_LEN, IMAGE_SIZE, renderIdeal, trueUtility, type Prompt, type UtilityParts } from '../world';
import { decodeLatents, encodeImages, type ReducedSD } from './sd';

export const PART_KEYS = ['colour', 'shape', 'sharpness', 'background'] as const satisfies ReadonlyArray<keyof UtilityParts>;

export interface UtilitySummary {
  total: number;
  parts: UtilityParts;
}

export interface ReconstructionRow {
  set: string;
  images: number;
  original: UtilitySummary;
  reconstructed: UtilitySummary;
  /** reconstructed / original of each mean (1 = nothing lost; above 1 where the round trip cleans). */
  kept: UtilitySummary;
  /** Mean squared pixel error of the round trip, images in [-1, 1]. */
  mse: number;
}

export interface ImageSet {
  name: string;
  prompts: Prompt[];
  images: Float32Array[]; // each IMAGE_LEN, HWC in [-1, 1]
}

/** Mean true utility and parts of images for their prompts. */
export function meanUtility(prompts: readonly Prompt[], images: readonly Float32Array[]): UtilitySummary {
  if (prompts.length !== images.length || prompts.length === 0) {
    throw new Error(`meanUtility: ${prompts.length} prompts for ${images.length} images (need the same, non-zero count)`);
  }
  const parts: UtilityParts = { colour: 0, shape: 0, sharpness: 0, background: 0 };
  let total = 0;
  images.forEach((im, i) => {
    const u = trueUtility(prompts[i], im);
    total += u.total;
    for (const k of PART_KEYS) parts[k] += u.parts[k];
  });
  const n = images.length;
  for (const k of PART_KEYS) parts[k] /= n;
  return { total: total / n, parts };
}

const ratio = (a: number, b: number) => (b === 0 ? (a === 0 ? 1 : Infinity) : a / b);

/** The table: one row per set, `reconstruct` maps images to their round trips (same order). */
export function measureReconstruction(sets: readonly ImageSet[], reconstruct: (images: Float32Array[]) => Float32Array[]): ReconstructionRow[] {
  return sets.map((s) => {
    const rec = reconstruct(s.images);
    if (rec.length !== s.images.length) throw new Error(`measureReconstruction: '${s.name}' gave ${rec.length} reconstructions for ${s.images.length} images`);
    const original = meanUtility(s.prompts, s.images);
    const reconstructed = meanUtility(s.prompts, rec);
    const kept: UtilitySummary = {
      total: ratio(reconstructed.total, original.total),
      parts: Object.fromEntries(PART_KEYS.map((k) => [k, ratio(reconstructed.parts[k], original.parts[k])])) as unknown as UtilityParts,
    };
    let se = 0;
    s.images.forEach((im, i) => {
      const r = rec[i];
      for (let j = 0; j < im.length; j++) se += (r[j] - im[j]) ** 2;
    });
    return { set: s.name, images: s.images.length, original, reconstructed, kept, mse: se / (s.images.length * s.images[0].length) };
  });
}

/** encode → decode with a model's autoencoder, in chunks (leak-free). */
export function aeRoundTrip(m: ReducedSD, images: Float32Array[], chunk = 128): Float32Array[] {
  const out: Float32Array[] = [];
  const S = IMAGE_SIZE;
  for (let s = 0; s < images.length; s += chunk) {
    const n = Math.min(chunk, images.length - s);
    const buf = new Float32Array(n * IMAGE_LEN);
    for (let i = 0; i < n; i++) buf.set(images[s + i], i * IMAGE_LEN);
    const y = tf.tidy(() => decodeLatents(m, encodeImages(m, tf.tensor4d(buf, [n, S, S, 3]))));
    const d = y.dataSync() as Float32Array;
    y.dispose();
    for (let i = 0; i < n; i++) out.push(d.slice(i * IMAGE_LEN, (i + 1) * IMAGE_LEN));
  }
  return out;
}

/** The targets: winners keep ≥ 95 % of their utility and every part ≥ 90 %; ideal renders keep ≥ 0.95 absolute. */
export const RECONSTRUCTION_TARGETS = { winnersTotalKept: 0.95, winnersPartKept: 0.9, idealReconstructed: 0.95 } as const;

export interface TargetCheck {
  what: string;
  value: number;
  target: number;
  met: boolean;
}

/** Checks the rows named 'winners' and 'ideal' against RECONSTRUCTION_TARGETS. */
export function reconstructionTargets(rows: readonly ReconstructionRow[]): TargetCheck[] {
  const T = RECONSTRUCTION_TARGETS;
  const w = rows.find((r) => r.set === 'winners');
  const ideal = rows.find((r) => r.set === 'ideal');
  const checks: TargetCheck[] = [];
  if (w) {
    checks.push({ what: 'winners: total kept', value: w.kept.total, target: T.winnersTotalKept, met: w.kept.total >= T.winnersTotalKept });
    for (const k of PART_KEYS) checks.push({ what: `winners: ${k} kept`, value: w.kept.parts[k], target: T.winnersPartKept, met: w.kept.parts[k] >= T.winnersPartKept });
  }
  if (ideal) checks.push({ what: 'ideal: reconstructed utility', value: ideal.reconstructed.total, target: T.idealReconstructed, met: ideal.reconstructed.total >= T.idealReconstructed });
  return checks;
}

/** The table as markdown: original → reconstructed (kept %) for the total and every part. */
export function reconstructionMarkdown(rows: readonly ReconstructionRow[]): string {
  const cell = (o: number, r: number, k: number) => `${o.toFixed(3)} → ${r.toFixed(3)} (${(100 * k).toFixed(0)} %)`;
  const head = `| set | images | total | ${PART_KEYS.join(' | ')} | pixel MSE |`;
  const sep = `|---|---|---|${PART_KEYS.map(() => '---').join('|')}|---|`;
  const lines = rows.map(
    (r) =>
      `| ${r.set} | ${r.images} | ${cell(r.original.total, r.reconstructed.total, r.kept.total)} | ${PART_KEYS.map((k) => cell(r.original.parts[k], r.reconstructed.parts[k], r.kept.parts[k])).join(' | ')} | ${r.mse.toFixed(4)} |`,
  );
  return [head, sep, ...lines].join('\n');
}

/** The three sets of the table for alignment pairs: their winners, their losers, the ideal renders of their prompts. */
export function alignmentImageSets(pairs: ReadonlyArray<{ prompt: Prompt; winner: Float32Array; loser: Float32Array }>): ImageSet[] {
  const prompts = pairs.map((p) => p.prompt);
  return [
    { name: 'winners', prompts, images: pairs.map((p) => p.winner) },
    { name: 'losers', prompts, images: pairs.map((p) => p.loser) },
    { name: 'ideal', prompts, images: prompts.map((p) => renderIdeal(p)) },
  ];
}
