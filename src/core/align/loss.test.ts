import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend';
import { aafRateOf, fixedHistogram, implicitAccuracyOf, lossDiagnostics } from './diagnostics';
import { dpoLoss, seppoLoss, sftLoss, type Flip } from './loss';

beforeAll(async () => {
  await initNodeBackend('cpu');
});

// Hand-worked example (β = 2, so −0.5·β = −1):
//   sample 0: m_w − r_w = 0.5 − 0.4 = +0.1 > 0  → s = +1 (sign), 0 (indicator), −1 (off)
//   sample 1: m_w − r_w = 0.3 − 0.3 =  0  (the boundary) → s = −1 in every variant
//   sample 2: m_w − r_w = 0.4 − 0.6 = −0.2     → s = −1
const E = { mW: [0.5, 0.3, 0.4], mL: [0.1, 0.5, 0.7], rW: [0.4, 0.3, 0.6], rL: [0.3, 0.4, 0.5] };
// inside_i = −((m_w + s m_l) − (r_w + s r_l)):
//   sign:      s=[+1,−1,−1] → [−((0.6)−(0.7)), −((−0.2)−(−0.1)), −((−0.3)−(0.1))] = [0.1, 0.1, 0.4]
//   indicator: s=[ 0,−1,−1] → [−(0.5−0.4), 0.1, 0.4]                              = [−0.1, 0.1, 0.4]
//   off:       s=[−1,−1,−1] → [−(0.4−0.1), 0.1, 0.4]                              = [−0.3, 0.1, 0.4]
// softplus(−x) = log(1 + e^−x): x=0.1 → 0.644397, x=−0.1 → 0.744397, x=0.4 → 0.513015, x=−0.3 → 0.854355
const EXPECTED: Record<Flip, { s: number[]; inside: number[]; loss: number; acc: number; aaf: number }> = {
  sign: { s: [1, -1, -1], inside: [0.1, 0.1, 0.4], loss: (0.644397 * 2 + 0.513015) / 3, acc: 1, aaf: 2 / 3 },
  indicator: { s: [0, -1, -1], inside: [-0.1, 0.1, 0.4], loss: (0.744397 + 0.644397 + 0.513015) / 3, acc: 2 / 3, aaf: 2 / 3 },
  off: { s: [-1, -1, -1], inside: [-0.3, 0.1, 0.4], loss: (0.854355 + 0.644397 + 0.513015) / 3, acc: 2 / 3, aaf: 1 },
};

function errs(e = E) {
  return { modelW: tf.tensor1d(e.mW), modelL: tf.tensor1d(e.mL), refW: tf.tensor1d(e.rW), refL: tf.tensor1d(e.rL) };
}

describe('seppoLoss', () => {
  for (const flip of ['sign', 'indicator', 'off'] as const) {
    it(`equals the hand-computed numbers for flip '${flip}', boundary m_w = r_w → s = −1`, () => {
      const x = EXPECTED[flip];
      const r = seppoLoss(errs(), { beta: 2, flip });
      expect(Array.from(r.s.dataSync())).toEqual(x.s);
      Array.from(r.inside.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(x.inside[i], 5));
      expect(r.loss.dataSync()[0]).toBeCloseTo(x.loss, 5);
      expect(r.implicitAcc.dataSync()[0]).toBeCloseTo(x.acc, 6);
      expect(r.aafRate.dataSync()[0]).toBeCloseTo(x.aaf, 6);
      expect(r.loss.rank).toBe(0);
      expect(r.inside.shape).toEqual([3]);
    });
  }

  it('dpoLoss is seppoLoss with the flip off; sftLoss is mean m_w', () => {
    const a = dpoLoss(errs(), { beta: 2 });
    expect(a.loss.dataSync()[0]).toBeCloseTo(EXPECTED.off.loss, 5);
    expect(sftLoss(tf.tensor1d(E.mW)).dataSync()[0]).toBeCloseTo(0.4, 6);
  });

  it('is finite when β saturates the sigmoid (softplus form)', () => {
    const r = seppoLoss(errs(), { beta: 1e7, flip: 'off' });
    const l = r.loss.dataSync()[0];
    expect(Number.isFinite(l)).toBe(true);
    // inside = [−1.5e6, 5e5, 2e6] → loss ≈ 1.5e6 / 3
    expect(l / 5e5).toBeCloseTo(1, 4);
  });

  it('rejects bad options with a message naming the field', () => {
    expect(() => seppoLoss(errs(), { beta: 0, flip: 'sign' })).toThrow(/beta/);
    expect(() => seppoLoss(errs(), { beta: 1, flip: 'nope' as Flip })).toThrow(/flip must be one of sign, indicator, off/);
    expect(() => seppoLoss({ ...errs(), refL: tf.tensor1d([1, 2]) }, { beta: 1, flip: 'off' })).toThrow(/refL/);
  });

  it('s carries no gradient: dLoss/dm_w and dLoss/dm_l match the formula with s held constant', () => {
    const mW = tf.variable(tf.tensor1d(E.mW));
    const mL = tf.variable(tf.tensor1d(E.mL));
    const beta = 2;
    const { grads } = tf.variableGrads(
      () => seppoLoss({ modelW: mW as tf.Tensor1D, modelL: mL as tf.Tensor1D, refW: tf.tensor1d(E.rW), refL: tf.tensor1d(E.rL) }, { beta, flip: 'sign' }).loss,
      [mW, mL],
    );
    const x = EXPECTED.sign;
    // d/dm_w softplus(−inside)/n = −σ(−inside)·(−0.5β)/n ; d/dm_l = the same times s.
    const sig = (z: number) => 1 / (1 + Math.exp(-z));
    const gW = grads[mW.name].dataSync();
    const gL = grads[mL.name].dataSync();
    for (let i = 0; i < 3; i++) {
      const base = (sig(-x.inside[i]) * 0.5 * beta) / 3;
      expect(gW[i]).toBeCloseTo(base, 5);
      expect(gL[i]).toBeCloseTo(base * x.s[i], 5);
    }
  });
});

