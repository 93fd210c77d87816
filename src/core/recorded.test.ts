import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { presetConfig } from './config';
import { RECORDED_SELECTION, buildManifest, manifestEntry, parseManifest, smallLiveVersion, stripResults } from './recorded';

const fixture = () => ({
  config: { seed: 2, updates: 4, arms: [{ name: 'A' }] },
  updatesDone: 4,
  base: { metrics: { trueUtility: 0.6 }, perImage: [{ trueUtility: 0.6 }], finalEval: { n: 4, mean: { trueUtility: 0.61 }, perImage: { trueUtility: [1, 2, 3, 4] }, vsBase: null } },
  arms: [
    {
      name: 'A',
      updates: [{ arm: 'A', update: 1, loss: 0.123456789, insideHist: [1, 2], accByTBucket: [0.333333333, null], aafSkill: { goodAtLeast: 1 }, skillMs: 3.3 }],
      checkpoints: [{ arm: 'A', update: 4, metrics: { trueUtility: 0.6123456789 }, winRate: { trueUtility: 0.5 }, perImage: { trueUtility: [0.1, 0.2] }, probe: { winners: 0.01, losers: 0.02, flagged: false } }],
      finalEval: { n: 4, perImage: { trueUtility: [1, 2, 3, 4] }, vsBase: { trueUtility: { win: { rate: 0.75, lo: 0.3, hi: 0.95 } } } },
      finalEvalOod: { oodRaters: { n: 4, perImage: { x: [1] }, vsBase: {} } },
      aafSkill: { goodAtLeast: 9 },
    },
  ],
  meta: { engine: 'node', backend: 'wasm', startedAt: '2026-12-02T20:55:32.666Z' },
});

describe('stripResults', () => {
  it('drops per-image final-evaluation columns and per-update skill records, keeps checkpoints exactly', () => {
    const s = stripResults(fixture()) as any;
    expect(s.base).toEqual({ metrics: { trueUtility: 0.6 }, finalEval: { n: 4, mean: { trueUtility: 0.61 }, vsBase: null } });
    expect(s.arms[0].finalEval).toEqual({ n: 4, vsBase: { trueUtility: { win: { rate: 0.75, lo: 0.3, hi: 0.95 } } } });
    expect(s.arms[0].finalEvalOod.oodRaters).toEqual({ n: 4, vsBase: {} });
    expect(s.arms[0].updates[0]).toEqual({ arm: 'A', update: 1, loss: 0.123457, insideHist: [1, 2], accByTBucket: [0.333333, null] });
    expect(s.arms[0].checkpoints).toEqual(fixture().arms[0].checkpoints);
    expect(s.arms[0].aafSkill).toEqual({ goodAtLeast: 9 });
  });
  it('does not change its input and refuses a file without arms', () => {
    const f = fixture();
    stripResults(f);
    expect(f).toEqual(fixture());
    expect(() => stripResults({ config: {} })).toThrow(/no arms/);
  });
});

describe('manifest', () => {
  const sel = { id: 'x-seed2', dir: 'runs/x', title: 'X', command: 'npm run experiment -- --preset x', belongsTo: 'issue 13' };
  it('an entry carries command, date, backend, seeds, arms and final images', () => {
    expect(manifestEntry(sel, fixture(), 1234)).toEqual({
      id: 'x-seed2', title: 'X', file: 'x-seed2.json', command: 'npm run experiment -- --preset x', date: '2026-12-02T20:55:32.666Z',
      engine: 'node', backend: 'wasm', seeds: [2], belongsTo: 'issue 13', source: 'runs/x', arms: ['A'], updates: 4, finalImages: 4, bytes: 1234,
    });
    expect(() => manifestEntry(sel, { arms: [] }, 0)).toThrow(/runs\/x\/results.json: no config/);
  });
  it('round-trips through parseManifest; duplicate ids are refused when building', () => {
    const e = manifestEntry(sel, fixture(), 10);
    const m = buildManifest([e]);
    expect(parseManifest(JSON.parse(JSON.stringify(m)))).toEqual({ runs: [e], errors: [] });
    expect(() => buildManifest([e, e])).toThrow(/'x-seed2' appears twice/);
  });
  it('names bad entries and keeps the good ones', () => {
    const good = manifestEntry(sel, fixture(), 10);
    const r = parseManifest({ version: 1, runs: [good, { ...good, id: 'Bad Id!' }, { id: 'nofile', title: 'n' }, good] });
    expect(r.runs).toEqual([good]);
    expect(r.errors).toHaveLength(3);
    expect(r.errors[0]).toMatch(/^runs\[1\] \('Bad Id!'\): id lower-case letters/);
    expect(r.errors[1]).toMatch(/^runs\[2\] \('nofile'\): file /);
    expect(r.errors[2]).toMatch(/^runs\[3\] \('x-seed2'\): id appears twice/);
  });
  it('says what is wrong with a manifest that is not one', () => {
    expect(parseManifest(null).errors).toEqual(['the manifest is not a JSON object']);
    expect(parseManifest({ version: 2, runs: [] }).errors[0]).toMatch(/version is 2; the page reads version 1/);
    expect(parseManifest({ version: 1 }).errors).toEqual(["the manifest has no 'runs' list"]);
  });
  it('every selected run exists in runs/ with its summary.md, ids unique', () => {
    const ids = RECORDED_SELECTION.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const s of RECORDED_SELECTION) {
      expect(existsSync(`${s.dir}/results.json`), s.dir).toBe(true);
      expect(existsSync(`${s.dir}/summary.md`), s.dir).toBe(true);
    }
  });
});

describe('a small live version of a recorded run', () => {
  const recorded = JSON.parse(readFileSync('public/recorded/aaf-ablation-v3-seed1.json', 'utf8')).config;
  it("keeps the recorded arms and seeds and takes the small preset's size, without the protocol's extras", () => {
    const r = smallLiveVersion(recorded, presetConfig('smoke'));
    if (!r.ok) throw new Error(r.errors.join('; '));
    const smoke = presetConfig('smoke');
    expect(r.config.arms).toEqual(recorded.arms);
    expect([r.config.seed, r.config.dataSeed, r.config.evalSeed]).toEqual([recorded.seed, recorded.dataSeed, recorded.evalSeed]);
    expect([r.config.updates, r.config.dataSize, r.config.evalPrompts, r.config.checkpointEvery]).toEqual([smoke.updates, smoke.dataSize, smoke.evalPrompts, smoke.checkpointEvery]);
    expect(r.config.finalEvalPrompts ?? 0).toBe(0);
    expect(r.config.aafSkill ?? false).toBe(false);
    expect(recorded.updates).toBe(210);
  });
  it('names what the schema rejects', () => {
    const r = smallLiveVersion({ ...recorded, arms: [] }, presetConfig('first-look'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join(' ')).toMatch(/arms/);
  });
});
