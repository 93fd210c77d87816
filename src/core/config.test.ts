import { describe, expect, it } from 'vitest';
import {
  ARM_LIBRARY,
  MEASURED_LR,
  PROTOCOL_PRESETS,
  PRESETS,
  armHyperParameters,
  sameConfig,
  PRESET_NAMES,
  ConfigError,
  configFromSearch,
  configToSearch,
  decodeConfig,
  encodeConfig,
  parseExperimentConfig,
  presetConfig,
  safeParseExperimentConfig,
} from './config';

describe('experiment config', () => {
  it('every preset validates, and smoke is tiny', () => {
    for (const n of PRESET_NAMES) expect(safeParseExperimentConfig(PRESETS[n]).ok).toBe(true);
    const s = PRESETS.smoke;
    expect(s.arms.length).toBe(2);
    expect(s.updates * s.batchSize).toBeLessThanOrEqual(8);
    expect(s.refSteps).toBeLessThanOrEqual(2);
    expect(PRESETS['aaf-ablation'].arms.map((a) => a.flip)).toEqual(['sign', 'indicator', 'off']);
    expect(PRESETS['reference-strategies'].arms.map((a) => a.refStrategy)).toEqual(['init', 'latest', 'random']);
  });

  it('fills arm defaults (refStrategy random, flip sign)', () => {
    const c = parseExperimentConfig({ ...PRESETS.smoke, arms: [{ name: 'a', method: 'seppo', data: 'winners' }] });
    expect(c.arms[0].refStrategy).toBe('random');
    expect(c.arms[0].flip).toBe('sign');
  });

  it('names the field and the allowed values on bad input', () => {
    const bad = structuredClone(PRESETS.smoke) as Record<string, unknown>;
    (bad.arms as Record<string, unknown>[])[1].flip = 'maybe';
    bad.batchSize = 0;
    bad.extra = 1;
    const r = safeParseExperimentConfig(bad);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const all = r.errors.join('\n');
    expect(all).toContain("arms[1].flip: expected one of 'sign' | 'indicator' | 'off', got 'maybe'");
    expect(all).toContain('batchSize: value must be at least 1, got 0');
    expect(all).toContain("unknown field 'extra'");
    expect(() => parseExperimentConfig(bad)).toThrow(ConfigError);
  });

  it('checks cross-field rules: dpo needs pairs, unique names', () => {
    const c = structuredClone(PRESETS.smoke);
    c.arms[1].data = 'winners';
    c.arms[0].name = c.arms[1].name;
    const r = safeParseExperimentConfig(c);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.join('\n')).toMatch(/arms\[1\]\.data: method 'dpo' trains on real pairs/);
    expect(r.errors.join('\n')).toMatch(/arms\[1\]\.name: duplicate arm name/);
  });

  it('URL round trip, including non-ASCII arm names', () => {
    for (const n of PRESET_NAMES) {
      const s = encodeConfig(PRESETS[n]);
      expect(s).toMatch(/^[A-Za-z0-9_-]+$/);
      const r = decodeConfig(s);
      expect(r.ok && r.config).toEqual(PRESETS[n]);
    }
    const t1 = configFromSearch(configToSearch(PRESETS.table1) + '&view=data');
    expect(t1 && t1.ok && t1.config.arms.map((a) => a.name)).toContain('SePPOʷ');
    expect(configFromSearch('?view=data')).toBeNull();
  });

  it('bad URL input gives readable errors, never a throw', () => {
    const a = decodeConfig('!!!');
    expect(a.ok).toBe(false);
    expect(!a.ok && a.errors[0]).toMatch(/^exp: not base64url/);
    const b = decodeConfig(btoa('{not json').replace(/=+$/, ''));
    expect(!b.ok && b.errors[0]).toMatch(/not JSON/);
    const tampered = JSON.parse(JSON.stringify(PRESETS.smoke));
    tampered.arms[0].method = 'ppo';
    const c = decodeConfig(encodeConfig(tampered));
    expect(!c.ok && c.errors[0]).toBe("arms[0].method: expected one of 'seppo' | 'sft' | 'dpo' | 'ddpo' | 'd3po' | 'rpo' | 'spo', got 'ppo'");
  });

  it('presetConfig returns an editable copy and rejects unknown names', () => {
    const c = presetConfig('smoke');
    c.updates = 99;
    expect(PRESETS.smoke.updates).not.toBe(99);
    expect(() => presetConfig('nope')).toThrow(/preset: expected one of 'reference-strategies'/);
  });
});

