import { describe, expect, it } from 'vitest';
import { presetConfig } from '../../core/config';
import type { ExpCheckpointRecord, ExpSnapshot } from '../../worker/protocol-experiment';
import { stateFromSnapshot } from './runState';
import { aafByConstruction } from './chartData';
import { commonPairs, compareFromUrl, compareOptions, defaultSides, experimentCheckpoints, parseSide, searchWithCompare, sideData } from './compare';

const cfg = { ...presetConfig('smoke'), updates: 4, checkpointEvery: 2 };
const m = (v: number) => ({ pickScore: v, hps: v, alignment: v, aesthetic: v, trueUtility: v });
const img = (v: number) => new Float32Array(3072).fill(v);
const cp = (arm: string, update: number, perImage?: number[]): ExpCheckpointRecord =>
  ({ arm, update, savedK: null, metrics: m(0), winRate: null, poolCheckpoints: 0, poolBytes: 0, ms: 0, ...(perImage ? { perImage: { pickScore: perImage, hps: perImage, alignment: perImage, aesthetic: perImage, trueUtility: perImage } } : {}) }) as ExpCheckpointRecord;

function snap(over: Partial<ExpSnapshot>): ExpSnapshot {
  return {
    run: 1, config: cfg, evalPrompts: ['a red circle', 'a blue square'],
    base: { metrics: m(0), perImage: [m(0.1), m(0.2)], images: [img(0.1), img(0.2)] },
    update: 4, records: [], checkpoints: [], evals: [], halted: [], status: 'paused', resumedFrom: null, ...over,
  };
}

describe('compare samples: sides and common (prompt, noise) pairs', () => {
  const live = stateFromSnapshot(
    snap({
      checkpoints: [cp('SePPO', 2), cp('SePPO', 4), cp('Diffusion-DPO', 2)],
      evals: [
        { arm: 'SePPO', update: 2, images: [img(0.3), img(0.4)], perImage: [m(0.3), m(0.4)] },
        { arm: 'SePPO', update: 4, images: [img(0.5), img(0.6)], perImage: [m(0.5), m(0.6)] },
        { arm: 'Diffusion-DPO', update: 2, images: [img(0.7)], perImage: [m(0.7)] },
      ],
    }),
  );

  it('lists the base and each arm at the checkpoints it has images or per-image metrics for', () => {
    expect(compareOptions(live)).toEqual([
      { arm: '', label: 'Base θ₀', updates: [0] },
      { arm: 'SePPO', label: 'SePPO', updates: [2, 4] },
      { arm: 'Diffusion-DPO', label: 'Diffusion-DPO', updates: [2] },
    ]);
  });

  it('pairs image i of one side with image i of the other: same prompt, same noise, each with its metrics', () => {
    const items = commonPairs(live, { arm: 'SePPO', update: 2 }, { arm: 'SePPO', update: 4 });
    expect(items.map((x) => [x.index, x.prompt, x.a.metrics.trueUtility, x.b.metrics.trueUtility, x.a.image![0], x.b.image![0]])).toEqual([
      [0, 'a red circle', 0.3, 0.5, img(0.3)[0], img(0.5)[0]],
      [1, 'a blue square', 0.4, 0.6, img(0.4)[0], img(0.6)[0]],
    ]);
    // Only the shared prefix when one side holds fewer images; an arm at update 0 is the base.
    const short = commonPairs(live, { arm: 'Diffusion-DPO', update: 2 }, { arm: 'SePPO', update: 0 });
    expect(short.map((x) => [x.index, x.a.metrics.pickScore, x.b.metrics.pickScore])).toEqual([[0, 0.7, 0.1]]);
    // A side the run does not hold: nothing to compare.
    expect(commonPairs(live, { arm: 'Diffusion-DPO', update: 4 }, { arm: 'SePPO', update: 4 })).toEqual([]);
  });

  it('defaults to the first two arms at the latest checkpoint both have', () => {
    expect(defaultSides(live)).toEqual({ a: { arm: 'SePPO', update: 2 }, b: { arm: 'Diffusion-DPO', update: 2 } });
  });

  it('a recorded run (no images, per-image metrics as columns) compares metrics without images', () => {
    const rec = stateFromSnapshot(snap({ evalPrompts: [], base: { metrics: m(0), perImage: [], images: [] }, checkpoints: [cp('SePPO', 2, [0.1, 0.2]), cp('SePPO', 4, [0.3, 0.4]), cp('Diffusion-DPO', 4)] }), 'imported');
    expect(sideData(rec, { arm: '', update: 0 })).toBeNull();
    expect(compareOptions(rec)).toEqual([{ arm: 'SePPO', label: 'SePPO', updates: [2, 4] }]);
    expect(defaultSides(rec)).toEqual({ a: { arm: 'SePPO', update: 2 }, b: { arm: 'SePPO', update: 4 } });
    const items = commonPairs(rec, { arm: 'SePPO', update: 2 }, { arm: 'SePPO', update: 4 });
    expect(items.map((x) => [x.prompt, x.a.image, x.a.metrics.hps, x.b.metrics.hps])).toEqual([
      [null, null, 0.1, 0.3],
      [null, null, 0.2, 0.4],
    ]);
  });
});