/**
 * A toy "model" with two parameters per half: m_w = (a_w)², m_l = (a_l)². One SGD step on the
 * SePPO loss moves m relative to the (fixed) reference errors, as eq. 8 intends.
 */
function stepToy(mW0: number, rW: number): { dW: number; dL: number; s: number } {
  const aW = tf.variable(tf.tensor1d([Math.sqrt(mW0)]));
  const aL = tf.variable(tf.tensor1d([Math.sqrt(0.5)]));
  const refW = tf.tensor1d([rW]);
  const refL = tf.tensor1d([0.5]);
  const f = () => seppoLoss({ modelW: tf.square(aW) as tf.Tensor1D, modelL: tf.square(aL) as tf.Tensor1D, refW, refL }, { beta: 1, flip: 'sign' });
  const s = f().s.dataSync()[0];
  const before = { w: tf.square(aW).dataSync()[0] - rW, l: tf.square(aL).dataSync()[0] - 0.5 };
  tf.train.sgd(0.05).minimize(() => f().loss, false, [aW, aL]);
  const after = { w: tf.square(aW).dataSync()[0] - rW, l: tf.square(aL).dataSync()[0] - 0.5 };
  return { dW: after.w - before.w, dL: after.l - before.l, s };
}

describe('direction of a gradient step (eq. 8)', () => {
  it('s = +1 (reference fits the winner better): lowers both m_w − r_w and m_l − r_l', () => {
    const r = stepToy(0.6, 0.4);
    expect(r.s).toBe(1);
    expect(r.dW).toBeLessThan(-1e-4);
    expect(r.dL).toBeLessThan(-1e-4);
  });
  it('s = −1 (DPO case): lowers m_w − r_w and raises m_l − r_l', () => {
    const r = stepToy(0.3, 0.4);
    expect(r.s).toBe(-1);
    expect(r.dW).toBeLessThan(-1e-4);
    expect(r.dL).toBeGreaterThan(1e-4);
  });
});

describe('diagnostics', () => {
  it('implicit rewards, margin, fixed histogram and per-bucket accuracy', () => {
    const d = lossDiagnostics({
      beta: 2,
      mW: E.mW,
      mL: E.mL,
      rW: E.rW,
      rL: E.rL,
      inside: EXPECTED.sign.inside,
      s: EXPECTED.sign.s,
      t: [10, 260, 999],
    });
    // rewardW = −2·mean([0.1, 0, −0.2]) = 0.0667; rewardL = −2·mean([−0.2, 0.1, 0.2]) = −0.0667
    expect(d.rewardW).toBeCloseTo(0.2 / 3, 6);
    expect(d.rewardL).toBeCloseTo(-0.2 / 3, 6);
    expect(d.margin).toBeCloseTo(0.4 / 3, 6);
    expect(d.insideHist.reduce((a, b) => a + b, 0)).toBe(3);
    expect(d.insideHist[6]).toBe(3); // all in [0, 1)
    expect(d.accByTBucket).toEqual([1, 1, null, 1]);
    expect(d.flippedShare).toBeCloseTo(1 / 3, 6);
    expect(fixedHistogram([-100, -6, 5.99, 6, 100])).toEqual([2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3]);
  });

  it("implicit accuracy and AAF rate counted on the read-back values: seppoLoss's means, as exact k/B", () => {
    for (const flip of ['sign', 'indicator', 'off'] as const) {
      const x = EXPECTED[flip];
      expect(implicitAccuracyOf(x.inside)).toBe(x.acc);
      expect(aafRateOf(x.s)).toBe(x.aaf);
      const res = seppoLoss(errs(), { beta: 2, flip });
      expect(implicitAccuracyOf(res.inside.dataSync())).toBeCloseTo(res.implicitAcc.dataSync()[0], 6);
      expect(aafRateOf(res.s.dataSync())).toBeCloseTo(res.aafRate.dataSync()[0], 6);
      tf.dispose([res.loss, res.inside, res.s, res.aafRate, res.implicitAcc]);
    }
  });
});
