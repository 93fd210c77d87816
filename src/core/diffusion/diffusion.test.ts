import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend';
import { Rng } from '../rng';
import { decodeLatents, disposeReducedSD, encodeText, initReducedSD, tinySDConfig, tokensTensor, uncondContext, unetForward, type ReducedSD } from '../model/sd';
import { ddimSample, ddimSteps, ddimStep } from './ddim';
import { ddimTimesteps, makeSchedule, qSample, scheduleFor } from './schedule';
import { initialNoise, sampleImages, sampleImagesAsync } from './sample';
import { makeAETrainer, makeDiffusionTrainer } from './train';

const TINY = tinySDConfig();
let m: ReducedSD;
const sched = makeSchedule();
beforeAll(async () => {
  await initNodeBackend('wasm');
  m = initReducedSD('d', TINY, 11);
});
afterAll(() => disposeReducedSD(m));

function toks(n: number, seed: number): Int32Array[] {
  const r = new Rng(seed);
  return Array.from({ length: n }, () => new Int32Array(12).map((_, i) => (i < 7 ? 1 + r.int(29) : 0)));
}

describe('schedule', () => {
  it("matches SD's scaled-linear schedule", () => {
    expect(sched.betas[0]).toBeCloseTo(0.00085, 8);
    expect(sched.betas[999]).toBeCloseTo(0.012, 8);
    // ᾱ at the ends, computed independently in float64.
    let p = 1;
    for (let i = 0; i < 1000; i++) { const s = Math.sqrt(0.00085) + ((Math.sqrt(0.012) - Math.sqrt(0.00085)) * i) / 999; p *= 1 - s * s; }
    expect(sched.alphasCumprod[999]).toBeCloseTo(p, 7);
    expect(sched.alphasCumprod[999]).toBeCloseTo(0.00466, 4);
    expect(sched.alphasCumprod[0]).toBeCloseTo(0.99915, 5);
  });

  it('an SNR shift divides ᾱ/(1−ᾱ) by the shift at every t, and its betas rebuild its ᾱ', () => {
    const shifted = makeSchedule(4);
    for (const t of [0, 10, 250, 500, 999]) {
      const snr = sched.alphasCumprod[t] / (1 - sched.alphasCumprod[t]);
      const snr4 = shifted.alphasCumprod[t] / (1 - shifted.alphasCumprod[t]);
      expect(snr4 / snr).toBeCloseTo(0.25, 4);
    }
    let p = 1;
    for (let i = 0; i < 1000; i++) p *= 1 - shifted.betas[i];
    expect(p).toBeCloseTo(shifted.alphasCumprod[999], 6);
    expect(Math.min(...shifted.betas)).toBeGreaterThan(0);
    expect(Math.max(...shifted.betas)).toBeLessThan(1);
    // the model's config picks it; no shift is SD's own schedule, built once
    expect(scheduleFor({}).alphasCumprod).toEqual(sched.alphasCumprod);
    expect(scheduleFor({ snrShift: 4 })).toBe(scheduleFor({ snrShift: 4 }));
    expect(scheduleFor({ snrShift: 4 }).alphasCumprod).toEqual(shifted.alphasCumprod);
    expect(() => makeSchedule(0)).toThrow(/snrShift must be a positive number/);
  });

  it('qSample is √ᾱ z0 + √(1−ᾱ) ε per sample', () => {
    const out = tf.tidy(() => qSample(tf.fill([2, 8, 8, 4], 2) as tf.Tensor4D, tf.tensor1d([0, 999], 'int32'), tf.ones([2, 8, 8, 4]) as tf.Tensor4D, sched).dataSync());
    const ab0 = sched.alphasCumprod[0], ab1 = sched.alphasCumprod[999];
    expect(out[0]).toBeCloseTo(2 * Math.sqrt(ab0) + Math.sqrt(1 - ab0), 5);
    expect(out[256]).toBeCloseTo(2 * Math.sqrt(ab1) + Math.sqrt(1 - ab1), 5);
  });

  it('DDIM timesteps are trailing and end at the clean sample', () => {
    expect(ddimTimesteps(4)).toEqual([[999, 749], [749, 499], [499, 249], [249, -1]]);
    expect(ddimTimesteps(20)[0][0]).toBe(999);
    expect(() => ddimTimesteps(0)).toThrow(/integer in 1…1000/);
  });
});

