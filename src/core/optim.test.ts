import { afterEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from './backend';
import { createAdam, FlatAdam, flatAdamEnabled, setFlatAdam, type StepOptimizer } from './optim';

// Shapes like a UNet's: a conv filter, a bias, a norm scale, a scalar and a matrix.
const SHAPES: number[][] = [[3, 3, 4, 6], [6], [6], [1], [5, 7]];

/** Runs `steps` Adam steps of a fixed quadratic-plus-sine loss on fresh variables and returns the weights. */
function train(makeOpt: () => StepOptimizer, prefix: string, steps: number, lrAt?: (s: number) => number): Float32Array[] {
  const vars = SHAPES.map((s, i) => tf.variable(tf.randomNormal(s, 0, 1, 'float32', 10 + i), true, `${prefix}${i}`));
  const opt = makeOpt();
  for (let s = 0; s < steps; s++) {
    if (lrAt) opt.learningRate = lrAt(s);
    tf.tidy(() => {
      const { grads } = tf.variableGrads(
        () => tf.addN(vars.map((v, i) => tf.sum(tf.add(tf.mul(tf.square(v), 0.5 + i), tf.sin(tf.mul(v, 3 + s)))))) as tf.Scalar,
        vars,
      );
      opt.applyGradients(grads);
    });
  }
  const out = vars.map((v) => v.dataSync().slice() as Float32Array);
  opt.dispose();
  tf.dispose(vars);
  return out;
}

describe('FlatAdam', () => {
  afterEach(() => setFlatAdam(true));

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`gives weights bit-identical to tf.train.adam over 7 steps on ${backend}, a warm-up lr included`, async () => {
      await initNodeBackend(backend);
      const lrAt = (s: number) => 0.01 * Math.min(1, (s + 1) / 3);
      const ref = train(() => tf.train.adam(0.01) as unknown as StepOptimizer, `adamRef_${backend}_`, 7, lrAt);
      const flat = train(() => new FlatAdam(0.01), `adamFlat_${backend}_`, 7, lrAt);
      ref.forEach((r, i) => expect(Array.from(flat[i])).toEqual(Array.from(r)));
      // The steps moved the weights (a vacuous comparison would also be "identical").
      const init = tf.tidy(() => tf.randomNormal(SHAPES[0], 0, 1, 'float32', 10).dataSync());
      expect(Math.max(...Array.from(flat[0]).map((x, j) => Math.abs(x - init[j])))).toBeGreaterThan(0.01);
    });
  }

  it('is leak-free: the tensor count is flat from the second step on, and dispose frees its state', async () => {
    await initNodeBackend('cpu');
    const v = tf.variable(tf.ones([4, 3]), true, 'adamLeak_a');
    const w = tf.variable(tf.ones([3]), true, 'adamLeak_b');
    const before = tf.memory().numTensors;
    const opt = new FlatAdam(0.1);
    // As the engine calls it: outside any tidy, the gradients disposed afterwards.
    const step = () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.add(tf.sum(tf.square(v)), tf.sum(w))) as tf.Scalar, [v, w]);
      opt.applyGradients(grads);
      tf.dispose([value, ...Object.values(grads)]);
    };
    step();
    const after1 = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(after1);
    expect(opt.iterations).toBe(6);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([v, w]);
  });

  it('names the problem when a step brings other variables than the first, and leaves the weights alone', async () => {
    await initNodeBackend('cpu');
    const v = tf.variable(tf.ones([2]), true, 'adamNames_a');
    const w = tf.variable(tf.ones([2]), true, 'adamNames_b');
    const opt = new FlatAdam(0.1);
    tf.tidy(() => opt.applyGradients({ adamNames_a: tf.ones([2]), adamNames_b: tf.ones([2]) }));
    const kept = v.dataSync().slice();
    expect(() => tf.tidy(() => opt.applyGradients({ adamNames_a: tf.ones([2]) }))).toThrow(/same variables in the same order/);
    expect(Array.from(v.dataSync())).toEqual(Array.from(kept));
    expect(() => new FlatAdam(-1)).toThrow(/finite number ≥ 0, got -1/);
    expect(() => new FlatAdam(NaN)).toThrow(/got NaN/);
    const stray = new FlatAdam(0.1);
    expect(() => stray.applyGradients({ noSuchVariable: tf.ones([1]) })).toThrow(/no variable named 'noSuchVariable'/);
    stray.dispose();
    opt.dispose();
    tf.dispose([v, w]);
  });

  it('createAdam gives FlatAdam by default and tfjs Adam when turned off', async () => {
    await initNodeBackend('cpu');
    expect(flatAdamEnabled()).toBe(true);
    const a = createAdam(1e-3);
    expect(a).toBeInstanceOf(FlatAdam);
    setFlatAdam(false);
    const b = createAdam(1e-3);
    expect(b).toBeInstanceOf(tf.AdamOptimizer);
    a.dispose();
    b.dispose();
  });
});
