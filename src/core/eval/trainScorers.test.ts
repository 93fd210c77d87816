/** The scorer-training report helpers: the rater ceiling and the accuracy-by-gap breakdown. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../backend';
import { MAX_TOKENS, RATER_POOLS, VOCAB, buildDataset, poolUtility } from '../world';
import { defaultScorerConfig, disposeScorer, initScorer, pairAccuracy } from './scorer';
import { GAP_BINS, accuracyByGap, raterCeiling, toScorerPairs } from './trainScorers';

beforeAll(async () => {
  await initNodeBackend('wasm');
});

describe('accuracyByGap', () => {
  it('splits held-out pairs by utility gap; the bins add up to the overall accuracy and ceiling, leak-free', async () => {
    const ds = buildDataset({ seed: 3, nTrainPairs: 0, nScorerTrain: 0, nHpsTrain: 0, nOodRaterPairs: 0, nScorerTest: 120, nHpsTest: 0 });
    const pairs = ds.scorerTest;
    const s = initScorer('gap', 'test-gap', { ...defaultScorerConfig(VOCAB.length, MAX_TOKENS), channels: [4, 8, 8] }, 5);
    const before = tf.memory().numTensors;
    const bins = await accuracyByGap(s, pairs, 'A');
    expect(tf.memory().numTensors).toBe(before);
    expect(bins.map((b) => b.lo)).toEqual(GAP_BINS.slice(0, -1));
    expect(bins.reduce((a, b) => a + b.n, 0)).toBe(pairs.length);
    const weighted = (k: 'accuracy' | 'ceiling') => bins.reduce((a, b) => a + (b.n ? b.n * b[k] : 0), 0) / pairs.length;
    expect(weighted('accuracy')).toBeCloseTo(await pairAccuracy(s, toScorerPairs(pairs)), 10);
    expect(weighted('ceiling')).toBeCloseTo(raterCeiling(pairs, 'A'), 10);
    // Each pair sits in the bin of its own pool-utility gap.
    const gap = (i: number) => Math.abs(poolUtility(RATER_POOLS.A, pairs[i].partsWinner) - poolUtility(RATER_POOLS.A, pairs[i].partsLoser));
    const inBin0 = pairs.filter((_, i) => gap(i) < GAP_BINS[1]).length;
    expect(bins[0].n).toBe(inBin0);
    disposeScorer(s);
  });

  it('refuses an empty pair list with a message', async () => {
    const s = initScorer('gap2', 'test-gap2', { ...defaultScorerConfig(VOCAB.length, MAX_TOKENS), channels: [4, 8, 8] }, 5);
    await expect(accuracyByGap(s, [], 'A')).rejects.toThrow(/no pairs/);
    disposeScorer(s);
  });
});
