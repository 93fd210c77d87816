/** The reward-model arms' options (issue 15): validated, with messages naming the field; existing configs unchanged. */
import { describe, expect, it } from 'vitest';
import { ARM_LIBRARY, PRESETS, PROTOCOL, REWARD_DEFAULTS, parseExperimentConfig, rewardArmOptions, safeParseExperimentConfig, sameConfig, type ArmInput } from './config';

const base = PRESETS.smoke;
const errorsOf = (arm: ArmInput, over: Record<string, unknown> = {}) => {
  const r = safeParseExperimentConfig({ ...base, batchSize: 4, ...over, arms: [arm] });
  return r.ok ? [] : r.errors;
};

describe('reward-model arm options', () => {
  it('the library entries validate and resolve their defaults', () => {
    const c = parseExperimentConfig({ ...base, batchSize: 4, arms: [ARM_LIBRARY.DDPO, ARM_LIBRARY.D3PO] });
    expect(rewardArmOptions(c.arms[0])).toEqual({ ...REWARD_DEFAULTS });
    expect(c.arms[1]).toMatchObject({ method: 'd3po', beta: 0.1, refStrategy: 'init' });
    expect(rewardArmOptions({ reward: 'aesthetic', samplesPerPrompt: 3 })).toMatchObject({ reward: 'aesthetic', samplesPerPrompt: 3, clipRange: REWARD_DEFAULTS.clipRange });
  });

  it('rejects bad options with a message naming the field', () => {
    expect(errorsOf({ ...ARM_LIBRARY.DDPO, reward: 'trueUtility' } as unknown as ArmInput)).toEqual([
      "arms[0].reward: expected one of 'pickscore-mini' | 'hps-mini' | 'aesthetic' | 'alignment', got 'trueUtility'",
    ]);
    const one = errorsOf({ ...ARM_LIBRARY.DDPO, samplesPerPrompt: 1 });
    expect(one).toHaveLength(1);
    expect(one[0]).toMatch(/^arms\[0\]\.samplesPerPrompt: DDPO normalises advantages per prompt .* at least 2 samples per prompt: with 1 every advantage is 0/);
    expect(errorsOf({ ...ARM_LIBRARY.DDPO, samplesPerPrompt: 8 })[0]).toMatch(/^arms\[0\]\.samplesPerPrompt: .*8 is more than batchSize \(4\)/);
    expect(errorsOf({ ...ARM_LIBRARY.DDPO }, { batchSize: 2 })[0]).toMatch(/samplesPerPrompt: .*4 is more than batchSize \(2\)/); // the default, 4
    expect(errorsOf({ ...ARM_LIBRARY.DDPO, samplesPerPrompt: 2.5 })).toEqual(['arms[0].samplesPerPrompt: expected an integer, got 2.5']);
    expect(errorsOf({ ...ARM_LIBRARY.DDPO, clipRange: 0 })).toEqual(['arms[0].clipRange: value must be at least 1e-8, got 0']);
    expect(errorsOf({ ...ARM_LIBRARY.DDPO, innerEpochs: 0 })).toEqual(['arms[0].innerEpochs: value must be at least 1, got 0']);
    expect(errorsOf({ ...ARM_LIBRARY.D3PO, preference: 'humans' } as unknown as ArmInput)).toEqual(["arms[0].preference: expected one of 'reward' | 'raters', got 'humans'"]);
    expect(errorsOf({ ...ARM_LIBRARY.DDPO, data: 'pairs' })).toEqual([
      "arms[0].data: method 'ddpo' trains on its own samples for the batch's prompts (never the data's images): data must be 'winners', got 'pairs'",
    ]);
    expect(errorsOf({ ...ARM_LIBRARY.D3PO }, { batchSize: 1, dataSize: 8 })[0]).toMatch(/^arms\[0\]\.method: D3PO samples two trajectories .* batchSize must be at least 2, got 1/);
  });

  it('an option of another method is an error, not silently ignored', () => {
    expect(errorsOf({ ...ARM_LIBRARY['SFTʷ'], reward: 'aesthetic' })).toEqual(["arms[0].reward: reward is an option of method 'ddpo' / 'd3po'; method 'sft' does not use it"]);
    expect(errorsOf({ ...ARM_LIBRARY.D3PO, clipRange: 0.1 })).toEqual(["arms[0].clipRange: clipRange is an option of method 'ddpo'; method 'd3po' does not use it"]);
    expect(errorsOf({ ...ARM_LIBRARY.DDPO, preference: 'raters' })).toEqual(["arms[0].preference: preference is an option of method 'd3po'; method 'ddpo' does not use it"]);
  });

  it('existing arms gain no fields (no zod defaults on the new options), so old configs and URLs are unchanged', () => {
    for (const a of PRESETS['aaf-ablation'].arms) for (const k of ['reward', 'clipRange', 'innerEpochs', 'samplesPerPrompt', 'preference']) expect(a).not.toHaveProperty(k);
    const old = { ...base, arms: base.arms.map((a) => ({ ...a })) };
    expect(sameConfig(parseExperimentConfig(old), base)).toBe(true);
  });

  it('table1 gains DDPO and D3PO after its five arms; reward-hacking trains DDPO on Aesthetic and on PickScore-mini with the protocol', () => {
    expect(PRESETS.table1.arms.map((a) => a.name)).toEqual(['SFTʷ', 'Diffusion-DPO', 'SPIN-like', 'SePPOʳ', 'SePPOʷ', 'DDPO', 'D3PO']);
    const rh = PRESETS['reward-hacking'];
    expect(rh).toMatchObject(PROTOCOL);
    expect(rh.arms.map((a) => [a.name, a.method, rewardArmOptions(a).reward])).toEqual([
      ['DDPO (Aesthetic)', 'ddpo', 'aesthetic'],
      ['DDPO (PickScore-mini)', 'ddpo', 'pickscore-mini'],
    ]);
  });
});
