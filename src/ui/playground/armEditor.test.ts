/** The arm editor's method switch keeps an arm valid: reward arms get their fixed fields, foreign options are dropped. */
import { describe, expect, it } from 'vitest';
import { ARM_LIBRARY, PRESETS, safeParseExperimentConfig, type ArmConfig } from '../../core/config';
import { fixData } from './Controls';

const valid = (a: ArmConfig) => safeParseExperimentConfig({ ...PRESETS.smoke, batchSize: 4, arms: [a] });
const parsed = (a: object) => {
  const r = safeParseExperimentConfig({ ...PRESETS.smoke, batchSize: 4, arms: [a] });
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.config.arms[0];
};

describe('arm editor: changing the method', () => {
  it('SePPO → ddpo → d3po → seppo stays valid at every step', () => {
    const seppo = parsed(ARM_LIBRARY['SePPOʷ']);
    const ddpo = fixData({ ...seppo, method: 'ddpo' }, { method: 'ddpo' });
    expect(ddpo).toMatchObject({ method: 'ddpo', data: 'winners', refStrategy: 'init', flip: 'off' });
    expect(valid(ddpo).ok).toBe(true);
    const tuned = { ...ddpo, reward: 'aesthetic' as const, clipRange: 0.3, samplesPerPrompt: 2 };
    const d3po = fixData({ ...tuned, method: 'd3po' }, { method: 'd3po' });
    expect(d3po).not.toHaveProperty('clipRange');
    expect(d3po).not.toHaveProperty('samplesPerPrompt');
    expect(d3po.reward).toBe('aesthetic'); // both reward methods take a reward model
    expect(valid({ ...d3po, preference: 'raters' }).ok).toBe(true);
    const back = fixData({ ...d3po, preference: 'raters', method: 'seppo' }, { method: 'seppo' });
    expect(back).not.toHaveProperty('reward');
    expect(back).not.toHaveProperty('preference');
    expect(valid(back).ok).toBe(true);
    const dpo = fixData({ ...tuned, method: 'dpo' }, { method: 'dpo' });
    expect(dpo).toMatchObject({ data: 'pairs' });
    expect(valid(dpo).ok).toBe(true);
  });

  it('→ rpo takes pairs and keeps τ; → spo takes winners and its candidates; switching away drops both', () => {
    const seppo = parsed(ARM_LIBRARY['SePPOʷ']);
    const rpo = fixData({ ...seppo, method: 'rpo' }, { method: 'rpo' });
    expect(rpo).toMatchObject({ method: 'rpo', data: 'pairs', refStrategy: 'init', flip: 'off' });
    expect(valid({ ...rpo, rpoTau: 0.1 }).ok).toBe(true);
    const spo = fixData({ ...rpo, rpoTau: 0.1, method: 'spo' }, { method: 'spo' });
    expect(spo).toMatchObject({ method: 'spo', data: 'winners', refStrategy: 'init', flip: 'off' });
    expect(spo).not.toHaveProperty('rpoTau');
    expect(valid({ ...spo, spoCandidates: 2, reward: 'hps-mini' }).ok).toBe(true);
    const dpo = fixData({ ...spo, spoCandidates: 2, reward: 'hps-mini', method: 'dpo' }, { method: 'dpo' });
    expect(dpo).not.toHaveProperty('spoCandidates');
    expect(dpo).not.toHaveProperty('reward');
    expect(valid(dpo).ok).toBe(true);
  });

  it('every ARM_LIBRARY entry (each method, Diffusion-RPO and SPO included) can be added as it is', () => {
    const methods = new Set(Object.values(ARM_LIBRARY).map((a) => a.method));
    expect([...methods].sort()).toEqual(['d3po', 'ddpo', 'dpo', 'rpo', 'seppo', 'sft', 'spo']);
    for (const a of Object.values(ARM_LIBRARY)) expect(valid({ ...a } as ArmConfig).ok, a.name).toBe(true);
  });
});
