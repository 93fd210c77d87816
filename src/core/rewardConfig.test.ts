/** The reward-model arms' options (issue 15): validated, with messages naming the field; existing configs unchanged. */
import { describe, expect, it } from 'vitest';
import { ARM_LIBRARY, D3PO_BETA, MEASURED_LR, PRESETS, PROTOCOL, REWARD_DEFAULTS, RPO_TAU, armHyperParameters, parseExperimentConfig, rpoTauOf, rewardArmOptions, safeParseExperimentConfig, sameConfig, type ArmInput } from './config';

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
    expect(errorsOf({ ...ARM_LIBRARY['SFTʷ'], reward: 'aesthetic' })).toEqual(["arms[0].reward: reward is an option of method 'ddpo' / 'd3po' / 'spo'; method 'sft' does not use it"]);
    expect(errorsOf({ ...ARM_LIBRARY.D3PO, clipRange: 0.1 })).toEqual(["arms[0].clipRange: clipRange is an option of method 'ddpo'; method 'd3po' does not use it"]);
    expect(errorsOf({ ...ARM_LIBRARY.DDPO, preference: 'raters' })).toEqual(["arms[0].preference: preference is an option of method 'd3po'; method 'ddpo' does not use it"]);
  });

  it('existing arms gain no fields (no zod defaults on the new options), so old configs and URLs are unchanged', () => {
    for (const a of PRESETS['aaf-ablation'].arms) for (const k of ['reward', 'clipRange', 'innerEpochs', 'samplesPerPrompt', 'preference']) expect(a).not.toHaveProperty(k);
    const old = { ...base, arms: base.arms.map((a) => ({ ...a })) };
    expect(sameConfig(parseExperimentConfig(old), base)).toBe(true);
  });

  it('table1 gains DDPO, D3PO and SPO after its five arms; reward-hacking trains DDPO on Aesthetic and on PickScore-mini with the protocol', () => {
    expect(PRESETS.table1.arms.map((a) => a.name)).toEqual(['SFTʷ', 'Diffusion-DPO', 'SPIN-like', 'SePPOʳ', 'SePPOʷ', 'DDPO', 'D3PO', 'SPO']);
    expect(PRESETS.table1.arms.length).toBeLessThanOrEqual(12);
    const rh = PRESETS['reward-hacking'];
    expect(rh).toMatchObject(PROTOCOL);
    expect(rh.arms.map((a) => [a.name, a.method, rewardArmOptions(a).reward])).toEqual([
      ['DDPO (Aesthetic)', 'ddpo', 'aesthetic'],
      ['DDPO (PickScore-mini)', 'ddpo', 'pickscore-mini'],
    ]);
  });

  it('SPO: 4 candidates by default, β on D3PO\'s scale; fewer than 2 candidates, more than the batch or the wrong data are named', () => {
    const c = parseExperimentConfig({ ...base, batchSize: 4, arms: [ARM_LIBRARY.SPO] });
    expect(c.arms[0]).toMatchObject({ method: 'spo', data: 'winners', refStrategy: 'init', reward: 'pickscore-mini', spoCandidates: 4 });
    expect(rewardArmOptions({}).spoCandidates).toBe(4);
    expect(armHyperParameters({ beta: 1000, lr: 1e-4 }, { method: 'spo' }).beta).toBe(D3PO_BETA);
    const one = errorsOf({ ...ARM_LIBRARY.SPO, spoCandidates: 1 });
    expect(one).toHaveLength(1);
    expect(one[0]).toMatch(/^arms\[0\]\.spoCandidates: SPO ranks the candidates .* needs at least 2 candidates: got 1$/);
    expect(errorsOf({ ...ARM_LIBRARY.SPO, spoCandidates: 8 })).toEqual([
      'arms[0].spoCandidates: SPO samples ⌊batchSize / spoCandidates⌋ prompts of the batch, spoCandidates candidates per step each: 8 is more than batchSize (4)',
    ]);
    expect(errorsOf({ ...ARM_LIBRARY.SPO, spoCandidates: 2.5 })).toEqual(['arms[0].spoCandidates: expected an integer, got 2.5']);
    expect(errorsOf({ ...ARM_LIBRARY.SPO, data: 'pairs' })).toEqual([
      "arms[0].data: method 'spo' trains on its own samples for the batch's prompts (never the data's images): data must be 'winners', got 'pairs'",
    ]);
    expect(errorsOf({ ...ARM_LIBRARY.SPO, data: 'losers' })[0]).toMatch(/^arms\[0\]\.data: method 'spo' .* data must be 'winners', got 'losers'/);
    expect(errorsOf({ ...ARM_LIBRARY.D3PO, spoCandidates: 3 })).toEqual(["arms[0].spoCandidates: spoCandidates is an option of method 'spo'; method 'd3po' does not use it"]);
  });

  it('Diffusion-RPO: data \'pairs\', τ default RPO_TAU, Diffusion-DPO\'s lr (inherited); τ ≤ 0, wrong data and τ on another method are named', () => {
    const c = parseExperimentConfig({ ...base, batchSize: 4, arms: [ARM_LIBRARY['Diffusion-RPO']] });
    expect(c.arms[0]).toMatchObject({ method: 'rpo', data: 'pairs', refStrategy: 'init', flip: 'off', lr: MEASURED_LR.dpo });
    expect(rpoTauOf(c.arms[0])).toBe(RPO_TAU);
    expect(rpoTauOf({ rpoTau: 0.5 })).toBe(0.5);
    expect(armHyperParameters({ beta: 1000, lr: 1e-4 }, c.arms[0]).beta).toBe(1000); // Diffusion-DPO's β scale
    for (const tau of [0, -1]) {
      expect(errorsOf({ ...ARM_LIBRARY['Diffusion-RPO'], rpoTau: tau })).toEqual([
        `arms[0].rpoTau: Diffusion-RPO's temperature τ divides the prompt similarity in a softmax (ω_ij = exp(S_ij/τ) / Σ_j' exp(S_ij'/τ)): it must be > 0 (a small τ is Diffusion-DPO), got ${tau}`,
      ]);
    }
    expect(errorsOf({ ...ARM_LIBRARY['Diffusion-RPO'], data: 'winners' })).toEqual(["arms[0].data: method 'rpo' trains on real pairs: data must be 'pairs', got 'winners'"]);
    expect(errorsOf({ ...ARM_LIBRARY['SePPOʷ'], data: 'pairs' })).toEqual(["arms[0].data: data 'pairs' is for methods 'dpo' and 'rpo'; method 'seppo' takes 'winners', 'random' or 'losers'"]);
    expect(errorsOf({ ...ARM_LIBRARY['Diffusion-DPO'], rpoTau: 0.1 })).toEqual(["arms[0].rpoTau: rpoTau is an option of method 'rpo'; method 'dpo' does not use it"]);
  });

  it('table2: SFTʷ, Diffusion-DPO, Diffusion-RPO, SPO, SPIN-like, SePPOʷ with the protocol and the out-of-distribution final evaluation (the recorded runs/table2-v3 settings)', () => {
    const t2 = PRESETS.table2;
    expect(t2.arms.map((a) => [a.name, a.method])).toEqual([
      ['SFTʷ', 'sft'],
      ['Diffusion-DPO', 'dpo'],
      ['Diffusion-RPO', 'rpo'],
      ['SPO', 'spo'],
      ['SPIN-like', 'seppo'],
      ['SePPOʷ', 'seppo'],
    ]);
    expect(t2).toMatchObject({ ...PROTOCOL, finalEvalOod: true, updates: 210, checkpointEvery: 30, batchSize: 16 });
    expect(t2.arms.map((a) => a.lr)).toEqual([1e-5, 3e-6, 3e-6, undefined, 3e-5, 3e-5]);
  });
});
