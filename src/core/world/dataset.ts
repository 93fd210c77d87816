/**
 * The Pick-a-Shape dataset (DESIGN §2), deterministic from one seed.
 *
 * Prompt splits (of the 1440 prompts):
 *   oodComposition  prompts whose shape×colour pair is held out (6 pairs, one per shape, drawn by
 *                   seed); these pairs occur in NO other split, pairs or prompts.
 *   validationUnique / oodRaters.prompts / scorer-test prompts: disjoint in-distribution prompts
 *                   never used by any training split.
 *   training prompts: the rest; `train`, `scorerTrain` and `hpsTrain` draw their pairs from them,
 *                   each from its own RNG stream (pairs are distinct objects with their own images).
 * Images are stored as Float32Array (12 KiB each); the default build holds ~12k images (~145 MB in
 * Node). The browser builds smaller ones through the options.
 */
import { Rng } from '../rng';
import type { Prompt } from './prompt';
import { COLOURS, SHAPES, allPrompts, promptKey, promptText } from './prompt';
import { GENERATORS, renderWithGenerator, type Defect } from './generators';
import { RATER_POOLS, poolUtility, ratePair, type RaterPool } from './raters';
import { UTILITY_WEIGHTS, trueUtility, utilityParts, weightedTotal, type UtilityParts } from './utility';
import { renderIdeal } from './render';

/** A rated pair of renders (images here, videos in src/core/video): what was asked, both renders, who won. */
export interface RatedPair<P, Parts> {
  prompt: P;
  text: string;
  winner: Float32Array;
  loser: Float32Array;
  winnerGen: number;
  loserGen: number;
  /** True utility (pool A weights, 0..1) of each render, whatever pool judged the pair. */
  uWinner: number;
  uLoser: number;
  partsWinner: Parts;
  partsLoser: Parts;
  /** The rater pool that judged the pair. */
  pool: 'A' | 'B';
}

export interface Pair extends RatedPair<Prompt, UtilityParts> {
  defectsWinner: Defect[];
  defectsLoser: Defect[];
}

export interface DatasetOptions {
  seed: number;
  nTrainPairs?: number;
  nScorerTrain?: number;
  nScorerTest?: number;
  nHpsTrain?: number;
  nHpsTest?: number;
  nOodRaterPairs?: number;
  nValidation?: number;
  nOodComposition?: number;
  nOodRaterPrompts?: number;
  nScorerTestPrompts?: number;
  /** Number of held-out shape×colour pairs (≤ 6, one per shape). */
  nHeldOutCombos?: number;
}

export const DEFAULT_DATASET_OPTIONS: Required<Omit<DatasetOptions, 'seed'>> = Object.freeze({
  nTrainPairs: 3000,
  nScorerTrain: 1000,
  nScorerTest: 300,
  nHpsTrain: 1000,
  nHpsTest: 300,
  nOodRaterPairs: 300,
  nValidation: 64,
  nOodComposition: 64,
  nOodRaterPrompts: 64,
  nScorerTestPrompts: 128,
  nHeldOutCombos: 6,
});

export type PairSplit = 'train' | 'scorerTrain' | 'scorerTest' | 'hpsTrain' | 'hpsTest' | 'oodRaters';
export const PAIR_SPLITS: readonly PairSplit[] = ['train', 'scorerTrain', 'scorerTest', 'hpsTrain', 'hpsTest', 'oodRaters'];

export interface GapBin {
  lo: number;
  hi: number;
  n: number;
  /** Share of pairs whose winner has the higher (pool) utility. */
  agreement: number;
}
export interface PoolAgreement {
  overall: number;
  n: number;
  byGap: GapBin[];
}

export interface DatasetStats {
  pairs: Record<PairSplit, number>;
  uniquePrompts: Record<PairSplit, number>;
  tiesDropped: Record<PairSplit, number>;
  /** Rater agreement with the higher-utility image, per pool, over all its pairs. */
  raterAgreement: Record<'A' | 'B', PoolAgreement>;
  /** Per generator: share of its `train` appearances that won, and its mean true utility. */
  generators: { name: string; appearances: number; winRate: number; meanUtility: number }[];
  heldOutCombos: { shape: string; colour: string }[];
  promptCounts: { training: number; validationUnique: number; oodComposition: number; oodRaters: number; scorerTest: number };
}

