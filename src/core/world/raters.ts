/**
 * Simulated raters (DESIGN §2): Bradley–Terry choice P(a wins) = σ((U_a − U_b)/τ), with pairs whose
 * utility gap is inside the tie band dropped (the paper removes ties too). Pool A (PickScore-like)
 * judges by the true utility; pool B (HPS-like) weighs the same parts differently.
 */
import type { Rng } from '../rng';
import { UTILITY_WEIGHTS, weightedTotal, type UtilityParts } from './utility';

export interface RaterPool {
  name: 'A' | 'B';
  description: string;
  weights: Readonly<UtilityParts>;
  /** Bradley–Terry temperature, on the 0..1 utility scale. */
  tau: number;
  /** Pairs with |U_a − U_b| < tieBand are dropped as ties. */
  tieBand: number;
}

export const RATER_POOLS: Readonly<Record<'A' | 'B', RaterPool>> = Object.freeze({
  A: { name: 'A', description: 'PickScore-like: the true utility', weights: UTILITY_WEIGHTS, tau: 0.05, tieBand: 0.02 },
  B: {
    name: 'B',
    description: 'HPS-like: cares more about image quality (sharpness, clean background)',
    weights: Object.freeze({ shape: 0.25, colour: 0.2, sharpness: 0.3, background: 0.25 }),
    tau: 0.08,
    tieBand: 0.03,
  },
});

/** The utility a pool sees, from the parts of trueUtility. */
export function poolUtility(pool: RaterPool, parts: UtilityParts): number {
  return weightedTotal(parts, pool.weights);
}

/** P(a is preferred over b) for utilities uA, uB. */
export function raterProbability(pool: RaterPool, uA: number, uB: number): number {
  return 1 / (1 + Math.exp(-(uA - uB) / pool.tau));
}

/** One simulated judgement: 'tie' when inside the tie band, else which image wins. */
export function ratePair(pool: RaterPool, uA: number, uB: number, rng: Rng): 'a' | 'b' | 'tie' {
  if (Math.abs(uA - uB) < pool.tieBand) return 'tie';
  return rng.next() < raterProbability(pool, uA, uB) ? 'a' : 'b';
}
