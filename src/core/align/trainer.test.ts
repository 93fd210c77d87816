import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend';
import { parseExperimentConfig, PRESETS, type ExperimentInput } from '../config';
import { sampleImages } from '../diffusion/sample';
import { disposeReducedSD, initReducedSD, type ReducedSD, type SDConfig } from '../model/sd';
import { MAX_TOKENS, tokenize, VOCAB, type Dataset } from '../world';
import { updateNoise } from './batch';
import { Experiment, type Evaluator } from './trainer';
import { winRates } from '../eval/metrics';
import { tinyAlignmentDataset } from './testFixtures';

// A tiny randomly initialised model: the engine's invariants do not depend on pretraining.
const TINY: SDConfig = {
  ae: { imageSize: 32, imageChannels: 3, latentChannels: 4, channels: [8, 8, 8], groups: 4 },
  text: { vocabSize: VOCAB.length, maxTokens: MAX_TOKENS, dim: 16, heads: 2, mlpMult: 2 },
  unet: { latentChannels: 4, latentSize: 8, channels: [16, 16], timeDim: 16, ctxDim: 16, heads: 2, groups: 4 },
};

let base: ReducedSD;
let ds: Dataset;

/** A real (if cheap) evaluator: sample with the model's own DDIM, score the mean pixel and its spread. */
const evaluate: Evaluator = (m, prompts, o) => {
  const images = sampleImages(m, prompts.map((p) => tokenize(p)), { seed: o.seed, steps: o.steps, guidance: o.guidance });
  const perImage = images.map((im) => {
    let s = 0, s2 = 0;
    for (const v of im) { s += v; s2 += v * v; }
    const mu = s / im.length;
    return { meanPixel: mu, spread: Math.sqrt(s2 / im.length - mu * mu) };
  });
  const mean = { meanPixel: perImage.reduce((a, b) => a + b.meanPixel, 0) / perImage.length, spread: perImage.reduce((a, b) => a + b.spread, 0) / perImage.length };
  return { images, perImage, mean };
};

beforeAll(async () => {
  await initNodeBackend('wasm');
  base = initReducedSD('tinybase', TINY, 5);
  ds = tinyAlignmentDataset();
});
afterAll(() => disposeReducedSD(base));

function cfg(over: Partial<ExperimentInput> = {}) {
  return parseExperimentConfig({ ...PRESETS.smoke, dataSize: 8, evalPrompts: 2, updates: 4, maxCheckpoints: 3, ...over });
}

/** Records without wall times, for equality. */
function noTimes(r: ReturnType<Experiment['results']>) {
  return JSON.parse(JSON.stringify(r, (k, v) => (k === 'ms' || k === 'refMs' ? undefined : v)));
}

async function runAll(c = cfg(), withEval = true) {
  const x = await Experiment.create(c, base, ds, withEval ? { evaluate } : {});
  try {
    await x.run();
    return x.results();
  } finally {
    x.dispose();
  }
}

