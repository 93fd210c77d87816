/**
 * Training and reporting for the two shipped scorers (used by `scripts/train-scorers.ts`):
 * build the rater pairs from the world, train PickScore-mini on pool A and HPS-mini on pool B with
 * the Bradley–Terry loss, and measure held-out accuracy next to the raters' own ceiling.
 */
import { Rng } from '../rng';
import {
  GAP_EDGES, GENERATORS, MAX_TOKENS, RATER_POOLS, VOCAB, gapBinIndex, poolUtility, renderWithGenerator, tokenize, trueUtility,
  type Pair, type Prompt,
} from '../world';
import type { ReducedSD } from '../model/sd';
import { aesthetic } from './aesthetic';
import { evaluateModel, type EvalSampling, type Scorers } from './evaluate';
import type { ImageMetrics } from './metrics';
import { alignment } from './alignment';
import { analyse } from './pixels';
import { defaultScorerConfig, initScorer, pairAccuracy, scoreImages, scorePairs, type Scorer, type ScorerConfig, type ScorerPair } from './scorer';
import { trainScorer, type TrainScorerOptions } from './scorerTraining';
import { spearman } from './stats';

/** Token map for mirror augmentation: 'left' ↔ 'right', every other word to itself. */
export function mirrorTokenMap(): Int32Array {
  const map = Int32Array.from(VOCAB.map((_, i) => i));
  const l = VOCAB.indexOf('left'), r = VOCAB.indexOf('right');
  if (l < 0 || r < 0) throw new Error("mirrorTokenMap: the vocabulary has no 'left'/'right'");
  map[l] = r;
  map[r] = l;
  return map;
}

export function toScorerPairs(pairs: Pair[]): ScorerPair[] {
  return pairs.map((p) => ({ tokens: tokenize(p.prompt), winner: p.winner, loser: p.loser }));
}

/**
 * The ceiling for a scorer trained on `pairs`: how often the pool's raters themselves picked the
 * image with the higher (pool) utility. A scorer that learned the pool's utility exactly would
 * score this accuracy against the raters' noisy labels.
 */
export function raterCeiling(pairs: Pair[], pool: 'A' | 'B'): number {
  if (pairs.length === 0) throw new Error('raterCeiling: no pairs');
  const P = RATER_POOLS[pool];
  let agree = 0;
  for (const p of pairs) agree += poolUtility(P, p.partsWinner) > poolUtility(P, p.partsLoser) ? 1 : 0;
  return agree / pairs.length;
}

/** Utility-gap bins (pool utility, 0..1) for the accuracy breakdown: the world's agreement bins. */
export const GAP_BINS = GAP_EDGES;

export interface GapAccuracy {
  lo: number;
  hi: number;
  n: number;
  /** Share of the bin's pairs the scorer orders like the rater (ties ½). */
  accuracy: number;
  /** Share of the bin's pairs whose rater picked the higher pool utility. */
  ceiling: number;
}

/**
 * Accuracy by pool-utility gap from already computed scores (`sw[i]`, `sl[i]`: pair i's winner and
 * loser), next to the raters' own ceiling in each bin. Bins with no pairs get NaN.
 */
export function gapBreakdown(pairs: Pair[], sw: ArrayLike<number>, sl: ArrayLike<number>, pool: 'A' | 'B'): GapAccuracy[] {
  const P = RATER_POOLS[pool];
  const bins = GAP_EDGES.slice(0, -1).map((lo, i) => ({ lo, hi: GAP_EDGES[i + 1], n: 0, right: 0, agree: 0 }));
  pairs.forEach((p, i) => {
    const gap = poolUtility(P, p.partsWinner) - poolUtility(P, p.partsLoser);
    const bin = bins[gapBinIndex(Math.abs(gap))];
    bin.n++;
    bin.right += sw[i] > sl[i] ? 1 : sw[i] === sl[i] ? 0.5 : 0;
    bin.agree += gap > 0 ? 1 : 0;
  });
  return bins.map((b) => ({ lo: b.lo, hi: b.hi, n: b.n, accuracy: b.n ? b.right / b.n : NaN, ceiling: b.n ? b.agree / b.n : NaN }));
}

/** The pairs, accuracy and ceiling over all bins of a breakdown (each bin weighted by its pairs; empty bins count 0). */
export function gapTotals(bins: GapAccuracy[]): { n: number; accuracy: number; ceiling: number } {
  const n = bins.reduce((a, b) => a + b.n, 0);
  return { n, accuracy: bins.reduce((a, b) => a + b.n * (b.n ? b.accuracy : 0), 0) / n, ceiling: bins.reduce((a, b) => a + b.n * (b.n ? b.ceiling : 0), 0) / n };
}

/** Held-out accuracy broken down by the pair's pool-utility gap (scores the pairs, then `gapBreakdown`). */
export async function accuracyByGap(s: Scorer, pairs: Pair[], pool: 'A' | 'B'): Promise<GapAccuracy[]> {
  if (pairs.length === 0) throw new Error('accuracyByGap: no pairs');
  const { sw, sl } = await scorePairs(s, toScorerPairs(pairs));
  return gapBreakdown(pairs, sw, sl, pool);
}

export interface ScorerRun {
  scorer: Scorer;
  testAccuracy: number;
  trainAccuracy: number;
  ceiling: number;
  steps: number;
  seconds: number;
  history: Array<{ epoch: number; loss: number; trainAcc: number; valAcc?: number }>;
}