export interface Dataset {
  seed: number;
  options: Required<DatasetOptions>;
  train: Pair[];
  scorerTrain: Pair[];
  scorerTest: Pair[];
  hpsTrain: Pair[];
  hpsTest: Pair[];
  validationUnique: Prompt[];
  oodComposition: Prompt[];
  /** Out-of-distribution raters: pool B pairs on prompts never used for training. */
  oodRaters: { prompts: Prompt[]; pairs: Pair[] };
  /** Prompts that train / scorerTrain / hpsTrain draw from. */
  trainingPrompts: Prompt[];
  /** The in-distribution prompts of scorerTest / hpsTest: never trained on by anything; the alignment runs' tuning split (issue 13). */
  scorerTestPrompts: Prompt[];
  heldOutCombos: { shape: string; colour: string }[];
  stats: DatasetStats;
}

/** Utility-gap bins for agreement and accuracy tables (gaps are ≤ 1 on the 0..1 utility scale). */
export const GAP_EDGES: readonly number[] = [0, 0.05, 0.1, 0.2, 0.4, 1];

/** Index of the GAP_EDGES bin holding the absolute utility gap `g` (the last bin takes everything above). */
export function gapBinIndex(g: number): number {
  const n = GAP_EDGES.length - 1;
  for (let i = 0; i < n - 1; i++) if (g < GAP_EDGES[i + 1]) return i;
  return n - 1;
}

function checkCount(name: string, v: unknown, max = 1e6): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new Error(`buildDataset: option ${name} must be an integer in 0..${max}, got ${String(v)}`);
  }
  return v;
}

/** `n` pairs on random picks of `prompts`, each from two random generators, rated by `pool` (ties dropped and redrawn). */
export function ratedPairs(prompts: Prompt[], n: number, pool: RaterPool, rng: Rng): { pairs: Pair[]; ties: number } {
  const pairs: Pair[] = [];
  let ties = 0;
  if (n > 0 && prompts.length === 0) throw new Error('buildDataset: no prompts left for a split; lower the held-out counts');
  const maxAttempts = 50 * n + 100;
  let attempts = 0;
  while (pairs.length < n) {
    if (++attempts > maxAttempts) throw new Error(`buildDataset: too many ties (${ties}) to build ${n} pairs`);
    const prompt = rng.pick(prompts);
    const ga = rng.int(GENERATORS.length);
    const gb = rng.int(GENERATORS.length);
    const a = renderWithGenerator(prompt, ga, rng);
    const b = renderWithGenerator(prompt, gb, rng);
    const pa = utilityParts(prompt, a.image);
    const pb = utilityParts(prompt, b.image);
    const verdict = ratePair(pool, poolUtility(pool, pa), poolUtility(pool, pb), rng);
    if (verdict === 'tie') {
      ties++;
      continue;
    }
    const [w, l, gw, gl, pw, pl] = verdict === 'a' ? [a, b, ga, gb, pa, pb] : [b, a, gb, ga, pb, pa];
    pairs.push({
      prompt,
      text: promptText(prompt),
      winner: w.image,
      loser: l.image,
      winnerGen: gw,
      loserGen: gl,
      uWinner: weightedTotal(pw, UTILITY_WEIGHTS),
      uLoser: weightedTotal(pl, UTILITY_WEIGHTS),
      partsWinner: pw,
      partsLoser: pl,
      defectsWinner: w.defects,
      defectsLoser: l.defects,
      pool: pool.name,
    });
  }
  return { pairs, ties };
}

