import { describe, expect, it } from 'vitest';
import { encodeConfig, presetConfig, PRESETS } from '../../core/config';
import type { ExpSnapshot, ExpUpdateRecord } from '../../worker/protocol-experiment';
import { aafPickScoreRows, checkpointRows, pointsPerArm, updateRows } from './chartData';
import { metricsCsv } from '../../core/align/report';
import { importResults, resultsFromState, type ResultsMeta } from './results';

const META: ResultsMeta = { engine: 'browser', backend: 'webgpu', preset: 'smoke', assets: 'test', startedAt: '', wallMs: 0 };
import { baseEvalNote, checkpointUpdates, reduceRun, stateFromSnapshot } from './runState';
import { configFromUrl, defaultConfig, sameConfig, searchWithConfig } from './urlState';

const cfg = presetConfig('smoke');

function rec(arm: string, update: number, over: Partial<ExpUpdateRecord> = {}): ExpUpdateRecord {
  return {
    arm, update, loss: 0.69, implicitAcc: 0.5, aafRate: 0.5, mW: 0.1, mL: 0.2, rW: 0.1, rL: 0.2, rewardW: 0, rewardL: 0, margin: 0,
    insideHist: [0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0], accByTBucket: [1, null, 0, null], flippedShare: 0.5, refK: 0, ms: 10, refMs: 5, ...over,
  };
}

function snap(over: Partial<ExpSnapshot> = {}): ExpSnapshot {
  return {
    run: 3, config: cfg, evalPrompts: ['a red circle', 'a blue square'],
    base: { metrics: { pickScore: 20, hps: 20, alignment: 0.5, aesthetic: 5, trueUtility: 0.5 }, perImage: [], images: [new Float32Array(3072), new Float32Array(3072)] },
    update: 0, records: [], checkpoints: [], evals: [], halted: [], status: 'ready', resumedFrom: null, ...over,
  };
}

describe('run state reducer', () => {
  it('folds update and checkpoint events, drops stale runs and duplicates', () => {
    let s = reduceRun(null, { kind: 'snapshot', snapshot: snap() })!;
    s = reduceRun(s, { kind: 'event', event: { type: 'exp.update', run: 3, update: 1, records: [rec('SePPO', 1), rec('Diffusion-DPO', 1, { aafRate: 1 })] } })!;
    s = reduceRun(s, { kind: 'event', event: { type: 'exp.update', run: 2, update: 2, records: [rec('SePPO', 2)] } })!; // stale run
    s = reduceRun(s, { kind: 'event', event: { type: 'exp.update', run: 3, update: 1, records: [rec('SePPO', 1)] } })!; // duplicate
    expect(s.update).toBe(1);
    expect(s.records.SePPO.length).toBe(1);
    s = reduceRun(s, { kind: 'event', event: { type: 'exp.update', run: 3, update: 2, records: [rec('SePPO', 2), rec('Diffusion-DPO', 2)] } })!;
    s = reduceRun(s, {
      kind: 'event',
      event: {
        type: 'exp.checkpoint', run: 3, update: 2,
        checkpoints: ['SePPO', 'Diffusion-DPO'].map((arm) => ({ arm, update: 2, savedK: 1, metrics: { pickScore: 21, hps: 20, alignment: 0.6, aesthetic: 5, trueUtility: 0.55 }, winRate: { trueUtility: 0.5, pickScore: 1 }, poolCheckpoints: 2, poolBytes: 1, ms: 1 })),
        evals: [{ arm: 'SePPO', update: 2, images: [new Float32Array(3072)], perImage: [] }],
      },
    })!;
    expect(checkpointUpdates(s)).toEqual([0, 2]);
    expect(pointsPerArm(s)).toEqual({ SePPO: 2 + 2, 'Diffusion-DPO': 2 + 2 });
    const rows = aafPickScoreRows(s);
    expect(rows.map((r) => r.update)).toEqual([0, 1, 2]);
    expect(rows[0].p0).toBe(20);
    expect(rows[2]).toMatchObject({ a0: 0.5, p0: 21, p1: 21 });
    expect(checkpointRows(s, 'winRate.pickScore').map((r) => r.v0)).toEqual([0.5, 1]);
    expect(updateRows(s, 'loss').length).toBe(2);
    s = reduceRun(s, { kind: 'event', event: { type: 'exp.halted', run: 3, arm: 'SePPO', message: 'NaN' } })!;
    expect(s.halted.SePPO).toBe('NaN');
  });

  it('an imported run ignores live events', () => {
    let s = reduceRun(null, { kind: 'snapshot', snapshot: snap({ run: -1 }), source: 'imported' })!;
    s = reduceRun(s, { kind: 'event', event: { type: 'exp.update', run: -1, update: 1, records: [rec('SePPO', 1)] } })!;
    expect(s.records.SePPO.length).toBe(0);
  });
});