describe('compare samples in the URL', () => {
  it('checkpoints of an experiment: 0, every checkpointEvery-th update, and the last', () => {
    expect(experimentCheckpoints({ updates: 7, checkpointEvery: 3 })).toEqual([0, 3, 6, 7]);
    expect(experimentCheckpoints({ updates: 4, checkpointEvery: 2 })).toEqual([0, 2, 4]);
  });

  it('reads sides, mode and rate, and names every bad value', () => {
    expect(parseSide('base', cfg, 'A')).toEqual({ side: { arm: '', update: 0 } });
    expect(parseSide('SePPO@4', cfg, 'A')).toEqual({ side: { arm: 'SePPO', update: 4 } });
    expect(parseSide('SePPO@0', cfg, 'A')).toEqual({ side: { arm: '', update: 0 } });
    expect(parseSide('Nope@2', cfg, 'B')).toEqual({ error: "Compare side B: unknown arm 'Nope' in the URL; this experiment's arms are 'SePPO', 'Diffusion-DPO'" });
    expect(parseSide('SePPO@3', cfg, 'A')).toEqual({ error: 'Compare side A: update 3 is not a checkpoint of this experiment (checkpoints at 0, 2, 4)' });
    expect(parseSide('SePPO@x', cfg, 'A')).toEqual({ error: "Compare side A: checkpoint 'x' of arm 'SePPO' in the URL is not a whole number" });
    expect(parseSide('SePPO', cfg, 'A')).toEqual({ error: "Compare side A 'SePPO' in the URL is not 'base' or '<arm>@<update>'" });

    const ok = compareFromUrl('?cmpA=SePPO%402&cmpB=base&cmpMode=flicker&cmpRate=2&x=1', cfg);
    expect(ok).toEqual({ open: true, a: { arm: 'SePPO', update: 2 }, b: { arm: '', update: 0 }, mode: 'flicker', rate: 2, messages: [] });
    const bad = compareFromUrl('?cmpA=Ghost@2&cmpMode=wobble&cmpRate=9', cfg);
    expect(bad.open).toBe(true);
    expect(bad.a).toBeNull();
    expect(bad.mode).toBe('side');
    expect(bad.rate).toBe(1);
    expect(bad.messages).toHaveLength(3);
    expect(bad.messages[0]).toMatch(/unknown arm 'Ghost'.*Side A shows the default instead/);
    expect(bad.messages[1]).toMatch(/'wobble'/);
    expect(bad.messages[2]).toMatch(/'9'/);
    expect(compareFromUrl('?exp=abc', cfg).open).toBe(false);
  });

  it('writes the comparison into the search string, keeping the other parameters, and removes it', () => {
    const s = searchWithCompare('?exp=abc&cmpRate=3', { a: { arm: 'SePPO', update: 2 }, b: { arm: '', update: 0 }, mode: 'side', rate: 3 });
    expect(new URLSearchParams(s).get('exp')).toBe('abc');
    expect(compareFromUrl(s, cfg)).toMatchObject({ a: { arm: 'SePPO', update: 2 }, b: { arm: '', update: 0 }, mode: 'side', messages: [] });
    expect(new URLSearchParams(s).has('cmpRate')).toBe(false);
    expect(searchWithCompare(s, null)).toBe('?exp=abc');
  });
});

describe('AAF rate by construction', () => {
  it('is 1 by construction for methods without a flip (Diffusion-DPO, RPO, SePPO with flip off), not for the flippers or SFT', () => {
    const arms = presetConfig('aaf-ablation').arms.concat(presetConfig('smoke').arms, presetConfig('first-look').arms);
    expect(arms.filter(aafByConstruction).map((a) => a.name)).toEqual(['w/o AAF', 'Diffusion-DPO']);
  });
});