/** Trains one scorer from its seed on `train` pairs and measures it on `test` pairs. */
export async function trainAndMeasure(
  name: string,
  pool: 'A' | 'B',
  train: Pair[],
  test: Pair[],
  seed: number,
  opts: Omit<TrainScorerOptions, 'seed' | 'validation' | 'mirrorTokens'> & { config?: Partial<ScorerConfig>; validateEachEpoch?: boolean; mirror?: boolean },
): Promise<ScorerRun> {
  const cfg = { ...defaultScorerConfig(VOCAB.length, MAX_TOKENS), ...opts.config };
  const scorer = initScorer(name, name, cfg, seed);
  const trainPairs = toScorerPairs(train);
  const testPairs = toScorerPairs(test);
  const res = await trainScorer(scorer, trainPairs, {
    ...opts,
    seed,
    validation: opts.validateEachEpoch ? testPairs : undefined,
    mirrorTokens: opts.mirror ? mirrorTokenMap() : undefined,
  });
  // With per-epoch validation the last epoch's figure is already the final model on the test pairs.
  const lastVal = res.history.at(-1)?.valAcc;
  return {
    scorer,
    testAccuracy: lastVal ?? (await pairAccuracy(scorer, testPairs)),
    trainAccuracy: await pairAccuracy(scorer, trainPairs),
    ceiling: raterCeiling(test, pool),
    steps: res.steps,
    seconds: res.seconds,
    history: res.history,
  };
}

type CorrKey = 'pickScore' | 'hps' | 'alignment' | 'aesthetic';

/** Spearman ρ of each metric with `u`: pooled, and the mean over consecutive groups of `group` images (one prompt each). */
function correlate<K extends string>(values: Record<K, ArrayLike<number>>, u: ArrayLike<number>, group: number) {
  const pooled = {} as Record<K, number>;
  const withinPrompt = {} as Record<K, number>;
  for (const k of Object.keys(values) as K[]) {
    const v = Float64Array.from(values[k] as ArrayLike<number>);
    const uu = Float64Array.from(u);
    pooled[k] = spearman(v, uu);
    let sum = 0, n = 0;
    for (let start = 0; start < v.length; start += group) {
      const r = spearman(v.subarray(start, start + group), uu.subarray(start, start + group));
      if (Number.isFinite(r)) (sum += r), n++; // constant within a prompt (e.g. all renders ideal): skip
    }
    withinPrompt[k] = n ? sum / n : NaN;
  }
  return { pooled, withinPrompt };
}

/**
 * Spearman ρ of each metric with the true preference over generator outputs: every prompt
 * rendered `perGenerator` times by every generator (seeded). `pooled`: over all images at once;
 * `withinPrompt`: mean over prompts of ρ among that prompt's images (what a pairwise-trained
 * scorer is built for: the Bradley–Terry loss fixes score differences within a prompt only).
 */
export async function metricCorrelations(
  prompts: Prompt[],
  scorers: { pickScore: Scorer; hps: Scorer },
  seed: number,
  perGenerator = 2,
): Promise<{ n: number; perPrompt: number; pooled: Record<CorrKey, number>; withinPrompt: Record<CorrKey, number> }> {
  const rng = new Rng(seed).fork('metric-correlations');
  const ps: Prompt[] = [];
  const images: Float32Array[] = [];
  for (const p of prompts) {
    for (let g = 0; g < GENERATORS.length; g++) {
      for (let k = 0; k < perGenerator; k++) {
        ps.push(p);
        images.push(renderWithGenerator(p, g, rng).image);
      }
    }
  }
  const tokens = ps.map((p) => tokenize(p));
  const values: Record<CorrKey, Float64Array> = {
    pickScore: Float64Array.from(await scoreImages(scorers.pickScore, tokens, images)),
    hps: Float64Array.from(await scoreImages(scorers.hps, tokens, images)),
    alignment: new Float64Array(images.length),
    aesthetic: new Float64Array(images.length),
  };
  const u = new Float64Array(images.length);
  images.forEach((im, i) => {
    const a = analyse(im);
    values.alignment[i] = alignment(ps[i], im, a).score;
    values.aesthetic[i] = aesthetic(im, a).score;
    u[i] = trueUtility(ps[i], im).total;
  });
  const per = GENERATORS.length * perGenerator;
  const { pooled, withinPrompt } = correlate(values, u, per);
  return { n: images.length, perPrompt: per, pooled, withinPrompt };
}

/**
 * The same correlations over a diffusion model's own samples: each prompt sampled `reps` times
 * (image i starts from the noise `Rng(seed).fork('noise/i')`), evaluated with all five metrics.
 */
export async function modelSampleCorrelations(
  model: ReducedSD,
  prompts: Prompt[],
  reps: number,
  sampling: EvalSampling,
  scorers: Scorers,
): Promise<{ n: number; perPrompt: number; mean: ImageMetrics; pooled: Record<CorrKey, number>; withinPrompt: Record<CorrKey, number> }> {
  const all = prompts.flatMap((p) => Array.from({ length: reps }, () => p));
  const ev = await evaluateModel(model, all, sampling, scorers);
  const col = (k: CorrKey) => ev.perImage.map((r) => r[k]);
  const values = { pickScore: col('pickScore'), hps: col('hps'), alignment: col('alignment'), aesthetic: col('aesthetic') };
  const { pooled, withinPrompt } = correlate(values, ev.perImage.map((r) => r.trueUtility), reps);
  return { n: all.length, perPrompt: reps, mean: ev.mean, pooled, withinPrompt };
}
