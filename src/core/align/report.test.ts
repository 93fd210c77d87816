import { describe, expect, it } from 'vitest';
import { PRESETS } from '../config';
import { finalAafRate, lrNote, metricsCsv, seedsSummaryMarkdown, summaryMarkdown, wilsonInterval, type ExperimentResults } from './report';
import type { UpdateRecord } from './records';

const rec = (arm: string, update: number, aaf: number | null): UpdateRecord => ({
  arm, update, loss: 0.69, implicitAcc: aaf === null ? null : 0.5, aafRate: aaf, mW: 0.1, mL: aaf === null ? null : 0.2, rW: null, rL: null,
  rewardW: null, rewardL: null, margin: null, insideHist: aaf === null ? null : [0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0],
  accByTBucket: aaf === null ? null : [1, null, 0, 0.5], flippedShare: null, refK: aaf === null ? null : 0, ms: 12.5, refMs: 3,
});

const metrics = { pickScore: 20.5, hps: 21.25, alignment: 0.5, aesthetic: 5.25, trueUtility: 0.4 };
const results: ExperimentResults = {
  config: { ...PRESETS.smoke, arms: [PRESETS.smoke.arms[0], { name: 'SFT, "w"', method: 'sft', data: 'winners', refStrategy: 'init', flip: 'off' }] },
  updatesDone: 2,
  base: { metrics },
  arms: [
    { name: 'SePPO', config: PRESETS.smoke.arms[0], beta: 1000, lr: 1e-4, halted: null, updates: [rec('SePPO', 1, 1), rec('SePPO', 2, 0.5)],
      checkpoints: [{ arm: 'SePPO', update: 2, savedK: 1, metrics: { ...metrics, pickScore: 21 }, winRate: { pickScore: 0.75, trueUtility: 0.5 }, poolCheckpoints: 2, poolBytes: 10, ms: 1 }] },
    { name: 'SFT, "w"', config: { name: 'SFT, "w"', method: 'sft', data: 'winners', refStrategy: 'init', flip: 'off' }, beta: 1000, lr: 1e-4, halted: 'x: non-finite loss', updates: [rec('SFT, "w"', 1, null)], checkpoints: [] },
  ],
  meta: { engine: 'node', backend: 'wasm', preset: 'smoke', assets: 'test', startedAt: '', wallMs: 1234 },
};

describe('reports', () => {
  it('metrics.csv: one row per arm and update, quoted names, empty cells for n/a', () => {
    const lines = metricsCsv(results).trim().split('\n');
    expect(lines.length).toBe(1 + 3);
    const head = lines[0].split(',');
    expect(head.slice(0, 5)).toEqual(['arm', 'update', 'loss', 'implicitAcc', 'aafRate']);
    expect(head).toContain('acc_t0_250');
    expect(head).toContain('inside_0_1');
    expect(lines[1].startsWith('SePPO,1,0.69,0.5,1,')).toBe(true);
    expect(lines[3].startsWith('"SFT, ""w""",1,0.69,,,')).toBe(true);
  });

  it('summary.md: Table 4 shape with base row, win rates and the mean AAF rate of the last N updates', () => {
    expect(finalAafRate([rec('a', 1, 1), rec('a', 2, 0.5)], 2)).toBeCloseTo(0.75, 9);
    const md = summaryMarkdown(results);
    expect(md).toContain('| Arm | PickScore-mini | HPS-mini | Alignment | Aesthetic | True pref. | Win rate vs base (true pref. / PickScore) | Final AAF rate (last 2 updates) |');
    expect(md).toContain('| base (θ₀) | 20.50 | 21.25 | 0.500 | 5.250 | 0.400 | — | — |');
    expect(md).toContain('| SePPO | 21.00 | 21.25 | 0.500 | 5.250 | 0.400 | 50% / 75% | 0.750 |');
    expect(md).toContain('| SFT, "w" (halted) | — | — | — | — | — | — | n/a (SFT) |');
  });

  it('Wilson interval: known values, and a clear refusal of impossible input', () => {
    // p = 0.5, n = 100: 0.5 ± 0.0980 (z = 1.96), nearly symmetric.
    const [lo, hi] = wilsonInterval(0.5, 100);
    expect(lo).toBeCloseTo(0.4038, 3);
    expect(hi).toBeCloseTo(0.5962, 3);
    // p = 1, n = 10: [0.722, 1].
    expect(wilsonInterval(1, 10)[0]).toBeCloseTo(0.7225, 3);
    expect(wilsonInterval(1, 10)[1]).toBeCloseTo(1, 9);
    expect(() => wilsonInterval(1.2, 10)).toThrow(/0 ≤ p ≤ 1/);
  });

  it('seeds summary: per-seed and pooled win rates with intervals, Δ true preference, halted arms named; mismatched runs refused', () => {
    const seeded = (seed: number, wTrue: number, dTrue: number): ExperimentResults => ({
      ...results,
      config: { ...results.config, seed, evalPrompts: 32, updates: 2 },
      arms: [{ ...results.arms[0], checkpoints: [{ ...results.arms[0].checkpoints[0], metrics: { ...metrics, trueUtility: 0.4 + dTrue }, winRate: { pickScore: 0.5, trueUtility: wTrue } }] }, results.arms[1]],
    });
    const md = seedsSummaryMarkdown([seeded(0, 0.75, 0.02), seeded(1, 0.625, -0.01)]);
    expect(md).toContain('# smoke over 2 seeds');
    // pooled true-pref win rate: (0.75 + 0.625) / 2 = 0.6875 over 64 prompts → Wilson [56%, 79%].
    const [lo, hi] = wilsonInterval(0.6875, 64);
    expect(md).toContain(`| SePPO | 75% / 63% | 69% [${(100 * lo).toFixed(0)}%, ${(100 * hi).toFixed(0)}%] | 50% / 50% |`);
    expect(md).toContain('| +0.020 / −0.010 | 2 of 2 |');
    expect(md).toContain('| SFT, "w" | halted or not evaluated in some seed |');
    const other = { ...seeded(2, 0.5, 0), arms: [results.arms[0]] };
    expect(() => seedsSummaryMarkdown([seeded(0, 0.5, 0), other])).toThrow(/runs differ in their arms/);
    expect(() => seedsSummaryMarkdown([{ ...seeded(0, 0.5, 0), updatesDone: 1 }])).toThrow(/unfinished: 1 of 2/);
  });
});

describe('lrNote (the summary header\'s learning rate)', () => {
  it('names the experiment lr when every arm uses it, and each arm\'s lr where any sets its own (a sweep, the regime)', () => {
    expect(lrNote({ lr: 1e-4, arms: [{ name: 'A' }, { name: 'B', lr: 1e-4 }] })).toBe('lr 0.0001');
    expect(lrNote({ lr: 1e-4, arms: [{ name: 'D3PO @ lr 3e-5', lr: 3e-5 }] })).toBe('lr per arm (D3PO @ lr 3e-5 0.00003; experiment default 0.0001)');
    expect(lrNote({ lr: 1e-4, arms: [{ name: 'A', lr: 1e-5 }, { name: 'B' }] })).toBe('lr per arm (A 0.00001, B 0.0001; experiment default 0.0001)');
  });
});
