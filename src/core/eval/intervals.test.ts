import { describe, expect, it } from 'vitest';
import { comparePaired, fromColumns, overlaps, pairedDelta, pairedWin, studentTCdf, studentTQuantile, tInterval, toColumns, wilson } from './intervals';

describe('interval maths (hand-computed values)', () => {
  it('Wilson for 7/10 is [0.3968, 0.8922]', () => {
    // centre = (0.7 + 1.96²/20) / (1 + 1.96²/10) = 0.89207/1.38415 = 0.64449
    // half   = 1.96·√(0.021 + 1.96²/400) / 1.38415 = 0.24771
    const [lo, hi] = wilson(7, 10);
    expect(lo).toBeCloseTo(0.3968, 4);
    expect(hi).toBeCloseTo(0.8922, 4);
  });
  it('Wilson at 0/10 and 10/10 stays inside [0, 1] and is not degenerate', () => {
    const [lo0, hi0] = wilson(0, 10);
    expect(lo0).toBeCloseTo(0, 12);
    expect(hi0).toBeCloseTo(0.2775, 4); // z²/(n+z²) = 3.8415/13.8415
    const [lo1, hi1] = wilson(10, 10);
    expect(hi1).toBeCloseTo(1, 12);
    expect(lo1).toBeCloseTo(0.7225, 4);
    expect(() => wilson(11, 10)).toThrow(/0 ≤ k ≤ n/);
  });
  it('Student t: known quantiles and the normal limit', () => {
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.7062, 3);
    expect(studentTQuantile(0.975, 4)).toBeCloseTo(2.7764, 4);
    expect(studentTQuantile(0.975, 9)).toBeCloseTo(2.2622, 4);
    expect(studentTQuantile(0.975, 30)).toBeCloseTo(2.0423, 4);
    expect(studentTQuantile(0.975, 1e6)).toBeCloseTo(1.96, 3);
    expect(studentTCdf(0, 5)).toBeCloseTo(0.5, 12);
    expect(studentTQuantile(0.025, 4)).toBeCloseTo(-2.7764, 4);
  });
  it('t-interval of [1, 2, 3, 4, 5] is 3 ± 2.7764·1.5811/√5 = [1.0368, 4.9632]', () => {
    const r = tInterval([1, 2, 3, 4, 5]);
    expect(r.mean).toBe(3);
    expect(r.sd).toBeCloseTo(Math.sqrt(2.5), 12);
    expect(r.lo).toBeCloseTo(1.0368, 4);
    expect(r.hi).toBeCloseTo(4.9632, 4);
    expect(tInterval([2]).hi).toBe(Infinity);
  });
  it('paired win rate counts ties ½ and states them; paired Δ is the t-interval of the differences', () => {
    const a = [0.5, 0.6, 0.7, 0.4, 0.5];
    const b = [0.4, 0.6, 0.5, 0.5, 0.3];
    const w = pairedWin(a, b);
    expect(w).toMatchObject({ n: 5, wins: 3, ties: 1, losses: 1 });
    expect(w.rate).toBeCloseTo(0.7, 12);
    const [lo, hi] = wilson(3.5, 5);
    expect(w.lo).toBe(lo);
    expect(w.hi).toBe(hi);
    const d = pairedDelta(a, b); // differences 0.1, 0, 0.2, −0.1, 0.2: mean 0.08, sd √(0.017)
    expect(d.mean).toBeCloseTo(0.08, 12);
    expect(d.sd).toBeCloseTo(Math.sqrt(0.017), 10);
    expect(d.hi - d.mean).toBeCloseTo(2.7764451 * Math.sqrt(0.017 / 5), 5);
    expect(() => pairedWin([1], [1, 2])).toThrow(/paired/);
    const c = comparePaired([{ u: 1 }, { u: 0 }], [{ u: 0 }, { u: 0 }], ['u']);
    expect(c.u.win).toMatchObject({ wins: 1, ties: 1 });
  });
  it('overlap, and per-image metrics as columns round-trip', () => {
    expect(overlaps({ lo: 0, hi: 1 }, { lo: 1, hi: 2 })).toBe(true);
    expect(overlaps({ lo: 0, hi: 1 }, { lo: 1.01, hi: 2 })).toBe(false);
    const rows = [{ a: 1, b: 0.123456789 }, { a: 2, b: -3 }];
    const back = fromColumns(JSON.parse(JSON.stringify(toColumns(rows))));
    expect(back).toEqual(rows);
  });
});
