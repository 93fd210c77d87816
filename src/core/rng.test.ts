import { describe, expect, it } from 'vitest';
import { Rng } from './rng';

describe('Rng', () => {
  it('is deterministic by seed and differs across seeds', () => {
    const a = new Rng(7), b = new Rng(7), c = new Rng(8);
    const xa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(xa);
  });
  it('forks independent streams by label without advancing the parent', () => {
    const r = new Rng(1);
    const f1 = r.fork('data').next();
    expect(r.fork('data').next()).toBe(f1);
    expect(r.fork('noise').next()).not.toBe(f1);
    expect(r.next()).toBe(new Rng(1).next());
  });
  it('normals have roughly zero mean and unit variance', () => {
    const x = new Rng(3).normals(20000);
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    const v = x.reduce((s, y) => s + (y - mean) ** 2, 0) / x.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(v - 1)).toBeLessThan(0.05);
  });
});
