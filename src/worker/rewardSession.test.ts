/** The worker session runs reward-model arms with the reward functions its assets carry (bound to the scorers it evaluates with). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../core/backend';
import { ARM_LIBRARY, parseExperimentConfig, PRESETS } from '../core/config';
import { evaluate as scoreAll, type Scorers } from '../core/eval/evaluate';
import { rewardFunctions } from '../core/eval/reward';
import { defaultScorerConfig, disposeScorer, initScorer } from '../core/eval/scorer';
import { sampleImages } from '../core/diffusion/sample';
import { disposeReducedSD, initReducedSD, type ReducedSD } from '../core/model/sd';
import { TINY_SD } from '../runner/run';
import { MAX_TOKENS, tokenize, VOCAB } from '../core/world';
import { tinyAlignmentDataset } from '../core/align/testFixtures';
import { ExperimentSession, type SessionAssets } from './experiment-session';

let base: ReducedSD;
let scorers: Scorers;

beforeAll(async () => {
  await initNodeBackend('wasm');
  base = initReducedSD('rwsess', TINY_SD, 4);
  const sc = defaultScorerConfig(VOCAB.length, MAX_TOKENS);
  scorers = { pickScore: initScorer('pickscore-mini', 'rwsess/pick', sc, 1), hps: initScorer('hps-mini', 'rwsess/hps', sc, 2) };
});
afterAll(() => {
  disposeReducedSD(base);
  disposeScorer(scorers.pickScore);
  disposeScorer(scorers.hps);
});

const config = parseExperimentConfig({ ...PRESETS.smoke, dataSize: 8, batchSize: 4, evalPrompts: 2, updates: 2, checkpointEvery: 2, refSteps: 2, arms: [{ ...ARM_LIBRARY.DDPO, samplesPerPrompt: 2 }, ARM_LIBRARY.D3PO] });

function session(withRewards: boolean) {
  const assets: SessionAssets = {
    base,
    dataset: tinyAlignmentDataset(),
    evaluate: async (m, prompts, o) => {
      const images = sampleImages(m, prompts.map((p) => tokenize(p)), o);
      const r = await scoreAll(prompts, images, scorers);
      return { images, perImage: r.perImage.map((x) => ({ ...x })), mean: { ...r.mean } };
    },
    ...(withRewards ? { rewards: rewardFunctions(scorers) } : {}),
  };
  return new ExperimentSession(() => {}, { loadAssets: async () => assets, backend: () => 'wasm' });
}

describe('ExperimentSession with reward-model arms', () => {
  it('steps DDPO and D3PO arms and posts their training reward; without reward functions configure fails naming the arm', async () => {
    const s = session(true);
    await s.configure(config);
    await s.step();
    await s.step();
    const snap = s.snapshot();
    expect(snap.status).toBe('done');
    expect(snap.records.map((r) => [r.arm, r.rewardModel, Number.isFinite(r.trainReward)])).toEqual([
      ['DDPO', 'pickscore-mini', true],
      ['D3PO', 'pickscore-mini', true],
      ['DDPO', 'pickscore-mini', true],
      ['D3PO', 'pickscore-mini', true],
    ]);
    expect(snap.checkpoints.map((c) => c.arm)).toEqual(['DDPO', 'D3PO']);
    await expect(session(false).configure(config)).rejects.toThrow(/arms\[0\]\.reward: arm 'DDPO' \(ddpo\) trains on 'pickscore-mini', but no reward function for it was given/);
  });
});