describe('export and import (runner format)', () => {
  const state = stateFromSnapshot(
    snap({
      update: 2,
      records: [rec('SePPO', 1), rec('Diffusion-DPO', 1), rec('SePPO', 2), rec('Diffusion-DPO', 2)],
      checkpoints: [{ arm: 'SePPO', update: 2, savedK: 1, metrics: { pickScore: 21, hps: 20, alignment: 0.6, aesthetic: 5, trueUtility: 0.55 }, winRate: { trueUtility: 0.5, pickScore: 1 }, poolCheckpoints: 2, poolBytes: 1, ms: 1 }],
    }),
  );

  it('CSV (report.ts, the runner format) has one row per arm and update', () => {
    const csv = metricsCsv(resultsFromState(state, META) as unknown as Parameters<typeof metricsCsv>[0]).trim().split('\n');
    expect(csv.length).toBe(1 + 4);
    expect(csv[0].startsWith('arm,update,loss,')).toBe(true);
    expect(csv.filter((l) => l.startsWith('SePPO,')).length).toBe(2);
    expect(csv.filter((l) => l.startsWith('Diffusion-DPO,')).length).toBe(2);
    expect(csv.find((l) => l.startsWith('SePPO,2,'))).toContain(',0.69,');
  });

  it('JSON round-trips through import; bad files get readable errors', () => {
    const json = JSON.stringify(resultsFromState(state, META));
    const r = importResults(json);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.snapshot.records.length).toBe(4);
      expect(r.snapshot.update).toBe(2);
      expect(r.backend).toBe('webgpu');
    }
    const notJson = importResults('{oops');
    expect(notJson.ok).toBe(false);
    if (!notJson.ok) expect(notJson.errors[0]).toMatch(/not JSON/);
    const bad = JSON.parse(json);
    bad.config.arms[0].flip = 'sideways';
    const r2 = importResults(JSON.stringify(bad));
    expect(r2.ok).toBe(false);
    if (!r2.ok) expect(r2.errors.join()).toMatch(/config\.arms\[0\]\.flip: expected one of 'sign' \| 'indicator' \| 'off', got 'sideways'/);
    const missing = JSON.parse(json);
    missing.arms.pop();
    const r3 = importResults(JSON.stringify(missing));
    expect(r3.ok).toBe(false);
    if (!r3.ok) expect(r3.errors.join()).toMatch(/no records for 'Diffusion-DPO'/);
    const r4 = importResults(JSON.stringify({ hello: 1 }));
    expect(r4.ok).toBe(false);
  });
});

describe('URL state', () => {
  it('round-trips a config and keeps other parameters', () => {
    const s = searchWithConfig('?backend=cpu&preset=smoke', cfg);
    expect(s).toContain('backend=cpu');
    expect(s).not.toContain('preset=');
    const r = configFromUrl(s, 'webgpu');
    expect(r.source).toBe('url');
    expect(sameConfig(r.config, cfg)).toBe(true);
  });

  it('preset names, malformed and out-of-range values give a message and the defaults', () => {
    expect(configFromUrl('?preset=smoke', 'webgpu').config.updates).toBe(PRESETS.smoke.updates);
    const bad = configFromUrl('?exp=%%%', 'webgpu');
    expect(bad.message).toMatch(/could not be used/);
    expect(sameConfig(bad.config, defaultConfig('webgpu'))).toBe(true);
    const out = configFromUrl(`?exp=${encodeConfig({ ...cfg, batchSize: 9999 })}`, 'webgpu');
    expect(out.message).toMatch(/batchSize: value must be at most 256, got 9999/);
    const unknown = configFromUrl('?preset=nope', 'webgpu');
    expect(unknown.message).toMatch(/Unknown preset 'nope'/);
  });

  it('the default is the teaching preset first-look on every backend', () => {
    for (const b of ['webgpu', 'webgl', 'wasm', 'cpu'] as const) expect(sameConfig(defaultConfig(b), PRESETS['first-look'])).toBe(true);
  });
});

describe('baseEvalNote (the page line about the base evaluation)', () => {
  it('says when cached figures were computed, warns when cut short, and is silent otherwise', () => {
    const cached = baseEvalNote({ state: 'cached', cachedAt: Date.UTC(2026, 11, 2, 13, 5) }, 'en-GB')!;
    expect(cached.kind).toBe('info');
    expect(cached.text).toMatch(/^Base model's evaluation cached from 2 Dec 2026/);
    const cut = baseEvalNote({ state: 'cut', done: 8, total: 32 })!;
    expect(cut.kind).toBe('warn');
    expect(cut.text).toContain('cut short (8 of 32 images)');
    expect(cut.text).toContain('win rates against the base are not computed');
    expect(baseEvalNote({ state: 'complete' })).toBeNull();
    expect(baseEvalNote({ state: 'saved', savedAt: 1 })).toBeNull();
    expect(baseEvalNote(null)).toBeNull();
  });
});
