import { describe, expect, it } from 'vitest';
import { aggregateKernels, kernelTableMarkdown, phaseOfIndex, phaseTableMarkdown, phaseTotals, sumPhases, type KernelRecord } from './profileTables';

// Two runs of: Conv2D 3 ms + 1 ms (forward), Add 0.5 ms (forward), Conv2D 4 ms (backward), Add 0.5 ms (optimizer).
const run = (k: number): KernelRecord[] => [
  { name: 'Conv2D', ms: 3 + k, phase: 'forward' },
  { name: 'Conv2D', ms: 1, phase: 'forward' },
  { name: 'Add', ms: 0.5, phase: 'forward' },
  { name: 'Conv2D', ms: 4 - k, phase: 'backward' },
  { name: 'Add', ms: 0.5, phase: 'optimizer' },
];

describe('phaseOfIndex', () => {
  it('labels kernel i by the first mark whose end is above i', () => {
    const marks = [
      { phase: 'forward', end: 3 },
      { phase: 'backward', end: 4 },
    ];
    expect([0, 1, 2, 3, 4, 5].map((i) => phaseOfIndex(i, marks))).toEqual(['forward', 'forward', 'forward', 'backward', 'other', 'other']);
    expect(phaseOfIndex(0, [{ phase: 'empty', end: 0 }, { phase: 'b', end: 1 }], 'rest')).toBe('b');
    expect(phaseOfIndex(7, [], 'rest')).toBe('rest');
  });
});

describe('aggregateKernels', () => {
  it('sums by name per run, with shares and the split by phase (hand-computed)', () => {
    const agg = aggregateKernels([...run(0), ...run(1)], 2);
    // Per run: Conv2D (3+1+4 + 4+1+3)/2 = 8 ms, 3 calls; Add (0.5·4)/2 = 1 ms, 2 calls; total 9 ms.
    expect(agg.totalMs).toBe(9);
    expect(agg.phases).toEqual(['forward', 'backward', 'optimizer']);
    expect(agg.rows.map((r) => r.name)).toEqual(['Conv2D', 'Add']);
    const [conv, add] = agg.rows;
    expect(conv).toEqual({ name: 'Conv2D', count: 3, ms: 8, share: 16 / 18, byPhase: { forward: 4.5, backward: 3.5 } });
    expect(add).toEqual({ name: 'Add', count: 2, ms: 1, share: 2 / 18, byPhase: { forward: 0.5, optimizer: 0.5 } });
    expect(phaseTotals(agg)).toEqual([
      { phase: 'forward', ms: 5 },
      { phase: 'backward', ms: 3.5 },
      { phase: 'optimizer', ms: 0.5 },
    ]);
  });

  it('orders ties by name, and refuses runs < 1', () => {
    const agg = aggregateKernels([
      { name: 'B', ms: 1, phase: 'x' },
      { name: 'A', ms: 1, phase: 'x' },
    ]);
    expect(agg.rows.map((r) => r.name)).toEqual(['A', 'B']);
    expect(agg.rows[0].share).toBe(0.5);
    expect(() => aggregateKernels([], 0)).toThrow(/runs must be ≥ 1/);
    expect(aggregateKernels([]).totalMs).toBe(0);
  });
});

describe('kernelTableMarkdown', () => {
  it('prints the top kernels, a row for the rest and the total', () => {
    const agg = aggregateKernels([...run(0), ...run(1), { name: 'Relu', ms: 2, phase: 'forward' }], 2);
    // Per run: Conv2D 8 ms (8/10), Add 1 ms, Relu 1 ms (0.5 calls); total 10 ms.
    expect(kernelTableMarkdown(agg, { top: 1 }).split('\n')).toEqual([
      '| kernel | calls | ms | share | forward ms | backward ms | optimizer ms |',
      '|---|---:|---:|---:|---:|---:|---:|',
      '| Conv2D | 3 | 8.00 | 80.0 % | 4.50 | 3.50 | — |',
      '| 2 other kernels | 2.5 | 2.00 | 20.0 % | 1.50 | — | 0.50 |',
      '| **all kernels** | 5.5 | 10.0 | 100.0 % | 6.00 | 3.50 | 0.50 |',
    ]);
    expect(kernelTableMarkdown(agg, { top: 5, phases: ['backward'] }).split('\n')[0]).toBe('| kernel | calls | ms | share | backward ms |');
  });
});

describe('phase tables', () => {
  it('sums phase events in the given order and prints ms per run with shares', () => {
    const ev = [
      { phase: 'b', ms: 30 },
      { phase: 'a', ms: 10 },
      { phase: 'b', ms: 50 },
      { phase: 'z', ms: 10 },
      { phase: 'a', ms: 100 },
    ];
    const s = sumPhases(ev, ['a', 'b', 'never']);
    expect(s).toEqual([
      { phase: 'a', ms: 110 },
      { phase: 'b', ms: 80 },
      { phase: 'z', ms: 10 },
    ]);
    expect(phaseTableMarkdown(s, 2).split('\n')).toEqual([
      '| phase | ms | share |',
      '|---|---:|---:|',
      '| a | 55.0 | 55.0 % |',
      '| b | 40.0 | 40.0 % |',
      '| z | 5.00 | 5.0 % |',
      '| **total** | 100 | 100.0 % |',
    ]);
  });
});
