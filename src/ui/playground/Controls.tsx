/**
 * Experiment controls: preset, every knob of the config (seed included) and the arms table (add,
 * remove, edit; AAF, reference strategy, β and learning rate per arm; the reward model and the DDPO / D3PO /
 * SPO options of the reward-model arms; Diffusion-RPO's τ). Edits are validated through config.ts (the one
 * schema); an invalid edit shows what is wrong and changes nothing that is running.
 */
import { useEffect, useState } from 'react';
import {
  ARM_DATA,
  ARM_LIBRARY,
  ARM_METHODS,
  FLIP_VARIANTS,
  PREFERENCE_SOURCES,
  REWARD_DEFAULTS,
  REWARD_MODELS,
  REWARD_OPTION_METHODS,
  RPO_TAU,
  isPairMethod,
  armHyperParameters,
  isRewardMethod,
  PRESET_DESCRIPTIONS,
  PRESET_NAMES,
  REF_STRATEGIES,
  type ArmConfig,
  type ExperimentConfig,
} from '../../core/config';
import { PALETTE, armColour } from './colours';

/** The numeric knobs (the protocol's options of issue 13 are set by presets and config files, not here). */
type Knob = { [K in keyof ExperimentConfig]-?: ExperimentConfig[K] extends number ? (K extends 'evalSeed' | 'finalEvalPrompts' | 'finalEvalNoises' | 'probePairs' ? never : K) : never }[keyof ExperimentConfig];

export const KNOBS: { key: Knob; label: string; help: string; int: boolean; min: number; max: number; step?: number }[] = [
  { key: 'seed', label: 'Seed', help: 'one seed fixes initial copies, data order, timesteps, noise and evaluation noise for every arm', int: true, min: 0, max: 2 ** 31 - 1 },
  { key: 'updates', label: 'Updates', help: 'total updates per arm', int: true, min: 1, max: 100000 },
  { key: 'checkpointEvery', label: 'Checkpoint every N', help: 'save θ_k to the reference pool and evaluate every N updates', int: true, min: 1, max: 100000 },
  { key: 'maxCheckpoints', label: 'Pool size K', help: 'at most K checkpoints kept; θ₀ always stays', int: true, min: 1, max: 64 },
  { key: 'beta', label: 'β', help: 'strength of the preference term (see the explanation)', int: false, min: 1e-3, max: 1e7 },
  { key: 'lr', label: 'Learning rate', help: 'Adam learning rate (arms may override)', int: false, min: 1e-8, max: 1, step: 1e-5 },
  { key: 'batchSize', label: 'Batch size', help: 'pairs per update', int: true, min: 1, max: 256 },
  { key: 'dataSize', label: 'Training pairs', help: 'the first n pairs of the train split', int: true, min: 2, max: 100000 },
  { key: 'dataSeed', label: 'Data seed', help: 'the Pick-a-Shape dataset the base model and scorers were trained on', int: true, min: 0, max: 2 ** 31 - 1 },
  { key: 'refSteps', label: 'Reference DDIM steps', help: 'sampling steps for the on-policy reference samples x^l', int: true, min: 1, max: 200 },
  { key: 'refGuidance', label: 'Reference guidance', help: 'classifier-free guidance scale of reference sampling (1 = none)', int: false, min: 0, max: 30, step: 0.5 },
  { key: 'refRegenerateEvery', label: 'Regenerate x^l every', help: 'reuse an item\'s reference sample for this many updates (1 = fully on-policy)', int: true, min: 1, max: 100000 },
  { key: 'evalPrompts', label: 'Evaluation prompts', help: 'fixed prompts, the same for every arm and checkpoint', int: true, min: 1, max: 1024 },
  { key: 'evalSteps', label: 'Evaluation DDIM steps', help: 'sampling steps for the evaluation images', int: true, min: 1, max: 500 },
  { key: 'evalGuidance', label: 'Evaluation guidance', help: 'guidance scale of the evaluation images', int: false, min: 0, max: 30, step: 0.5 },
];

