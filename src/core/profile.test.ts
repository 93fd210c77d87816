import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from './backend';
import { disposeReducedSD, initReducedSD, tinySDConfig, type ReducedSD } from './model/sd';
import { MAX_TOKENS, VOCAB } from './world';
import { profileKernels, profileSeppoUpdate, profileTrainStep } from './profile';
import { phaseTotals } from './profileTables';

// The bench's --profile path on a tiny model: phases labelled, customGrad scopes set aside, no leaks.
let m: ReducedSD;
beforeAll(async () => {
  await initNodeBackend('wasm');
  m = initReducedSD('proftest', tinySDConfig(VOCAB.length, MAX_TOKENS), 3);
});
afterAll(() => disposeReducedSD(m));

describe('profileKernels', () => {
  it('labels kernels by the phase marks and keeps only registered kernels', async () => {
    const a = tf.tensor1d([1, 2, 3]);
    const p = await profileKernels((mark) => {
      tf.tidy(() => {
        tf.add(a, a);
        tf.mul(a, a);
        mark('one');
        tf.sub(a, a);
        mark('two');
        tf.exp(a);
      });
    });
    a.dispose();
    expect(p.records.map((r) => `${r.name}:${r.phase}`)).toEqual(['Add:one', 'Multiply:one', 'Sub:two', 'Exp:other']);
    expect(p.scopes).toEqual([]);
    for (const r of p.records) expect(r.ms).toBeGreaterThanOrEqual(0);
    expect(p.wallMs).toBeGreaterThanOrEqual(p.records.reduce((s, r) => s + r.ms, 0));
  });
});

describe('the bench profiles on a tiny model', () => {
  it('a training step: forward, backward and Adam, convolutions in both passes, leak-free', async () => {
    const before = tf.memory().numTensors;
    const p = await profileTrainStep(m, { batch: 2, warmup: 1, runs: 1, profiledRuns: 2 });
    expect(tf.memory().numTensors).toBe(before); // inputs, Adam and its slots all disposed
    expect(p.kernels.runs).toBe(2);
    expect(p.kernels.phases).toEqual(['forward', 'backward', 'optimizer']);
    const conv = p.kernels.rows.find((r) => r.name === 'Conv2D')!;
    expect(conv.byPhase.forward).toBeGreaterThan(0);
    expect(conv.byPhase.backward).toBeGreaterThan(0); // conv2dSame's gradients are forward convolutions
    expect(Number.isInteger(conv.count)).toBe(true);
    for (const r of p.kernels.rows) expect(tf.getKernel(r.name, 'wasm')).toBeDefined();
    expect(p.scopes.rows.length).toBeGreaterThan(0); // conv2dSame / matMulFast, set aside
    expect(p.kernels.totalMs).toBeLessThanOrEqual(p.profiledWallMs);
    expect(phaseTotals(p.kernels).reduce((s, x) => s + x.ms, 0)).toBeCloseTo(p.kernels.totalMs, 6);
  });

  it('a SePPO update: every phase timed, kernels labelled by update phase, leak-free', async () => {
    const before = tf.memory().numTensors;
    const p = await profileSeppoUpdate(m, { batch: 2, refSteps: 2, warmup: 1, runs: 1 });
    expect(tf.memory().numTensors).toBe(before);
    expect(p.phases.map((x) => x.phase)).toEqual(['data', 'reference sampling', 'reference forward', 'policy forward', 'policy backward', 'read-back', 'optimizer', 'record']);
    for (const ph of ['reference sampling', 'reference forward', 'policy forward', 'policy backward', 'optimizer']) expect(p.kernels.phases).toContain(ph);
    const conv = p.kernels.rows.find((r) => r.name === 'Conv2D')!;
    expect(conv.byPhase['reference sampling']).toBeGreaterThan(0);
    expect(p.updateMs).toBeGreaterThan(0);
  });
});