describe('Experiment (Algorithm 1 on a tiny model)', () => {
  it('two runs with one seed give identical records; a different seed does not', async () => {
    const a = await runAll();
    const b = await runAll();
    expect(noTimes(a)).toEqual(noTimes(b));
    expect(a.arms[0].updates.length).toBe(4);
    expect(a.arms[0].checkpoints.map((c) => c.update)).toEqual([2, 4]);
    expect(a.arms[0].checkpoints[0].metrics).not.toBeNull();
    expect(a.arms[0].checkpoints[0].winRate!.meanPixel).toBeGreaterThanOrEqual(0);
    expect(a.base).not.toBeNull();
    // SePPO records carry the diagnostics; refK of update 1 is θ₀.
    const r = a.arms[0].updates[0];
    expect(r.refK).toBe(0);
    expect(r.insideHist!.reduce((s, n) => s + n, 0)).toBe(2);
    expect(r.aafRate! + r.flippedShare!).toBeCloseTo(1, 6); // 'sign': every s is ±1
    // At update 1 the policy equals its reference θ₀, so inside = 0 and loss = log 2 exactly.
    expect(r.loss).toBeCloseTo(Math.log(2), 6);
    expect(a.arms[0].updates[1].loss).not.toBeCloseTo(Math.log(2), 6);
    const c = await runAll(cfg({ seed: 9, updates: 1 }), false);
    expect(c.arms[0].updates[0].mW).not.toBe(a.arms[0].updates[0].mW);
  });

  it('checkpoint records carry their per-image evaluations, paired with the base for the win rates', async () => {
    const seen: { arm: string | null; update: number; perImage: Record<string, number>[] }[] = [];
    const x = await Experiment.create(cfg({ updates: 2 }), base, ds, {
      evaluate: async (m, prompts, o, subject) => {
        const r = await evaluate(m, prompts, o, subject);
        seen.push({ ...subject, perImage: r.perImage });
        return r;
      },
    });
    try {
      await x.run();
      expect(seen.map((s) => `${s.arm}@${s.update}`)).toEqual(['null@0', 'SePPO@2', 'Diffusion-DPO@2']);
      const cp = x.checkpointRecords('SePPO')[0];
      expect(cp.perImage).toBe(seen[1].perImage);
      expect(cp.perImage!.length).toBe(2);
      expect(cp.winRate).toEqual(winRates(seen[1].perImage, seen[0].perImage, ['meanPixel', 'spread']));
      // results() keeps its serialised shape: no images, no per-image metrics.
      expect(Object.keys(x.results().arms[0].checkpoints[0])).not.toContain('perImage');
    } finally {
      x.dispose();
    }
  });

  it('arms see identical noise, data and reference samples', async () => {
    const arms = [
      { name: 'A', method: 'seppo', data: 'winners', refStrategy: 'random', flip: 'sign' },
      { name: 'A twin', method: 'seppo', data: 'winners', refStrategy: 'random', flip: 'sign' },
      { name: 'no AAF', method: 'seppo', data: 'winners', refStrategy: 'init', flip: 'off', beta: 5000 },
    ] as const;
    const res = await runAll(cfg({ arms: arms.map((a) => ({ ...a })), updates: 2 }), false);
    const [a, twin, off] = res.arms;
    // Same config under another name → the very same numbers, update by update.
    const strip = (us: typeof a.updates) => us.map(({ ms: _m, refMs: _r, arm: _a, ...rest }) => rest);
    expect(strip(twin.updates)).toEqual(strip(a.updates));
    // Update 1: same weights, same θ₀ reference, same batch, t, ε and reference noise → same m and r.
    for (const k of ['mW', 'mL', 'rW', 'rL'] as const) expect(off.updates[0][k]).toBeCloseTo(a.updates[0][k]!, 6);
    // (At update 1 m_w = r_w exactly, so s = −1 for every flip: the boundary case.) A different β
    // gives a different step, so update 2 differs.
    expect(a.updates[0].aafRate).toBe(1);
    expect(off.updates[1].loss).not.toBeCloseTo(a.updates[1].loss, 6);
    // The noise itself is a function of (seed, update) alone.
    expect(updateNoise(0, 2, 2, 256)).toEqual(updateNoise(0, 2, 2, 256));
    expect(updateNoise(0, 2, 2, 256).eps).not.toEqual(updateNoise(0, 3, 2, 256).eps);
  });

  it('the optional update timer sees every phase of every arm and changes nothing (bit-identical records and weights)', async () => {
    const c = cfg({ updates: 2, checkpointEvery: 100 });
    const withArms = parseExperimentConfig({ ...c, arms: [...c.arms, { name: 'SFT', method: 'sft', data: 'random' }] });
    const run = async (timed: boolean) => {
      const seen: string[] = [];
      const x = await Experiment.create(withArms, base, ds, timed ? { updateTimer: (arm, phase, ms) => (expect(ms).toBeGreaterThanOrEqual(0), seen.push(`${arm}:${phase}`)) } : {});
      try {
        await x.run();
        const weights = Object.fromEntries(x.armSummaries().map((a) => [a.name, Object.values(x.armParams(a.name)).map((v) => Array.from(v.dataSync()))]));
        return { records: noTimes(x.results()), weights, seen };
      } finally {
        x.dispose();
      }
    };
    const plain = await run(false);
    const timed = await run(true);
    expect(timed.records).toEqual(plain.records);
    expect(timed.weights).toEqual(plain.weights); // toEqual on numbers: Object.is, so bit-for-bit (NaN and −0 included)
    expect(plain.seen).toEqual([]);
    const seppo = ['data', 'reference sampling', 'reference forward', 'policy forward', 'policy backward', 'read-back', 'optimizer', 'record'];
    const dpo = seppo; // the real losers stand in for the reference samples
    const sft = ['data', 'policy forward', 'policy backward', 'read-back', 'optimizer', 'record'];
    const update = [...seppo.map((p) => `SePPO:${p}`), ...dpo.map((p) => `Diffusion-DPO:${p}`), ...sft.map((p) => `SFT:${p}`)];
    expect(timed.seen).toEqual([...update, ...update]);
  });

  it('numTensors is flat across updates, and dispose() frees everything', async () => {
    const before = tf.memory().numTensors;
    const c = cfg({ updates: 5, checkpointEvery: 100, refRegenerateEvery: 1 });
    const x = await Experiment.create(
      parseExperimentConfig({ ...c, arms: [...c.arms, { name: 'SFT', method: 'sft', data: 'random' }] }),
      base,
      ds,
    );
    await x.step(); // warm-up: Adam creates its moment slots
    const warm = tf.memory().numTensors;
    await x.step();
    await x.step();
    await x.step();
    expect(tf.memory().numTensors).toBe(warm);
    expect(x.updateRecords('SFT')[1].mL).toBeNull();
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('a planted NaN halts only its arm', async () => {
    const x = await Experiment.create(cfg({ updates: 3 }), base, ds);
    try {
      const p = x.armParams('SePPO');
      const first = Object.values(p)[0];
      tf.tidy(() => first.assign(tf.fill(first.shape, NaN)));
      const r1 = await x.step();
      expect(r1.halted).toEqual([{ arm: 'SePPO', message: expect.stringMatching(/SePPO: non-finite loss \(NaN\) at update 1; this arm is halted/) }]);
      expect(r1.records.map((r) => r.arm)).toEqual(['Diffusion-DPO']);
      await x.run();
      expect(x.updateRecords('Diffusion-DPO').length).toBe(3);
      expect(x.updateRecords('SePPO').length).toBe(0);
      expect(x.armSummaries().find((a) => a.name === 'SePPO')!.halted).toMatch(/non-finite/);
      expect(Number.isFinite(x.updateRecords('Diffusion-DPO')[2].loss)).toBe(true);
    } finally {
      x.dispose();
    }
  });

  it('the divergence guard halts an arm at lr = 1, naming the update and the value; the other arm finishes', async () => {
    const c = cfg({ updates: 4, arms: [{ ...PRESETS.smoke.arms[0], lr: 1 }, PRESETS.smoke.arms[1]] });
    const x = await Experiment.create(c, base, ds);
    try {
      await x.run();
      const halted = x.armSummaries().find((a) => a.name === 'SePPO')!.halted;
      expect(halted).toMatch(/^SePPO: diverged: (loss [0-9.e+]+ above divergence\.maxLoss 100000|winners' error .* above divergence\.maxWinnerErrorRise 10) at update \d; this arm is halted, the others go on$/);
      const n = x.updateRecords('SePPO').length;
      expect(halted).toContain(`at update ${n + 1};`);
      expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThan(4);
      expect(x.updateRecords('Diffusion-DPO').length).toBe(4);
      expect(x.armSummaries().find((a) => a.name === 'Diffusion-DPO')!.halted).toBeNull();
    } finally {
      x.dispose();
    }
  });

  it("the divergence guard's winners'-error bound (m̄_w / r̄_w − 1 against θ₀) halts an arm the loss bound lets through", async () => {
    const c = cfg({ updates: 4, divergence: { maxLoss: 1e30 }, arms: [{ ...PRESETS.smoke.arms[0], lr: 1, refStrategy: 'init' }, PRESETS.smoke.arms[1]] });
    const x = await Experiment.create(c, base, ds);
    try {
      await x.run();
      const halted = x.armSummaries().find((a) => a.name === 'SePPO')!.halted;
      expect(halted).toMatch(/^SePPO: diverged: winners' error \+[0-9.e+]+ % against θ₀ \(m̄_w \/ r̄_w − 1 = [0-9.e+]+\) above divergence\.maxWinnerErrorRise 10 at update \d; this arm is halted/);
      expect(x.updateRecords('Diffusion-DPO').length).toBe(4);
    } finally {
      x.dispose();
    }
  });

  it('the divergence guard reads its bounds from the config (a tight maxLoss halts at update 1)', async () => {
    const x = await Experiment.create(cfg({ updates: 2, divergence: { maxLoss: 0.01 } }), base, ds);
    try {
      const r1 = await x.step();
      expect(r1.halted.map((h) => h.arm).sort()).toEqual(['Diffusion-DPO', 'SePPO']);
      for (const h of r1.halted) expect(h.message).toMatch(/: diverged: loss 0\.69\d+ above divergence\.maxLoss 0\.01 at update 1;/);
      expect(x.done).toBe(true);
    } finally {
      x.dispose();
    }
  });

  it('regenerateEvery > 1 reuses reference samples and still runs leak-free', async () => {
    const x = await Experiment.create(cfg({ updates: 6, refRegenerateEvery: 3, checkpointEvery: 100 }), base, ds);
    try {
      await x.step();
      const warm = tf.memory().numTensors;
      await x.run({ until: 4 }); // the final update (6) saves a checkpoint, which adds variables by design
      expect(tf.memory().numTensors).toBe(warm);
      expect(x.updateRecords('SePPO').length).toBe(4);
    } finally {
      x.dispose();
    }
  });
});
