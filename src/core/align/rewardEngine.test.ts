/**
 * The reward-model arms (DDPO, D3PO) as arms of the engine (issue 15), on the tiny random model: side by
 * side with an SFT arm on the same seed, batch order, noise and evaluation; deterministic, leak-free,
 * halting on a NaN; their records carry the training reward and results.json the reward trace.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend';
import { ARM_LIBRARY, parseExperimentConfig, PRESETS, type ArmInput, type ExperimentInput } from '../config';
import { evaluate as scoreAll, type Scorers } from '../eval/evaluate';
import { rewardFunctions } from '../eval/reward';
import { defaultScorerConfig, disposeScorer, initScorer } from '../eval/scorer';
import { sampleImages } from '../diffusion/sample';
import { disposeReducedSD, initReducedSD, type ReducedSD } from '../model/sd';
import { TINY_SD } from '../../runner/run';
import { MAX_TOKENS, tokenize, VOCAB, type Dataset } from '../world';
import { Experiment, type Evaluator } from './trainer';
import { metricsCsv, rewardTraceMarkdown, summaryMarkdown } from './report';
import { rewardTrace, type RunResults } from './records';
import { tinyAlignmentDataset } from './testFixtures';

let base: ReducedSD;
let ds: Dataset;
let scorers: Scorers;

/** The real evaluation (the five metrics, true preference included) on the tiny model's images. */
const evaluate: Evaluator = async (m, prompts, o) => {
  const images = sampleImages(m, prompts.map((p) => tokenize(p)), o);
  const r = await scoreAll(prompts, images, scorers);
  return { mean: { ...r.mean }, perImage: r.perImage.map((x) => ({ ...x })) };
};

beforeAll(async () => {
  await initNodeBackend('wasm');
  base = initReducedSD('rwbase', TINY_SD, 3);
  ds = tinyAlignmentDataset();
  const sc = defaultScorerConfig(VOCAB.length, MAX_TOKENS);
  scorers = { pickScore: initScorer('pickscore-mini', 'rwtest/pick', sc, 1), hps: initScorer('hps-mini', 'rwtest/hps', sc, 2) };
});
afterAll(() => {
  disposeReducedSD(base);
  disposeScorer(scorers.pickScore);
  disposeScorer(scorers.hps);
});

const SFT: ArmInput = { ...ARM_LIBRARY['SFTʷ'] };
const DDPO: ArmInput = { ...ARM_LIBRARY.DDPO, samplesPerPrompt: 2 };
const D3PO: ArmInput = { ...ARM_LIBRARY.D3PO, reward: 'aesthetic' };

function cfg(over: Partial<ExperimentInput> = {}) {
  return parseExperimentConfig({ ...PRESETS.smoke, dataSize: 8, batchSize: 4, evalPrompts: 2, updates: 4, checkpointEvery: 2, maxCheckpoints: 3, refSteps: 3, arms: [SFT, DDPO, D3PO], ...over });
}

const noTimes = (r: unknown) => JSON.parse(JSON.stringify(r, (k, v) => (k === 'ms' || k === 'refMs' ? undefined : v)));

async function runAll(c = cfg(), withEval = true) {
  const x = await Experiment.create(c, base, ds, { rewards: rewardFunctions(scorers), ...(withEval ? { evaluate } : {}) });
  try {
    await x.run();
    return { results: x.results(), weights: Object.fromEntries(x.armSummaries().map((a) => [a.name, Array.from(Object.values(x.armParams(a.name))[0].dataSync())])) };
  } finally {
    x.dispose();
  }
}

