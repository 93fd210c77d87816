/**
 * The records of an alignment run, as plain data: what one arm did in one update, what it measured
 * at a checkpoint (with the per-image evaluations that paired intervals need), what one step of
 * the experiment returns, and the serialisable results. No tfjs and no DOM: the worker protocol,
 * the report and the page import these types without loading the engine.
 */
import type { ArmConfig, ExperimentConfig } from '../config';
import type { PairedComparison, MetricColumns } from '../eval/intervals';
import type { AafConfusion, LossDiagnostics } from './diagnostics';

/** Metric name → value (the evaluator's keys; eval/metrics.ts's ImageMetrics for the shipped evaluator). */
export type Metrics = Record<string, number>;

/** One model's evaluation on the fixed prompts and noise: per image, the mean, and (optionally) the images. */
export interface EvalResult {
  perImage: Metrics[];
  mean: Metrics;
  images?: Float32Array[];
}

/** What one arm did in one update. Fields that do not apply to the arm's method are null. */
export interface UpdateRecord extends Omit<LossDiagnostics, 'mL' | 'rW' | 'rL' | 'rewardW' | 'rewardL' | 'margin' | 'insideHist' | 'accByTBucket' | 'flippedShare'> {
  arm: string;
  /** Updates done so far by this arm, 1-based (the x axis). */
  update: number;
  loss: number;
  implicitAcc: number | null;
  aafRate: number | null;
  mL: number | null;
  rW: number | null;
  rL: number | null;
  rewardW: number | null;
  rewardL: number | null;
  margin: number | null;
  insideHist: number[] | null;
  accByTBucket: (number | null)[] | null;
  flippedShare: number | null;
  /** k of the reference checkpoint θ_k used (null for SFT). */
  refK: number | null;
  /** Wall time of this arm's update, reference sampling included, and of the sampling alone. */
  ms: number;
  refMs: number;
  /** With `aafSkill` (SePPO arms): this update's AAF decisions against the decoded true utilities, and the wall time of that check. */
  aafSkill?: AafConfusion;
  skillMs?: number;
  /** Reward arms (DDPO, D3PO): the mean reward-model score of this update's own samples, and which reward model. */
  trainReward?: number;
  rewardModel?: string;
  /** DDPO: the share of (trajectory, step) whose ratio the clip bound (mean over the inner epochs) and the largest |ρ − 1|. */
  clipFrac?: number;
  ratioMaxDev?: number;
  /** D3PO and SPO: mean |inside| (β times the log-ratio margin, per step), and with preference 'raters' the pairs the raters called a tie (dropped). */
  insideAbs?: number;
  raterTies?: number;
  /** SPO: the mean, over its steps and prompts, of the best minus the worst candidate's step-aware score (how decisive the ranking was). */
  spoScoreGap?: number;
  /** Diffusion-RPO: the mean weight ω_ii a winner puts on its own loser (1: Diffusion-DPO; 1/B: every loser alike). */
  rpoSelfWeight?: number;
}

/** The likelihood-displacement probe at a checkpoint: error on the fixed probe set relative to θ₀ (ratio − 1). */
export interface ProbeRecord {
  winners: number;
  losers: number;
  /** The winners' error rose past +5 %. */
  flagged: boolean;
}

/** The final evaluation of a model on finalEvalPrompts × finalEvalNoises paired (prompt, noise) images. */
export interface FinalEvalRecord {
  /** The update evaluated (the last), prompts and noises per prompt, images n = prompts × noises. */
  update: number;
  prompts: number;
  noises: number;
  n: number;
  split: 'validation' | 'tuning' | 'oodComposition' | 'oodRaters';
  mean: Metrics;
  /** Per image (image i: prompt i mod prompts, noise i), as columns per metric. */
  perImage: MetricColumns;
  /** Against the base on the same images (null for the base itself): win rate with its Wilson interval and Δ with its paired t-interval, per metric. */
  vsBase: Record<string, PairedComparison> | null;
  ms: number;
}

export interface CheckpointRecord {
  arm: string;
  update: number;
  /** k of the snapshot saved to the pool at this checkpoint (null when the arm's strategy never needs it). */
  savedK: number | null;
  /** Mean metrics over the evaluation prompts (null without an evaluator). */
  metrics: Metrics | null;
  /** Per metric: share of evaluation prompts where this arm beats the base (ties count ½). */
  winRate: Metrics | null;
  poolCheckpoints: number;
  poolBytes: number;
  ms: number;
  /** Per-image metrics of this evaluation, in prompt order (paired with the base's); none without an evaluator. Serialised by `results()` (as columns) only with `keepPerImage`. */
  perImage?: Metrics[];
  /** With `probePairs`: the likelihood-displacement probe. */
  probe?: ProbeRecord;
  /** The evaluation images (same noise for every arm), for sample grids; not serialised by `results()`. */
  images?: Float32Array[];
}