/** A number input that commits on blur or Enter (not on every keystroke: each commit restarts the run). */
export function NumberField({
  label,
  value,
  onCommit,
  help,
  testId,
  placeholder,
  optional,
  disabled,
  compact,
}: {
  label: string;
  value: number | undefined;
  onCommit: (v: number | undefined) => void;
  help?: string;
  testId?: string;
  placeholder?: string;
  optional?: boolean;
  disabled?: boolean;
  compact?: boolean;
}) {
  const [text, setText] = useState(value === undefined ? '' : String(value));
  useEffect(() => setText(value === undefined ? '' : String(value)), [value]);
  const commit = () => {
    const t = text.trim();
    if (t === '' && optional) {
      onCommit(undefined);
      return;
    }
    const v = Number(t);
    if (t === '' || !Number.isFinite(v)) {
      onCommit(Number.NaN);
      return;
    }
    onCommit(v); // the caller ignores an unchanged config (and clears an earlier error)
  };
  const input = (
    <input
      type="text"
      inputMode="decimal"
      aria-label={label}
      title={help}
      value={text}
      placeholder={placeholder}
      disabled={disabled}
      data-testid={testId}
      onChange={(e) => setText(e.target.value)}
      onBlur={commit}
      onKeyDown={(e) => {
        if (e.key === 'Enter') commit();
        if (e.key === 'Escape') setText(value === undefined ? '' : String(value));
      }}
    />
  );
  if (compact) return input;
  return (
    <label className="pg-knob" title={help}>
      <span>{label}</span>
      {input}
    </label>
  );
}

function uniqueName(base: string, taken: string[]): string {
  if (!taken.includes(base)) return base;
  for (let i = 2; ; i++) if (!taken.includes(`${base} ${i}`)) return `${base} ${i}`;
}