describe('DDIM with classifier-free guidance', () => {
  it('a step with a perfect ε-predictor recovers x0 exactly (DDIM eq. 12)', () => {
    tf.tidy(() => {
      const x0 = tf.tensor4d(new Rng(1).normals(256), [1, 8, 8, 4]);
      const eps = tf.tensor4d(new Rng(2).normals(256), [1, 8, 8, 4]);
      const xt = qSample(x0, tf.tensor1d([700], 'int32'), eps, sched);
      const ctx = tf.zeros([1, 12, 16]) as tf.Tensor3D;
      const out = ddimStep({ eps: () => eps, ctx, uncondCtx: ctx, guidance: 1 }, xt, 700, -1, sched);
      expect(tf.sub(out, x0).abs().max().dataSync()[0]).toBeLessThan(1e-4);
    });
  });

  it('guidance combines ε_u + w(ε_c − ε_u) from one batched forward', () => {
    tf.tidy(() => {
      let calls = 0;
      // ε depends on the context only: conditional rows have ctx = 1, unconditional ctx = 0.
      const epsFn = (z: tf.Tensor4D, _t: tf.Tensor1D, c: tf.Tensor3D) => { calls++; return tf.mul(tf.onesLike(z), c.mean([1, 2]).reshape([-1, 1, 1, 1])) as tf.Tensor4D; };
      const z = tf.zeros([2, 8, 8, 4]) as tf.Tensor4D;
      const out = ddimStep({ eps: epsFn, ctx: tf.ones([2, 12, 16]) as tf.Tensor3D, uncondCtx: tf.zeros([1, 12, 16]) as tf.Tensor3D, guidance: 3 }, z, 999, -1, sched);
      // ε = 0 + 3·(1 − 0) = 3; x0 = (0 − √(1−ᾱ)·3)/√ᾱ.
      const ab = sched.alphasCumprod[999];
      expect(out.dataSync()[0]).toBeCloseTo((-Math.sqrt(1 - ab) * 3) / Math.sqrt(ab), 3);
      expect(calls).toBe(1);
    });
  });

  it("sampling follows the model's own schedule (config.unet.snrShift)", () => {
    const t = toks(2, 3);
    const plain = sampleImages(m, t, { seed: 5, steps: 4, guidance: 3 });
    const shiftedModel: ReducedSD = { ...m, config: { ...m.config, unet: { ...m.config.unet, snrShift: 4 } } };
    const shifted = sampleImages(shiftedModel, t, { seed: 5, steps: 4, guidance: 3 });
    // a 4-step DDIM by hand on the shifted schedule, same weights and noise
    const sched4 = makeSchedule(4);
    const byHand = tf.tidy(() => {
      const ctx = encodeText(m.text, m.config.text, tokensTensor(t, 12));
      const u = m.config.unet;
      const z = ddimSample({ eps: (zz, tt, c) => unetForward(m.unet, u, zz, tt, c), ctx, uncondCtx: uncondContext(m.text, m.config.text, 1), noise: tf.tensor4d(initialNoise(5, 2, u.latentSize ** 2 * u.latentChannels), [2, u.latentSize, u.latentSize, u.latentChannels]), steps: 4, guidance: 3, schedule: sched4 });
      return tf.clipByValue(decodeLatents(m, z), -1, 1).dataSync();
    });
    expect(Array.from(byHand.slice(0, 32 * 32 * 3))).toEqual(Array.from(shifted[0]));
    expect(Array.from(shifted[0])).not.toEqual(Array.from(plain[0]));
    const again = sampleImages(shiftedModel, t, { seed: 5, steps: 4, guidance: 3 });
    expect(Array.from(again[1])).toEqual(Array.from(shifted[1]));
  });

  it('sampling is deterministic for a seed and differs between seeds; ddimSteps = ddimSample', () => {
    const t = toks(3, 1);
    const a = sampleImages(m, t, { seed: 5, steps: 4, guidance: 3 });
    const b = sampleImages(m, t, { seed: 5, steps: 4, guidance: 3, batchSize: 2 });
    const c = sampleImages(m, t, { seed: 6, steps: 4, guidance: 3 });
    expect(a.length).toBe(3);
    expect(a[0].length).toBe(32 * 32 * 3);
    a.forEach((img, i) => expect(Array.from(img)).toEqual(Array.from(b[i])));
    expect(Array.from(a[0])).not.toEqual(Array.from(c[0]));
    expect(Math.max(...a[0].map(Math.abs))).toBeLessThanOrEqual(1);
    // Image i's noise does not depend on the batch it is in.
    expect(Array.from(initialNoise(5, 2, 256, 1).slice(256))).toEqual(Array.from(initialNoise(5, 3, 256).slice(512)));

    const [s1, s2] = tf.tidy(() => {
      const ctx = encodeText(m.text, TINY.text, tokensTensor(t, 12));
      const u = uncondContext(m.text, TINY.text, 1);
      const noise = tf.tensor4d(initialNoise(5, 3, 256), [3, 8, 8, 4]);
      const o = { eps: (z: tf.Tensor4D, tt: tf.Tensor1D, c: tf.Tensor3D) => unetForward(m.unet, TINY.unet, z, tt, c), ctx, uncondCtx: u, noise, steps: 4, guidance: 3 };
      const steps: number[] = [];
      const it = ddimSteps(o);
      let r = it.next();
      while (!r.done) { steps.push(r.value.step); r = it.next(); }
      expect(steps).toEqual([1, 2, 3, 4]);
      return [r.value, ddimSample(o)];
    });
    expect(Array.from(s1.dataSync())).toEqual(Array.from(s2.dataSync()));
    tf.dispose([s1, s2]);
  });
});