describe('reward-model arms in the engine', () => {
  it('DDPO and D3PO run end to end beside SFT; records carry the training reward, results the reward trace; deterministic', async () => {
    const a = await runAll();
    const [sft, ddpo, d3po] = a.results.arms;
    expect(a.results.arms.map((x) => x.halted)).toEqual([null, null, null]);
    for (const arm of [ddpo, d3po]) {
      expect(arm.updates.length).toBe(4);
      for (const u of arm.updates) {
        expect(Number.isFinite(u.loss)).toBe(true);
        expect(Number.isFinite(u.trainReward)).toBe(true);
        expect(Number.isFinite(u.mW)).toBe(true);
      }
      expect(arm.rewardTrace!.map((p) => p.update)).toEqual([2, 4]);
      arm.rewardTrace!.forEach((p, j) => {
        expect(p.reward).toBe(arm === ddpo ? 'pickscore-mini' : 'aesthetic');
        expect(p.trainReward).toBeCloseTo((arm.updates[2 * j].trainReward! + arm.updates[2 * j + 1].trainReward!) / 2, 5);
        expect(p.truePreference).toBe(arm.checkpoints[j].metrics!.trueUtility);
      });
      expect(Array.isArray(arm.rewardHacking)).toBe(true);
    }
    expect(ddpo.updates[0].rewardModel).toBe('pickscore-mini');
    expect(ddpo.updates[0].refK).toBeNull();
    expect(ddpo.updates.every((u) => u.clipFrac! >= 0 && u.clipFrac! <= 1)).toBe(true);
    expect(ddpo.updates[0].ratioMaxDev).toBeGreaterThan(0); // the second inner epoch moved ρ off 1
    // D3PO: the policy equals its reference θ₀ at update 1, so inside = 0 and loss = log 2 exactly.
    expect(d3po.updates[0].loss).toBeCloseTo(Math.LN2, 6);
    expect(d3po.updates[0].refK).toBe(0);
    expect(d3po.updates[3].loss).not.toBeCloseTo(Math.LN2, 6);
    // SFT has no reward trace; the reward arms never change what it does (same records, same weights alone).
    expect(sft.rewardTrace).toBeUndefined();
    const alone = await runAll(cfg({ arms: [SFT] }));
    expect(noTimes(alone.results.arms[0])).toEqual(noTimes(sft));
    expect(alone.weights['SFTʷ']).toEqual(a.weights['SFTʷ']);
    // Two runs with one seed: identical records and weights.
    const b = await runAll();
    expect(noTimes(b.results)).toEqual(noTimes(a.results));
    expect(b.weights).toEqual(a.weights);
    // The reward arms' weights moved off θ₀.
    const theta0 = Array.from(Object.values(base.unet)[0].dataSync());
    expect(a.weights.DDPO).not.toEqual(theta0);
    expect(a.weights.D3PO).not.toEqual(theta0);
    // metrics.csv and summary.md carry them; a run without reward arms keeps its old columns.
    const csv = metricsCsv(a.results).split('\n');
    expect(csv[0].endsWith(',trainReward,rewardModel,clipFrac,ratioMaxDev,insideAbs,raterTies')).toBe(true);
    expect(csv.find((l) => l.startsWith('DDPO,1,'))).toContain(',pickscore-mini,');
    expect(metricsCsv(alone.results).split('\n')[0]).not.toContain('trainReward');
    const md = summaryMarkdown({ ...a.results, meta: { engine: 'node', backend: 'wasm', preset: null, assets: 'test', startedAt: '', wallMs: 0 } });
    expect(md).toContain('## Reward hacking: training reward / true preference per checkpoint');
    expect(md).toContain('| DDPO (pickscore-mini) |');
    expect(md).toContain('n/a (DDPO)');
  });

  it('the reward trace averages the training reward per checkpoint; the table marks the hacking checkpoints', () => {
    const ups = [1, 2, 3, 4].map((update) => ({ update, trainReward: update }));
    const cps = [
      { update: 2, metrics: { trueUtility: 0.5 } },
      { update: 4, metrics: { trueUtility: 0.4 } },
    ];
    const trace = rewardTrace(ups, cps, 'aesthetic');
    expect(trace).toEqual([
      { update: 2, reward: 'aesthetic', trainReward: 1.5, truePreference: 0.5 },
      { update: 4, reward: 'aesthetic', trainReward: 3.5, truePreference: 0.4 },
    ]);
    expect(rewardTrace(ups, [{ update: 2, metrics: null }], 'x')[0].truePreference).toBeNull();
    const arms = [{ name: 'DDPO', rewardTrace: trace, rewardHacking: [4] }] as unknown as RunResults['arms'];
    expect(rewardTraceMarkdown({ arms })).toContain('| DDPO (aesthetic) | 1.500 / 0.500 | 3.500 / 0.400 ⚠ |');
    expect(rewardTraceMarkdown({ arms: [] })).toBeNull();
  });

  it('numTensors is flat across updates of DDPO and D3PO after a warm-up, and dispose() frees everything', async () => {
    const before = tf.memory().numTensors;
    const c = cfg({ updates: 5, checkpointEvery: 100, arms: [DDPO, { ...D3PO, preference: 'raters' }, { ...D3PO, name: 'D3PO (reward)' }] });
    const x = await Experiment.create(c, base, ds, { rewards: rewardFunctions(scorers) });
    await x.step(); // warm-up: Adam creates its moment slots
    const warm = tf.memory().numTensors;
    await x.step();
    await x.step();
    await x.step();
    expect(tf.memory().numTensors).toBe(warm);
    expect(x.armSummaries().map((a) => a.halted)).toEqual([null, null, null]);
    const r = x.updateRecords('D3PO');
    expect(r.every((u) => Number.isInteger(u.raterTies) && u.raterTies! >= 0 && u.raterTies! <= 2)).toBe(true);
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a planted NaN halts only that reward arm; a missing reward function is named', async () => {
    const x = await Experiment.create(cfg({ updates: 2 }), base, ds, { rewards: rewardFunctions(scorers) });
    try {
      const first = Object.values(x.armParams('D3PO'))[0];
      tf.tidy(() => first.assign(tf.fill(first.shape, NaN)));
      const r1 = await x.step();
      expect(r1.halted).toEqual([{ arm: 'D3PO', message: expect.stringMatching(/^D3PO: non-finite loss \(NaN\) at update 1; this arm is halted/) }]);
      expect(r1.records.map((r) => r.arm)).toEqual(['SFTʷ', 'DDPO']);
      await x.run();
      expect(x.updateRecords('DDPO').length).toBe(2);
    } finally {
      x.dispose();
    }
    const { aesthetic: _a, ...noAesthetic } = rewardFunctions(scorers);
    await expect(Experiment.create(cfg(), base, ds, { rewards: noAesthetic })).rejects.toThrow("arms[2].reward: arm 'D3PO' (d3po) trains on 'aesthetic', but no reward function for it was given");
  });
});
