import { describe, expect, it } from 'vitest';
import { encodeConfig, PRESET_NAMES, presetConfig } from '../../core/config';
import { pageLimitErrors } from '../../worker/browser-dataset';
import { configFromUrl } from './urlState';
import type { ExpUpdateRecord } from '../../worker/protocol-experiment';
import { importResults, importSizeError, MAX_IMPORT_BYTES, MAX_IMPORT_RECORDS, pathText, shortValue } from './results';
import { updateRate } from './RunStats';

const cfg = { ...presetConfig('smoke'), updates: 4 };

function rec(arm: string, update: number, over: Partial<ExpUpdateRecord> = {}): ExpUpdateRecord {
  return {
    arm, update, loss: 0.69, implicitAcc: 0.5, aafRate: 0.5, mW: 0.1, mL: 0.2, rW: 0.1, rL: 0.2, rewardW: 0, rewardL: 0, margin: 0,
    insideHist: [0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0], accByTBucket: [1, null, 0, null], flippedShare: 0.5, refK: 0, ms: 10, refMs: 5, ...over,
  };
}

/** A results file (as text) of the smoke arms with `n` updates each; `edit` changes the parsed object first. */
function file(n = 2, edit: (o: { arms: { updates: Record<string, unknown>[]; checkpoints: Record<string, unknown>[] }[]; updatesDone: number }) => void = () => undefined, raw?: (t: string) => string): string {
  const o = {
    config: cfg,
    updatesDone: n,
    base: { metrics: { pickScore: 20 } },
    arms: cfg.arms.map((a) => ({
      name: a.name,
      halted: null,
      updates: Array.from({ length: n }, (_, i) => rec(a.name, i + 1)),
      checkpoints: [{ arm: a.name, update: 2, metrics: { pickScore: 20.5 }, winRate: { trueUtility: 0.6 } }],
    })),
    meta: { backend: 'wasm' },
  };
  edit(o as never);
  const t = JSON.stringify(o);
  return raw ? raw(t) : t;
}

const errorsOf = (t: string) => {
  const r = importResults(t);
  return r.ok ? [] : r.errors;
};

describe('import caps', () => {
  it('a good file imports', () => {
    const r = importResults(file());
    expect(r.ok).toBe(true);
  });

  it('the size cap is named and checked before anything is read', () => {
    expect(importSizeError(MAX_IMPORT_BYTES)).toBeNull();
    expect(importSizeError(MAX_IMPORT_BYTES + 1)).toMatch(/^the file is 32\.0 MB; the page imports results files of at most 32 MB$/);
  });

  it('the record cap is named', () => {
    const big = { arms: [{ name: 'x', updates: Array.from({ length: MAX_IMPORT_RECORDS + 1 }, () => 0), checkpoints: [] }] };
    expect(errorsOf(JSON.stringify(big))).toEqual([`the file holds 50,001 update records; the page imports at most 50,000 (all arms together)`]);
  });
});

describe('import sanity (values, not only shape), with readable paths', () => {
  it('non-finite numbers are refused', () => {
    const t = file(2, () => undefined, (s) => s.replace('"loss":0.69', '"loss":1e999'));
    expect(errorsOf(t).join('\n')).toMatch(/^arms\[0\]\.updates\[0\]\.loss: .*Infinity/m);
  });

  it('negative errors, shares outside [0, 1], win rates outside [0, 1]', () => {
    const e = errorsOf(
      file(2, (o) => {
        o.arms[1].updates[1].mW = -0.5;
        o.arms[0].updates[0].aafRate = 2;
        o.arms[0].checkpoints[0].winRate = { trueUtility: 1.5 };
      }),
    ).join('\n');
    expect(e).toMatch(/arms\[1\]\.updates\[1\]\.mW: must be ≥ 0, got -0\.5/);
    expect(e).toMatch(/arms\[0\]\.updates\[0\]\.aafRate: must be between 0 and 1, got 2/);
    expect(e).toMatch(/arms\[0\]\.checkpoints\[0\]\.winRate\.trueUtility: must be between 0 and 1, got 1\.5/);
  });

  it('update numbers beyond the config, repeated, or more records than updates (the padded-file case)', () => {
    expect(errorsOf(file(2, (o) => (o.arms[0].updates[1].update = 9))).join()).toMatch(/arms\[0\]\.updates\[1\]\.update: update 9 is beyond the config's 4 updates/);
    expect(errorsOf(file(2, (o) => (o.arms[0].updates[1].update = 1))).join()).toMatch(/updates must increase, got 1 after 1/);
    const padded = file(2, (o) => {
      for (const a of o.arms) for (let i = 0; i < 30; i++) a.updates.push({ ...a.updates[0] });
    });
    expect(errorsOf(padded)[0]).toMatch(/^arms\[0\]\.updates: 32 records for an experiment of 4 updates/);
  });

  it('schema paths read arms[1].flip, and long values are cut with an ellipsis', () => {
    expect(pathText(['config', 'arms', 1, 'flip'])).toBe('config.arms[1].flip');
    expect(pathText([0, 'a'])).toBe('[0].a');
    expect(pathText([])).toBe('(file)');
    const long = shortValue('['.repeat(10_000));
    expect(long.length).toBe(40);
    expect(long.endsWith('…')).toBe(true);
    expect(errorsOf(file(2, (o) => ((o.arms[0] as unknown as { name: number }).name = 5))).join()).toMatch(/^arms\[0\]\.name: /);
  });
});

describe('update rate', () => {
  it('updates per second over the window; null before two samples', () => {
    expect(updateRate([{ t: 0, update: 0 }], 0)).toBeNull();
    expect(updateRate([{ t: 0, update: 0 }, { t: 2000, update: 10 }], 2000)).toBe(5);
    expect(updateRate([{ t: 0, update: 0 }, { t: 20_000, update: 10 }, { t: 22_000, update: 20 }], 22_000)).toBe(5);
  });
});

describe('messages and page limits', () => {
  it('an unknown top-level field in an import reads config: unknown field', () => {
    const e = errorsOf(file(2, (o) => ((o as unknown as { config: Record<string, unknown> }).config = { ...cfg, zzz: 1 })));
    expect(e).toEqual(["config: unknown field 'zzz'"]);
  });

  it('a deeply nested value in the URL gives a short message with an ellipsis', () => {
    const nested = JSON.stringify({ ...cfg, arms: [] }).replace('"arms":[]', `"arms":${'['.repeat(3000)}${']'.repeat(3000)}`);
    const r = configFromUrl(`?exp=${Buffer.from(nested).toString('base64url')}`, 'wasm');
    expect(r.source).toBe('default');
    expect(r.message!.length).toBeLessThan(400);
    expect(r.message).toMatch(/…/);
  });

  it('knob limits of the page dataset are checked from the URL before anything loads; every preset fits', () => {
    const r = configFromUrl(`?exp=${encodeConfig({ ...cfg, evalPrompts: 65 })}`, 'wasm');
    expect(r.source).toBe('default');
    expect(r.message).toMatch(/evalPrompts: at most 64 in the page \(its dataset has 64 validation prompts\), got 65/);
    expect(pageLimitErrors({ evalPrompts: 64, dataSize: 1001 })).toEqual([expect.stringMatching(/^dataSize: at most 1000 in the page/)]);
    for (const p of PRESET_NAMES) expect(pageLimitErrors(presetConfig(p)), p).toEqual([]);
  });
});
