import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend';
import { Rng } from '../rng';
import { CheckpointPool, pickReferenceIndex } from './pool';

beforeAll(async () => {
  await initNodeBackend('cpu');
});

describe('reference strategies', () => {
  it("'init' picks θ₀ and 'latest' picks θ_{k−1}", () => {
    const rng = new Rng(1);
    for (let k = 1; k <= 7; k++) {
      expect(pickReferenceIndex('init', k, rng)).toBe(0);
      expect(pickReferenceIndex('latest', k, rng)).toBe(k - 1);
    }
  });

  it("'random' is uniform over θ₀…θ_{k−1} (frequencies within 5σ) and seeded", () => {
    const k = 5;
    const n = 20000;
    const counts = new Array(k).fill(0);
    const rng = new Rng(7);
    for (let i = 0; i < n; i++) counts[pickReferenceIndex('random', k, rng)]++;
    const p = 1 / k;
    const sd = Math.sqrt(n * p * (1 - p));
    for (const c of counts) expect(Math.abs(c - n * p)).toBeLessThan(5 * sd);
    const a = new Rng(3), b = new Rng(3);
    const seqA = Array.from({ length: 50 }, () => pickReferenceIndex('random', k, a));
    const seqB = Array.from({ length: 50 }, () => pickReferenceIndex('random', k, b));
    expect(seqA).toEqual(seqB);
    expect(new Set(seqA).size).toBe(k);
    expect(() => pickReferenceIndex('random', 0, a)).toThrow(/empty/);
  });
});

describe('CheckpointPool', () => {
  it('saves frozen snapshots, keeps θ₀ when full, reports memory, disposes what it owns', () => {
    const start = tf.memory().numTensors;
    const policy = tf.tidy(() => ({ 'pp/unet/w': tf.variable(tf.tensor1d([1, 2, 3]), true, 'pp/unet/w') }));
    const theta0 = tf.tidy(() => ({ 'p0/unet/w': tf.variable(tf.tensor1d([1, 2, 3]), false, 'p0/unet/w') }));
    const pool = new CheckpointPool(3, 'pooltest');
    pool.addShared(theta0);
    for (let u = 1; u <= 3; u++) {
      tf.tidy(() => policy['pp/unet/w'].assign(tf.tensor1d([u * 10, 0, 0])));
      pool.save(policy, u * 10);
    }
    // θ₀, θ1, θ2, θ3 saved with K = 3 → θ1 dropped.
    expect(pool.list().map((e) => e.k)).toEqual([0, 2, 3]);
    expect(Object.keys(pool.get(1).params)).toEqual(['pooltestref2/unet/w']);
    // Frozen: later policy moves do not change a snapshot.
    tf.tidy(() => policy['pp/unet/w'].assign(tf.tensor1d([-1, -1, -1])));
    expect(Array.from(Object.values(pool.get(2).params)[0].dataSync())).toEqual([30, 0, 0]);
    expect(Object.values(pool.get(2).params)[0].trainable).toBe(false);
    expect(pool.memory()).toEqual({ ownedBytes: 2 * 3 * 4, sharedBytes: 3 * 4, checkpoints: 3 });
    expect(pool.pick('latest', new Rng(0)).k).toBe(3);
    expect(pool.pick('init', new Rng(0)).k).toBe(0);
    pool.dispose();
    expect(theta0['p0/unet/w'].isDisposed).toBe(false);
    policy['pp/unet/w'].dispose();
    theta0['p0/unet/w'].dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});