describe('derived values', () => {
  it("an arm's β and lr are its own where set, the experiment's otherwise", () => {
    const c = PRESETS['beta-sweep'];
    expect(armHyperParameters(c, c.arms[0])).toEqual({ beta: 100, lr: 3e-5 }); // its own (the measured SePPO lr)
    expect(armHyperParameters(c, { ...c.arms[0], lr: undefined })).toEqual({ beta: 100, lr: c.lr });
    expect(armHyperParameters({ beta: 7, lr: 0.5 }, { lr: 0.25 })).toEqual({ beta: 7, lr: 0.25 });
  });

  it('sameConfig ignores key order and undefined fields, and nothing else', () => {
    const c = presetConfig('smoke');
    const reordered = JSON.parse(JSON.stringify(c, Object.keys(c).sort()));
    expect(sameConfig({ ...reordered, arms: c.arms.map((a) => ({ ...a, beta: undefined })) }, c)).toBe(true);
    expect(sameConfig({ ...c, seed: c.seed + 1 }, c)).toBe(false);
  });

  it('presets are built from ARM_LIBRARY: an arm differs from its library entry only where its preset says', () => {
    const { colour: _c, ...dpo } = PRESETS.smoke.arms[1];
    expect(dpo).toEqual(ARM_LIBRARY['Diffusion-DPO']);
    const flips = PRESETS['aaf-ablation'].arms.map((a) => [a.method, a.data, a.refStrategy, a.flip]);
    expect(flips).toEqual([['seppo', 'winners', 'random', 'sign'], ['seppo', 'winners', 'random', 'indicator'], ['seppo', 'winners', 'random', 'off']]);
  });
});

describe('a regime per method: the full presets carry the lr sweep\'s choices', () => {
  it('SFT 1e-5, Diffusion-DPO 3e-6, SePPO 3e-5, DDPO 3e-5, D3PO 3e-5 in every full preset; SPO and the smoke and reward-hacking presets keep the experiment lr; an arm\'s own lr wins', () => {
    expect(MEASURED_LR).toEqual({ sft: 1e-5, dpo: 3e-6, seppo: 3e-5, ddpo: 3e-5, d3po: 3e-5 });
    for (const name of ['reference-strategies', 'aaf-ablation', 'table1', 'table2', 'beta-sweep'] as const) {
      for (const a of PRESETS[name].arms) {
        // DDPO and D3PO from runs/ddpo-lr-sweep and runs/d3po-lr-sweep; SPO (sweep confirmed 1e-4) keeps
        // the experiment's lr. Diffusion-RPO inherits Diffusion-DPO's.
        const want = ({ sft: 1e-5, dpo: 3e-6, seppo: 3e-5, rpo: 3e-6, ddpo: 3e-5, d3po: 3e-5 } as Record<string, number | undefined>)[a.method];
        expect(a.lr, `${name}: ${a.name}`).toBe(want);
      }
    }
    expect(PRESETS.smoke.arms.every((a) => a.lr === undefined)).toBe(true);
    expect(PRESETS['reward-hacking'].arms.every((a) => a.lr === undefined)).toBe(true); // hacking was measured at 1e-4
    expect(PROTOCOL_PRESETS.gates.arms.map((a) => a.lr)).toEqual([0, 1e-5, undefined, 3e-6]);
  });
  it('the teaching preset first-look: SePPOʷ and SFTʷ in the regime, the gates\' losers arm at 1e-4, a checkpoint every 15 of 90 updates, per-image metrics on the protocol\'s noise', () => {
    const f = PRESETS['first-look'];
    expect(f.arms.map((a) => [a.method, a.data, a.lr])).toEqual([
      ['seppo', 'winners', 3e-5],
      ['sft', 'winners', 1e-5],
      ['sft', 'losers', 1e-4],
    ]);
    expect(f.lr).toBe(1e-4); // the gates' losers arm ran at the experiment's lr: the same value here
    expect([f.updates, f.checkpointEvery, f.evalPrompts, f.evalSeed, f.keepPerImage]).toEqual([90, 15, 32, 1013, true]);
    expect(f.finalEvalPrompts).toBeUndefined();
  });
});