function agreement(pairs: Pair[], pool: RaterPool): PoolAgreement {
  const bins = GAP_EDGES.slice(0, -1).map((lo, i) => ({ lo: i === 0 ? pool.tieBand : lo, hi: GAP_EDGES[i + 1], n: 0, agree: 0 }));
  let agree = 0;
  for (const p of pairs) {
    const gap = poolUtility(pool, p.partsWinner) - poolUtility(pool, p.partsLoser);
    const ok = gap > 0 ? 1 : 0;
    agree += ok;
    const bin = bins[gapBinIndex(Math.abs(gap))];
    bin.n++;
    bin.agree += ok;
  }
  return {
    overall: pairs.length ? agree / pairs.length : NaN,
    n: pairs.length,
    byGap: bins.map((b) => ({ lo: b.lo, hi: b.hi, n: b.n, agreement: b.n ? b.agree / b.n : NaN })),
  };
}

/** Build the whole dataset from a seed (DESIGN §2). Deterministic: same options → identical data. */
/** Only alignment pairs and validation prompts, every other split empty: what an engine test or a benchmark needs (builds in milliseconds). */
export function alignmentOnlyDataset(seed: number, nTrainPairs: number, nValidation: number): Dataset {
  return buildDataset({
    seed,
    nTrainPairs,
    nValidation,
    nScorerTrain: 0,
    nScorerTest: 0,
    nHpsTrain: 0,
    nHpsTest: 0,
    nOodRaterPairs: 0,
    nOodComposition: 0,
    nOodRaterPrompts: 0,
    nScorerTestPrompts: 0,
  });
}

export function buildDataset(options: DatasetOptions): Dataset {
  if (!options || typeof options.seed !== 'number' || !Number.isFinite(options.seed)) {
    throw new Error(`buildDataset: options.seed must be a finite number, got ${String(options?.seed)}`);
  }
  const o = { ...DEFAULT_DATASET_OPTIONS, ...options } as Required<DatasetOptions>;
  for (const k of Object.keys(DEFAULT_DATASET_OPTIONS) as (keyof typeof DEFAULT_DATASET_OPTIONS)[]) {
    checkCount(k, o[k], k === 'nHeldOutCombos' ? SHAPES.length : 1e6);
  }
  const root = new Rng(o.seed);

  // Held-out shape×colour pairs: shape i gets the i-th colour of a seeded shuffle (distinct colours).
  const colours = root.fork('heldout').shuffle([...COLOURS]);
  const heldOutCombos = SHAPES.slice(0, o.nHeldOutCombos).map((shape, i) => ({ shape, colour: colours[i] }));
  const held = new Set(heldOutCombos.map((c) => `${c.shape}|${c.colour}`));
  const isHeld = (p: Prompt) => held.has(`${p.shape}|${p.colour}`);

  const prompts = allPrompts();
  const oodComposition = root.fork('ood').shuffle(prompts.filter(isHeld)).slice(0, o.nOodComposition);
  const inDist = root.fork('prompts').shuffle(prompts.filter((p) => !isHeld(p)));
  let k = 0;
  const take = (n: number) => inDist.slice(k, (k += n));
  const validationUnique = take(o.nValidation);
  const oodRaterPrompts = take(o.nOodRaterPrompts);
  const scorerTestPrompts = take(o.nScorerTestPrompts);
  const trainingPrompts = inDist.slice(k);

  const A = RATER_POOLS.A, B = RATER_POOLS.B;
  const train = ratedPairs(trainingPrompts, o.nTrainPairs, A, root.fork('train'));
  const scorerTrain = ratedPairs(trainingPrompts, o.nScorerTrain, A, root.fork('scorerTrain'));
  const scorerTest = ratedPairs(scorerTestPrompts, o.nScorerTest, A, root.fork('scorerTest'));
  const hpsTrain = ratedPairs(trainingPrompts, o.nHpsTrain, B, root.fork('hpsTrain'));
  const hpsTest = ratedPairs(scorerTestPrompts, o.nHpsTest, B, root.fork('hpsTest'));
  const oodRaters = ratedPairs(oodRaterPrompts, o.nOodRaterPairs, B, root.fork('oodRaters'));

  const bySplit: Record<PairSplit, { pairs: Pair[]; ties: number }> = { train, scorerTrain, scorerTest, hpsTrain, hpsTest, oodRaters };
  const rec = <T,>(f: (s: { pairs: Pair[]; ties: number }) => T) =>
    Object.fromEntries(PAIR_SPLITS.map((s) => [s, f(bySplit[s])])) as Record<PairSplit, T>;

  const gens = GENERATORS.map((g) => ({ name: g.name, appearances: 0, wins: 0, uSum: 0 }));
  for (const p of train.pairs) {
    gens[p.winnerGen].appearances++;
    gens[p.winnerGen].wins++;
    gens[p.winnerGen].uSum += p.uWinner;
    gens[p.loserGen].appearances++;
    gens[p.loserGen].uSum += p.uLoser;
  }

  const stats: DatasetStats = {
    pairs: rec((s) => s.pairs.length),
    uniquePrompts: rec((s) => new Set(s.pairs.map((p) => promptKey(p.prompt))).size),
    tiesDropped: rec((s) => s.ties),
    raterAgreement: {
      A: agreement([...train.pairs, ...scorerTrain.pairs, ...scorerTest.pairs], A),
      B: agreement([...hpsTrain.pairs, ...hpsTest.pairs, ...oodRaters.pairs], B),
    },
    generators: gens.map((g) => ({
      name: g.name,
      appearances: g.appearances,
      winRate: g.appearances ? g.wins / g.appearances : NaN,
      meanUtility: g.appearances ? g.uSum / g.appearances : NaN,
    })),
    heldOutCombos,
    promptCounts: {
      training: trainingPrompts.length,
      validationUnique: validationUnique.length,
      oodComposition: oodComposition.length,
      oodRaters: oodRaterPrompts.length,
      scorerTest: scorerTestPrompts.length,
    },
  };

  return {
    seed: o.seed,
    options: o,
    train: train.pairs,
    scorerTrain: scorerTrain.pairs,
    scorerTest: scorerTest.pairs,
    hpsTrain: hpsTrain.pairs,
    hpsTest: hpsTest.pairs,
    validationUnique,
    oodComposition,
    oodRaters: { prompts: oodRaterPrompts, pairs: oodRaters.pairs },
    trainingPrompts,
    scorerTestPrompts,
    heldOutCombos,
    stats,
  };
}

