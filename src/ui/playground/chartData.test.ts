import { describe, expect, it } from 'vitest';
import { downsampleRows, updateAxis, withSmoothed, type Row } from './chartData';

const series = (n: number, f: (i: number) => number): Row[] => Array.from({ length: n }, (_, i) => ({ update: i + 1, v0: f(i), v1: -f(i) }));

describe('chart downsampling', () => {
  it('leaves short series alone and cuts long ones to at most the cap', () => {
    const short = series(100, (i) => i);
    expect(downsampleRows(short, ['v0', 'v1'])).toBe(short);
    const long = series(30_000, (i) => Math.sin(i / 50));
    const d = downsampleRows(long, ['v0', 'v1'], 480);
    expect(d.length).toBeLessThanOrEqual(480);
    expect(d.length).toBeGreaterThan(200);
    // Sorted by update, first and last kept.
    expect(d[0].update).toBe(1);
    expect(d[d.length - 1].update).toBe(30_000);
    for (let i = 1; i < d.length; i++) expect(d[i].update as number).toBeGreaterThan(d[i - 1].update as number);
  });

  it('keeps the extremes: a one-update spike and dip survive', () => {
    const long = series(20_000, () => 0.5);
    long[12_345].v0 = 99;
    long[777].v1 = -99;
    const d = downsampleRows(long, ['v0', 'v1'], 300);
    expect(d.some((r) => r.v0 === 99 && r.update === 12_346)).toBe(true);
    expect(d.some((r) => r.v1 === -99)).toBe(true);
  });

  it('smoothing is an EMA per arm that skips nulls', () => {
    const rows: Row[] = [{ update: 1, v0: 0 }, { update: 2, v0: 10 }, { update: 3, v0: null }, { update: 4, v0: 10 }];
    const s = withSmoothed(rows, 1, 3); // alpha 0.5
    expect(s.map((r) => r.s0)).toEqual([0, 5, null, 7.5]);
    expect(rows[0].s0).toBeUndefined(); // inputs untouched
  });
});

describe('shared update axis', () => {
  it('ticks start at 0, are 1/2/5×10^k apart and cover the last update', () => {
    expect(updateAxis(2)).toEqual({ domain: [0, 2], ticks: [0, 1, 2] });
    expect(updateAxis(301)).toEqual({ domain: [0, 400], ticks: [0, 100, 200, 300, 400] });
    expect(updateAxis(450).ticks).toEqual([0, 100, 200, 300, 400, 500]);
    expect(updateAxis(2000).ticks).toEqual([0, 500, 1000, 1500, 2000]);
    expect(updateAxis(0).domain).toEqual([0, 1]);
    for (const m of [7, 33, 999, 12_345]) {
      const a = updateAxis(m);
      expect(a.ticks.length).toBeLessThanOrEqual(6);
      expect(a.domain[1]).toBeGreaterThanOrEqual(m);
    }
  });
});