export function Controls({
  config,
  preset,
  onPreset,
  onChange,
  errors,
  disabled,
}: {
  config: ExperimentConfig;
  preset: string;
  onPreset: (name: string) => void;
  /** A new candidate config (validated by the caller). */
  onChange: (next: ExperimentConfig) => void;
  errors: string[];
  disabled: boolean;
}) {
  const [addPick, setAddPick] = useState<string>(Object.keys(ARM_LIBRARY)[0]);
  const setKnob = (k: Knob, v: number | undefined) => onChange({ ...config, [k]: v as number });
  const setArm = (i: number, patch: Partial<ArmConfig>) => {
    const arms = config.arms.map((a, j) => (j === i ? fixData({ ...a, ...patch }, patch) : a));
    onChange({ ...config, arms });
  };
  const removeArm = (i: number) => onChange({ ...config, arms: config.arms.filter((_, j) => j !== i) });
  const addArm = () => {
    const lib = ARM_LIBRARY[addPick as keyof typeof ARM_LIBRARY];
    const taken = config.arms.map((a) => a.name);
    const used = new Set(config.arms.map((a, i) => armColour(a, i)));
    const colour = PALETTE.find((c) => !used.has(c)) ?? PALETTE[config.arms.length % PALETTE.length];
    onChange({ ...config, arms: [...config.arms, { ...lib, name: uniqueName(lib.name, taken), colour }] });
  };

  return (
    <div className="pg-controls-inner">
      <label className="pg-knob pg-preset">
        <span>Preset</span>
        <select aria-label="Preset" value={preset} disabled={disabled} onChange={(e) => onPreset(e.target.value)} data-testid="pg-preset">
          {preset === 'custom' && <option value="custom">custom</option>}
          {PRESET_NAMES.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </select>
      </label>
      {preset !== 'custom' && <p className="pg-hint">{PRESET_DESCRIPTIONS[preset as keyof typeof PRESET_DESCRIPTIONS]}</p>}

      <h3 className="pg-h3">Arms</h3>
      <div className="pg-arms" aria-label="Arms" role="list">
        {config.arms.map((a, i) => {
          const noRef = a.method === 'sft' || a.method === 'ddpo';
          const fixedFlip = a.method !== 'seppo';
          const rewardArm = isRewardMethod(a.method);
          return (
            <div key={i} className="pg-arm" role="listitem" data-testid={`pg-arm-row-${i}`} style={{ borderLeftColor: armColour(a, i) }}>
              <div className="pg-arm-top">
                <span className="pg-swatch" style={{ background: armColour(a, i) }} aria-hidden="true" />
                <ArmNameInput name={a.name} index={i} disabled={disabled} onCommit={(name) => setArm(i, { name })} />
                <button type="button" className="pg-icon-btn" aria-label={`Remove arm ${a.name}`} title="Remove this arm" disabled={disabled || config.arms.length <= 1} onClick={() => removeArm(i)}>
                  ×
                </button>
              </div>
              <div className="pg-arm-fields">
                <label title="seppo: SePPO loss with reference samples; sft: denoising on training images; dpo: Diffusion-DPO on real losers; rpo: Diffusion-RPO, Diffusion-DPO over every winner × loser of the batch weighted by prompt similarity; ddpo: DDPO policy gradient on a reward model; d3po: DPO on the arm's own trajectory pairs ranked by a reward model or the raters; spo: DPO per denoising step on the best vs worst of several candidates from one x_t, ranked by a reward model on the predicted x̂₀">
                  <span>Method</span>
                  <select aria-label={`Method of arm ${a.name}`} value={a.method} disabled={disabled} onChange={(e) => setArm(i, { method: e.target.value as ArmConfig['method'] })}>
                    {ARM_METHODS.map((m) => (
                      <option key={m} value={m}>
                        {m}
                      </option>
                    ))}
                  </select>
                </label>
                <label title={rewardArm ? `${a.method} trains on its own samples for the batch's prompts: the data's images are not used` : 'training images: winners, a seeded random pick of winner or loser, or real pairs (dpo, rpo)'}>
                  <span>Data</span>
                  <select aria-label={`Data of arm ${a.name}`} value={a.data} disabled={disabled || rewardArm} onChange={(e) => setArm(i, { data: e.target.value as ArmConfig['data'] })}>
                    {ARM_DATA.map((m) => (
                      <option key={m} value={m}>
                        {m}
                      </option>
                    ))}
                  </select>
                </label>
                <label title={noRef ? `${a.method === 'sft' ? 'SFT' : 'DDPO'} has no reference model` : 'reference model: θ₀ (init), θ_{k−1} (latest) or uniform over θ₀…θ_{k−1} (random)'}>
                  <span>Reference</span>
                  <select aria-label={`Reference strategy of arm ${a.name}`} value={a.refStrategy} disabled={disabled || noRef} onChange={(e) => setArm(i, { refStrategy: e.target.value as ArmConfig['refStrategy'] })}>
                    {REF_STRATEGIES.map((m) => (
                      <option key={m} value={m}>
                        {m}
                      </option>
                    ))}
                  </select>
                </label>
                <label title={fixedFlip ? `${a.method} has no flipper: every reference sample is a loser` : 'Anchor-based Adaptive Flipper'}>
                  <span>AAF</span>
                  <select aria-label={`AAF of arm ${a.name}`} value={a.flip} disabled={disabled || fixedFlip} onChange={(e) => setArm(i, { flip: e.target.value as ArmConfig['flip'] })}>
                    {FLIP_VARIANTS.map((m) => (
                      <option key={m} value={m}>
                        {m}
                      </option>
                    ))}
                  </select>
                </label>
                <label title="this arm's β (empty: the experiment's β)">
                  <span>β</span>
                  <NumberField compact optional label={`β of arm ${a.name}`} value={a.beta} placeholder={String(armHyperParameters(config, { ...a, beta: undefined }).beta)} disabled={disabled} onCommit={(v) => setArm(i, { beta: v })} />
                </label>
                <label title="this arm's Adam learning rate, 0 … 1 (empty: the experiment's learning rate)">
                  <span>lr</span>
                  <NumberField compact optional label={`Learning rate of arm ${a.name}`} value={a.lr} placeholder={String(armHyperParameters(config, { ...a, lr: undefined }).lr)} disabled={disabled} onCommit={(v) => setArm(i, { lr: v })} />
                </label>
                <label title="EMA of this arm's weights, decay per update 0 … 0.9999 (e.g. 0.95 ≈ the last 20 updates): evaluations score the average (empty: the raw weights)">
                  <span>EMA</span>
                  <NumberField compact optional label={`EMA decay of arm ${a.name}`} value={a.ema} placeholder="off" disabled={disabled} onCommit={(v) => setArm(i, { ema: v })} />
                </label>
                {rewardArm && (
                  <label title="the reward model this arm optimises (never the true preference, which is only measured)">
                    <span>Reward</span>
                    <select aria-label={`Reward model of arm ${a.name}`} value={a.reward ?? REWARD_DEFAULTS.reward} disabled={disabled} onChange={(e) => setArm(i, { reward: e.target.value as ArmConfig['reward'] })}>
                      {REWARD_MODELS.map((m) => (
                        <option key={m} value={m}>
                          {m}
                        </option>
                      ))}
                    </select>
                  </label>
                )}
                {a.method === 'ddpo' && (
                  <>
                    <label title="DDPO: the importance ratio is clipped to [1 − δ, 1 + δ] (empty: the default)">
                      <span>clip δ</span>
                      <NumberField compact optional label={`Clip range of arm ${a.name}`} value={a.clipRange} placeholder={String(REWARD_DEFAULTS.clipRange)} disabled={disabled} onCommit={(v) => setArm(i, { clipRange: v })} />
                    </label>
                    <label title="DDPO: optimiser steps on each batch of samples (the ratio is 1 at the first, so the clip can bind from the second)">
                      <span>inner epochs</span>
                      <NumberField compact optional label={`Inner epochs of arm ${a.name}`} value={a.innerEpochs} placeholder={String(REWARD_DEFAULTS.innerEpochs)} disabled={disabled} onCommit={(v) => setArm(i, { innerEpochs: v })} />
                    </label>
                    <label title="DDPO: samples per prompt, at least 2 (advantages are normalised within a prompt's samples)">
                      <span>samples / prompt</span>
                      <NumberField compact optional label={`Samples per prompt of arm ${a.name}`} value={a.samplesPerPrompt} placeholder={String(REWARD_DEFAULTS.samplesPerPrompt)} disabled={disabled} onCommit={(v) => setArm(i, { samplesPerPrompt: v })} />
                    </label>
                  </>
                )}
                {a.method === 'spo' && (
                  <label title="SPO: candidates x_{t−1} drawn from each x_t, at least 2 (the best and the worst are the step's pair); ⌊batch / candidates⌋ prompts per update">
                    <span>candidates</span>
                    <NumberField compact optional label={`Candidates per step of arm ${a.name}`} value={a.spoCandidates} placeholder={String(REWARD_DEFAULTS.spoCandidates)} disabled={disabled} onCommit={(v) => setArm(i, { spoCandidates: v })} />
                  </label>
                )}
                {a.method === 'rpo' && (
                  <label title="Diffusion-RPO: temperature τ > 0 of the softmax over prompt similarity (small: Diffusion-DPO; large: every loser of the batch alike)">
                    <span>τ</span>
                    <NumberField compact optional label={`RPO temperature of arm ${a.name}`} value={a.rpoTau} placeholder={String(RPO_TAU)} disabled={disabled} onCommit={(v) => setArm(i, { rpoTau: v })} />
                  </label>
                )}
                {a.method === 'd3po' && (
                  <label title="D3PO: what ranks the two samples of a prompt: the reward model, or the world's simulated raters">
                    <span>Preference</span>
                    <select aria-label={`Preference source of arm ${a.name}`} value={a.preference ?? REWARD_DEFAULTS.preference} disabled={disabled} onChange={(e) => setArm(i, { preference: e.target.value as ArmConfig['preference'] })}>
                      {PREFERENCE_SOURCES.map((m) => (
                        <option key={m} value={m}>
                          {m}
                        </option>
                      ))}
                    </select>
                  </label>
                )}
              </div>
            </div>
          );
        })}
      </div>
      <div className="pg-add-arm">
        <select aria-label="Arm to add" value={addPick} disabled={disabled} onChange={(e) => setAddPick(e.target.value)}>
          {Object.keys(ARM_LIBRARY).map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
        <button type="button" onClick={addArm} disabled={disabled || config.arms.length >= 12}>
          Add arm
        </button>
      </div>

      <h3 className="pg-h3">Knobs</h3>
      <div className="pg-knobs">
        {KNOBS.map((k) => (
          <NumberField key={k.key} label={k.label} help={k.help} value={config[k.key]} disabled={disabled} testId={`pg-knob-${k.key}`} onCommit={(v) => setKnob(k.key, v)} />
        ))}
      </div>
      {errors.length > 0 && (
        <div className="notice notice-error pg-errors" role="alert" data-testid="pg-config-errors">
          <strong>Not applied:</strong>
          <ul>
            {errors.map((e) => (
              <li key={e}>{e}</li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

/** Options only some methods take: dropped when the method changes to one that does not (config.ts rejects them there). */
const METHOD_OPTIONS = REWARD_OPTION_METHODS;

/**
 * Keeps method and data consistent when the method changes (dpo and rpo train on pairs, the reward arms on
 * their own samples with data 'winners', the others on winners), and drops options the new method does not take.
 */
export function fixData(a0: ArmConfig, patch: Partial<ArmConfig>): ArmConfig {
  if (!patch.method) return a0;
  const a = { ...a0 };
  for (const [k, methods] of Object.entries(METHOD_OPTIONS)) if (!methods.includes(a.method)) delete (a as Record<string, unknown>)[k];
  if (isRewardMethod(a.method)) return { ...a, data: 'winners', refStrategy: 'init', flip: 'off' };
  if (isPairMethod(a.method)) return { ...a, data: 'pairs', refStrategy: 'init', flip: 'off' };
  if (a.data === 'pairs') return { ...a, data: 'winners', ...(a.method === 'sft' ? { flip: 'off' as const } : {}) };
  if (a.method === 'sft') return { ...a, flip: 'off' };
  return a;
}

function ArmNameInput({ name, index, disabled, onCommit }: { name: string; index: number; disabled: boolean; onCommit: (n: string) => void }) {
  const [text, setText] = useState(name);
  useEffect(() => setText(name), [name]);
  const commit = () => onCommit(text);
  return (
    <input
      type="text"
      aria-label={`Name of arm ${index + 1}`}
      value={text}
      disabled={disabled}
      onChange={(e) => setText(e.target.value)}
      onBlur={commit}
      onKeyDown={(e) => e.key === 'Enter' && commit()}
    />
  );
}