/**
 * Reward hacking, per checkpoint of a reward-trained arm (issue 15): the training reward (mean reward-model
 * score of the arm's own samples since the last checkpoint) beside the true preference measured at it.
 */
export interface RewardTracePoint {
  update: number;
  /** The reward model it trains on ('pickscore-mini', …). */
  reward: string;
  trainReward: number;
  /** Mean true utility at this checkpoint's evaluation (null without an evaluator). */
  truePreference: number | null;
}

/**
 * The reward trace of a reward-trained arm: at each checkpoint, the mean training reward of the updates
 * since the previous checkpoint (those with a `trainReward`) and the checkpoint's mean true utility.
 */
export function rewardTrace(updates: readonly Pick<UpdateRecord, 'update' | 'trainReward'>[], checkpoints: readonly Pick<CheckpointRecord, 'update' | 'metrics'>[], reward: string): RewardTracePoint[] {
  const out: RewardTracePoint[] = [];
  let prev = 0;
  for (const cp of checkpoints) {
    const rs = updates.filter((u) => u.update > prev && u.update <= cp.update && u.trainReward !== undefined).map((u) => u.trainReward!);
    prev = cp.update;
    if (rs.length === 0) continue;
    const tu = cp.metrics?.trueUtility;
    out.push({ update: cp.update, reward, trainReward: rs.reduce((a, b) => a + b, 0) / rs.length, truePreference: tu === undefined ? null : tu });
  }
  return out;
}

/** Indices i ≥ 1 of a trace where the training reward rose and the true preference fell since point i − 1: the marked points of the chart. */
export function rewardHackingPoints(trace: readonly RewardTracePoint[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < trace.length; i++) {
    const a = trace[i - 1];
    const b = trace[i];
    if (a.truePreference === null || b.truePreference === null) continue;
    if (b.trainReward > a.trainReward && b.truePreference < a.truePreference) out.push(i);
  }
  return out;
}

/** A checkpoint as `results()` serialises it: without its images; per-image metrics as columns with `keepPerImage` only. */
export type SerialisedCheckpoint = Omit<CheckpointRecord, 'images' | 'perImage'> & { perImage?: MetricColumns };

export interface StepResult {
  update: number;
  records: UpdateRecord[];
  checkpoints: CheckpointRecord[];
  halted: { arm: string; message: string }[];
}

export interface ArmSummary {
  name: string;
  config: ArmConfig;
  beta: number;
  lr: number;
  halted: string | null;
  updates: number;
}

/** One arm in the serialisable results. */
export interface ArmResults {
  name: string;
  config: ArmConfig;
  beta: number;
  lr: number;
  halted: string | null;
  updates: UpdateRecord[];
  checkpoints: SerialisedCheckpoint[];
  /** With `finalEvalPrompts`: the final evaluation (absent when the run stopped early or the arm halted). */
  finalEval?: FinalEvalRecord;
  /** With `finalEvalOod`: the final evaluation on each out-of-distribution prompt set (the paper's Table 2). */
  finalEvalOod?: Partial<Record<'oodComposition' | 'oodRaters', FinalEvalRecord>>;
  /** With `aafSkill` (SePPO arms): the AAF confusion summed over every update. */
  aafSkill?: AafConfusion;
  /** Reward-trained arms (DDPO, D3PO): training reward beside true preference per checkpoint. */
  rewardTrace?: RewardTracePoint[];
  /** Reward-trained arms: the updates of the checkpoints where the training reward rose and the true preference fell (`rewardHackingPoints`). */
  rewardHacking?: number[];
}

/** `Experiment.results()`: config, base evaluation, per-arm update and checkpoint records (no images). */
export interface RunResults {
  config: ExperimentConfig;
  updatesDone: number;
  base: { metrics: Metrics; perImage?: MetricColumns; finalEval?: FinalEvalRecord; finalEvalOod?: Partial<Record<'oodComposition' | 'oodRaters', FinalEvalRecord>> } | null;
  arms: ArmResults[];
}
