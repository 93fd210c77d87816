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
});
