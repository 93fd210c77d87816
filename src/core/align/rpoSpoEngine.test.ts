/**
 * Diffusion-RPO and SPO as arms of the engine (issue 15), on the tiny random model, beside Diffusion-DPO
 * and SFT on the same seed, batch order and noise: RPO at a tiny τ makes Diffusion-DPO's update; both new
 * arms are deterministic for a seed, leak-free over updates, and leave the other arms' results unchanged.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend';
import { ARM_LIBRARY, parseExperimentConfig, PRESETS, type ArmInput, type ExperimentInput } from '../config';
import { rewardFunctions } from '../eval/reward';
import { defaultScorerConfig, disposeScorer, initScorer } from '../eval/scorer';
import { evaluate as scoreAll, type Scorers } from '../eval/evaluate';
import { sampleImages } from '../diffusion/sample';
import { disposeReducedSD, initReducedSD, type ReducedSD } from '../model/sd';
import { TINY_SD } from '../../runner/run';
import { MAX_TOKENS, tokenize, VOCAB, type Dataset } from '../world';
import { Experiment, type Evaluator } from './trainer';
import { metricsCsv } from './report';
import { tinyAlignmentDataset } from './testFixtures';

let base: ReducedSD;
let ds: Dataset;
let scorers: Scorers;

const evaluate: Evaluator = async (m, prompts, o) => {
  const images = sampleImages(m, prompts.map((p) => tokenize(p)), o);
  const r = await scoreAll(prompts, images, scorers);
  return { mean: { ...r.mean }, perImage: r.perImage.map((x) => ({ ...x })) };
};

beforeAll(async () => {
  await initNodeBackend('wasm');
  base = initReducedSD('rsbase', TINY_SD, 3);
  ds = tinyAlignmentDataset();
  const sc = defaultScorerConfig(VOCAB.length, MAX_TOKENS);
  scorers = { pickScore: initScorer('pickscore-mini', 'rstest/pick', sc, 1), hps: initScorer('hps-mini', 'rstest/hps', sc, 2) };
});
afterAll(() => {
  disposeReducedSD(base);
  disposeScorer(scorers.pickScore);
  disposeScorer(scorers.hps);
});

const DPO: ArmInput = { ...ARM_LIBRARY['Diffusion-DPO'], lr: 1e-3 };
const RPO: ArmInput = { ...ARM_LIBRARY['Diffusion-RPO'], lr: 1e-3 };
const SPO: ArmInput = { ...ARM_LIBRARY.SPO, spoCandidates: 2, reward: 'aesthetic' };
const SFT: ArmInput = { ...ARM_LIBRARY['SFTʷ'] };

function cfg(over: Partial<ExperimentInput> = {}) {
  return parseExperimentConfig({ ...PRESETS.smoke, dataSize: 8, batchSize: 4, evalPrompts: 2, updates: 2, checkpointEvery: 2, maxCheckpoints: 3, refSteps: 3, arms: [SFT, DPO, RPO, SPO], ...over });
}

const noTimes = (r: unknown) => JSON.parse(JSON.stringify(r, (k, v) => (k === 'ms' || k === 'refMs' ? undefined : v)));
const firstWeights = (x: Experiment, name: string) => Array.from(Object.values(x.armParams(name))[0].dataSync());
const allWeights = (x: Experiment, name: string) => Object.values(x.armParams(name)).map((v) => Array.from(v.dataSync()));

async function runAll(c = cfg(), withEval = true) {
  const x = await Experiment.create(c, base, ds, { rewards: rewardFunctions(scorers), ...(withEval ? { evaluate } : {}) });
  try {
    await x.run();
    return { results: x.results(), weights: Object.fromEntries(x.armSummaries().map((a) => [a.name, firstWeights(x, a.name)])) };
  } finally {
    x.dispose();
  }
}

describe('Diffusion-RPO as an arm', () => {
  it('at a tiny τ (weights = the identity) makes the same updates as a Diffusion-DPO arm on the same batches, within float tolerance', async () => {
    const x = await Experiment.create(cfg({ arms: [DPO, { ...RPO, rpoTau: 1e-4 }] }), base, ds, { rewards: rewardFunctions(scorers) });
    try {
      await x.run();
      const [d, r] = [x.updateRecords('Diffusion-DPO'), x.updateRecords('Diffusion-RPO')];
      expect(r.map((u) => u.rpoSelfWeight)).toEqual([1, 1]); // the batches' prompts are distinct: ω = I exactly
      for (let u = 0; u < 2; u++) {
        expect(r[u].loss).toBeCloseTo(d[u].loss, 5);
        expect(r[u].implicitAcc).toBe(d[u].implicitAcc);
        expect(r[u].margin).toBeCloseTo(d[u].margin!, 5);
        for (const k of ['mW', 'mL', 'rW', 'rL'] as const) expect(r[u][k]).toBeCloseTo(d[u][k]!, 6);
        expect(r[u].aafRate).toBe(1); // s = −1: every loser a loser, as Diffusion-DPO's
        expect(r[u].refK).toBe(0);
      }
      const [wd, wr] = [allWeights(x, 'Diffusion-DPO'), allWeights(x, 'Diffusion-RPO')];
      let maxDev = 0;
      let moved = 0;
      const theta0 = Object.values(base.unet).map((v) => Array.from(v.dataSync()));
      wd.forEach((w, i) => w.forEach((v, j) => ((maxDev = Math.max(maxDev, Math.abs(v - wr[i][j]))), (moved = Math.max(moved, Math.abs(v - theta0[i][j]))))));
      expect(moved).toBeGreaterThan(1e-4); // both moved off θ₀ (two Adam steps at lr 1e-3)…
      expect(maxDev).toBeLessThan(1e-6); // …by the same update
    } finally {
      x.dispose();
    }
    // A larger τ spreads each winner over the batch's other losers: a different loss, ω_ii < 1.
    const y = await Experiment.create(cfg({ arms: [DPO, { ...RPO, rpoTau: 1 }], updates: 1 }), base, ds, { rewards: rewardFunctions(scorers) });
    try {
      await y.step();
      const [d, r] = [y.updateRecords('Diffusion-DPO')[0], y.updateRecords('Diffusion-RPO')[0]];
      expect(r.rpoSelfWeight!).toBeLessThan(0.9);
      expect(r.rpoSelfWeight!).toBeGreaterThan(0.25); // 1/B = 0.25 is the uniform floor
      expect(r.loss).toBeCloseTo(Math.LN2, 6); // policy = θ₀ at the first update: every inside_ij = 0, whatever ω
      expect(d.loss).toBeCloseTo(Math.LN2, 6);
    } finally {
      y.dispose();
    }
  });
});

describe('Diffusion-RPO and SPO in the engine', () => {
  it('run beside SFT and DPO; deterministic for a seed; the other arms\' results unchanged; CSV, probe and reward trace carry them', async () => {
    const c = cfg({ probePairs: 2 });
    const a = await runAll(c);
    const [sft, dpo, rpo, spo] = a.results.arms;
    expect(a.results.arms.map((x) => x.halted)).toEqual([null, null, null, null]);
    for (const u of rpo.updates) {
      expect(Number.isFinite(u.loss)).toBe(true);
      expect(u.rpoSelfWeight!).toBeGreaterThan(0);
      expect(u.rpoSelfWeight!).toBeLessThanOrEqual(1);
      expect(u.insideHist).not.toBeNull(); // DPO's diagnostics: inside histogram, margin, accuracy per t bucket
      expect(u.margin).not.toBeNull();
    }
    expect(rpo.checkpoints[0].probe).toBeDefined(); // the displacement probe, as for DPO
    expect(Number.isFinite(rpo.checkpoints[0].probe!.winners)).toBe(true);
    // SPO: policy = θ₀ = its reference at update 1, so every inside is 0 and the loss log 2.
    expect(spo.updates[0].loss).toBeCloseTo(Math.LN2, 6);
    expect(spo.updates[0].refK).toBe(0);
    for (const u of spo.updates) {
      expect(Number.isFinite(u.trainReward)).toBe(true);
      expect(u.rewardModel).toBe('aesthetic');
      expect(u.spoScoreGap!).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(u.mW)).toBe(true);
    }
    expect(spo.rewardTrace!.map((p) => p.update)).toEqual([2]);
    expect(a.weights.SPO).not.toEqual(Array.from(Object.values(base.unet)[0].dataSync()));
    const csv = metricsCsv(a.results).split('\n');
    expect(csv[0].endsWith(',rpoSelfWeight,spoScoreGap')).toBe(true);
    expect(metricsCsv({ arms: [sft] }).split('\n')[0]).not.toContain('rpoSelfWeight');
    // Same seed: the same records and weights.
    const b = await runAll(c);
    expect(noTimes(b.results)).toEqual(noTimes(a.results));
    expect(b.weights).toEqual(a.weights);
    // SFT and DPO alone: the very records and weights they had beside RPO and SPO.
    const alone = await runAll(cfg({ probePairs: 2, arms: [SFT, DPO] }));
    expect(noTimes(alone.results.arms)).toEqual(noTimes([sft, dpo]));
    expect(alone.weights['SFTʷ']).toEqual(a.weights['SFTʷ']);
    expect(alone.weights['Diffusion-DPO']).toEqual(a.weights['Diffusion-DPO']);
  });

  it('numTensors is flat across updates of RPO and SPO after a warm-up, and dispose() frees everything', async () => {
    const before = tf.memory().numTensors;
    const x = await Experiment.create(cfg({ updates: 5, checkpointEvery: 100, arms: [RPO, SPO] }), base, ds, { rewards: rewardFunctions(scorers) });
    await x.step(); // warm-up: Adam creates its moment slots
    const warm = tf.memory().numTensors;
    await x.step();
    await x.step();
    await x.step();
    expect(tf.memory().numTensors).toBe(warm);
    expect(x.armSummaries().map((a) => a.halted)).toEqual([null, null]);
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a planted NaN halts only the SPO arm', async () => {
    const x = await Experiment.create(cfg({ arms: [RPO, SPO] }), base, ds, { rewards: rewardFunctions(scorers) });
    try {
      const first = Object.values(x.armParams('SPO'))[0];
      tf.tidy(() => first.assign(tf.fill(first.shape, NaN)));
      const r1 = await x.step();
      expect(r1.halted).toEqual([{ arm: 'SPO', message: expect.stringMatching(/^SPO: non-finite loss \(NaN\) at update 1; this arm is halted/) }]);
      expect(r1.records.map((r) => r.arm)).toEqual(['Diffusion-RPO']);
    } finally {
      x.dispose();
    }
  });
});