describe('sampleImagesAsync', () => {
  it('gives the same images as sampleImages and leaks no tensors', async () => {
    const t = toks(3, 4);
    const sync = sampleImages(m, t, { seed: 9, steps: 3, guidance: 2, batchSize: 2 });
    await sampleImagesAsync(m, t, { seed: 9, steps: 3, guidance: 2, batchSize: 2 }); // warm-up
    const n0 = tf.memory().numTensors;
    const asy = await sampleImagesAsync(m, t, { seed: 9, steps: 3, guidance: 2, batchSize: 2 });
    expect(tf.memory().numTensors).toBe(n0);
    expect(asy.length).toBe(3);
    asy.forEach((img, i) => expect(Array.from(img)).toEqual(Array.from(sync[i])));
  });
});

describe('no leaks', () => {
  it('numTensors is flat over sampling calls, abandoned step-by-step sampling and training steps', () => {
    const t = toks(2, 2);
    sampleImages(m, t, { seed: 1, steps: 2, guidance: 3 }); // warm-up
    let n0 = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) sampleImages(m, t, { seed: i, steps: 2, guidance: 3 });
    expect(tf.memory().numTensors).toBe(n0);

    const ctx = tf.tidy(() => encodeText(m.text, TINY.text, tokensTensor(t, 12)));
    const u = uncondContext(m.text, TINY.text, 1);
    const noise = tf.tensor4d(initialNoise(1, 2, 256), [2, 8, 8, 4]);
    n0 = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      const it = ddimSteps({ eps: (z, tt, c) => unetForward(m.unet, TINY.unet, z, tt, c), ctx, uncondCtx: u, noise, steps: 5, guidance: 2 });
      it.next(); it.next();
      it.return(undefined as never); // the UI cancels mid-way
    }
    expect(tf.memory().numTensors).toBe(n0);
    tf.dispose([ctx, u, noise]);

    const r = new Rng(3);
    const ae = makeAETrainer(m, 1e-3, { l1: 1 });
    const ab = { images: r.normals(4 * 3072).map(Math.tanh), batch: 4 };
    const dt = makeDiffusionTrainer(m, sched, 1e-3);
    const db = { latents: r.normals(4 * 256), eps: r.normals(4 * 256), tokens: new Int32Array(4 * 12).map(() => r.int(30)), t: new Int32Array([1, 300, 600, 999]), batch: 4 };
    ae.step(ab).dispose(); dt.step(db).dispose(); // warm-up creates Adam's slots
    n0 = tf.memory().numTensors;
    const losses: number[] = [];
    for (let i = 0; i < 4; i++) { const l = ae.step(ab); losses.push(l.dataSync()[0]); l.dispose(); dt.step(db).dispose(); }
    expect(tf.memory().numTensors).toBe(n0);
    expect(losses[3]).toBeLessThan(losses[0]); // it learns
    ae.dispose(); dt.dispose();
  });
});