describe('issue 13: protocol options and presets', async () => {
  const { PROTOCOL, PROTOCOL_PRESETS, PRESETS: P, presetConfig: pc, safeParseExperimentConfig: parse } = await import('./config');
  it('the full presets carry the protocol (≥ 1,024 final images), smoke does not; protocol presets are runner-only', () => {
    for (const k of ['reference-strategies', 'aaf-ablation', 'table1', 'table2', 'beta-sweep'] as const) {
      expect(P[k]).toMatchObject(PROTOCOL);
      expect(P[k].finalEvalPrompts! * P[k].finalEvalNoises!).toBeGreaterThanOrEqual(1024);
    }
    expect(P.smoke.finalEvalPrompts).toBeUndefined();
    expect(P.smoke.evalSeed).toBeUndefined();
    expect(PROTOCOL_PRESETS.gates.arms.map((a) => a.name)).toEqual(['base (fresh noise)', 'SFTʷ', 'SFT on losers', 'Diffusion-DPO']);
    expect(PROTOCOL_PRESETS.gates.arms[0]).toMatchObject({ lr: 0, evalNoise: 'fresh' });
    expect(PROTOCOL_PRESETS['lr-sweep'].evalSplit).toBe('tuning');
    expect(PROTOCOL_PRESETS['lr-sweep'].arms.length).toBe(12);
    expect(pc('gates')).toEqual(PROTOCOL_PRESETS.gates);
    expect(() => pc('nope')).toThrow(/'smoke' \| 'reward-hacking' \| 'first-look' \| 'gates' \| 'lr-sweep'/);
  });
  it('bad protocol values get readable messages', () => {
    const bad = parse({ ...P.smoke, finalEvalNoises: 4, arms: [{ ...P.smoke.arms[0], data: 'losers', method: 'dpo' }] });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.errors).toContain('finalEvalNoises: finalEvalNoises needs finalEvalPrompts (the final evaluation is finalEvalPrompts × finalEvalNoises images)');
      expect(bad.errors).toContain("arms[0].data: method 'dpo' trains on real pairs: data must be 'pairs', got 'losers'");
    }
    const lr = parse({ ...P.smoke, arms: [{ ...P.smoke.arms[0], lr: -1 }] });
    expect(lr.ok).toBe(false);
  });
});

describe('issue 18: the divergence guard', async () => {
  const { PRESETS: P, PRESET_NAMES: names, DIVERGENCE_DEFAULTS, divergenceBounds, safeParseExperimentConfig: parse } = await import('./config');
  it('is optional: no preset sets it, and the defaults apply', () => {
    for (const n of names) {
      expect(P[n].divergence).toBeUndefined();
      expect(divergenceBounds(P[n])).toEqual(DIVERGENCE_DEFAULTS);
    }
  });
  it('takes either bound alone; the other keeps its default', () => {
    const r = parse({ ...P.smoke, divergence: { maxLoss: 50 } });
    expect(r.ok).toBe(true);
    if (r.ok) expect(divergenceBounds(r.config)).toEqual({ maxLoss: 50, maxWinnerErrorRise: DIVERGENCE_DEFAULTS.maxWinnerErrorRise });
  });
  it.each([
    [{ maxLoss: 0 }, 'divergence.maxLoss'],
    [{ maxLoss: -1 }, 'divergence.maxLoss'],
    [{ maxLoss: 'big' }, 'divergence.maxLoss'],
    [{ maxWinnerErrorRise: 0 }, 'divergence.maxWinnerErrorRise'],
    [{ maxWinnerErrorRise: Number.POSITIVE_INFINITY }, 'divergence.maxWinnerErrorRise'],
    [{ maxLos: 1 }, 'maxLos'],
  ])('rejects %j, naming %s', (divergence, path) => {
    const r = parse({ ...P.smoke, divergence });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join('\n')).toContain(path);
  });
});