/** One training image with its prompt (the SePPO / SFT views of the pairs). */
export interface Sample {
  prompt: Prompt;
  image: Float32Array;
  generator: number;
  utility: number;
  isWinner: boolean;
}

/** SePPOʷ / SFTʷ: the winner of every `train` pair. */
export function winnersOnly(ds: Pick<Dataset, 'train'>): Sample[] {
  return ds.train.map((p) => ({ prompt: p.prompt, image: p.winner, generator: p.winnerGen, utility: p.uWinner, isWinner: true }));
}

/**
 * A control, not the paper's data: every pair's winner replaced by the ideal render of its prompt
 * (render.ts, no defects; generator −1), its true utility re-scored; losers unchanged. SFT on these
 * measures the ceiling of supervised fine-tuning on this base (issue 13, gate 2): how far the base
 * moves when the target images are as good as the world allows.
 */
export function idealWinners(pairs: readonly Pair[]): Pair[] {
  return pairs.map((p) => {
    const winner = renderIdeal(p.prompt);
    const u = trueUtility(p.prompt, winner);
    return { ...p, winner, winnerGen: -1, uWinner: u.total, partsWinner: u.parts, defectsWinner: [] };
  });
}

/** SePPOʳ: a random one of winner or loser for every `train` pair (deterministic given rng). */
export function randomPick(ds: Pick<Dataset, 'train'>, rng: Rng): Sample[] {
  return ds.train.map((p) =>
    rng.next() < 0.5
      ? { prompt: p.prompt, image: p.winner, generator: p.winnerGen, utility: p.uWinner, isWinner: true }
      : { prompt: p.prompt, image: p.loser, generator: p.loserGen, utility: p.uLoser, isWinner: false },
  );
}
