/**
 * The experiment: Algorithm 1 of the paper (DESIGN §4) for several arms side by side — the loop,
 * the checkpoints and the results. The parts live beside it:
 *
 *   trainingSet.ts  the training data, encoded once by the frozen autoencoder and text encoder;
 *   batch.ts        update u's items, timesteps t and noise ε: functions of (seed, u), the same for every arm;
 *   armUpdate.ts    one arm's update (reference pick, x^w, x^l, the SePPO loss of eq. 8–9, Adam, record);
 *   records.ts      the records and results as plain data (no tfjs).
 *
 * Per arm and iteration k (N = checkpointEvery updates):
 *   1. pick the reference θ_ref from the pool θ₀…θ_{k−1} by the arm's strategy (pool.ts);
 *   2. x^w from the data (winners, or a seeded random pick of winner/loser), x^l = on-policy DDIM
 *      samples of θ_ref for the batch prompts (refsamples.ts) — or the real loser for 'dpo';
 *   3. m = ‖ε_θ(x_t, t, c) − ε‖², r = ‖ε_ref(x_t, t, c) − ε‖² (r outside the tape) and one Adam
 *      step on the SePPO loss (loss.ts: eq. 8 with the AAF flipper of eq. 9);
 *   4. every N updates save θ_k to the pool and evaluate on fixed prompts with fixed noise.
 * Baselines share this machinery: SFT (mean m_w), Diffusion-DPO (real losers, ref θ₀, s = −1),
 * SPIN-like (latest, s = −1), DITTO-like (init, s = −1).
 * Diffusion-RPO (issue 15: real pairs, every winner × loser of the batch weighted by prompt similarity) shares
 * Diffusion-DPO's path. The reward-model baselines (issue 15: DDPO, D3PO, SPO; armUpdate.ts's rewardArmUpdate, rewardArms.ts) train
 * on their own samples for the batch's first prompts, scored by `ExperimentOptions.rewards`, with the
 * same seed-keyed noise for every arm of a method; their checkpoints are evaluated like every arm's.
 *
 * Every arm starts from the same base UNet and sees, at update u, the same batch, t, ε, reference-
 * sample noise and, at checkpoints, the same evaluation noise. `step()` is async and reads tensors
 * back once per arm per update (`await data()`), so a worker can interleave play/pause messages. A
 * non-finite loss halts its arm (its gradients are not applied), the others go on. `dispose()`
 * frees everything the experiment created.
 */
import * as tf from '@tensorflow/tfjs';
import { isRewardMethod, rewardArmOptions, type ExperimentConfig } from '../config';
import type { RewardFunctions } from '../eval/reward';
import { scheduleFor, type Schedule } from '../diffusion/schedule';
import { qSample } from '../diffusion/schedule';
import { comparePaired, toColumns } from '../eval/intervals';
import { winRates } from '../eval/metrics';
import { commonPrefix } from '../model/layers';
import { unetForward, type Params, type ReducedSD } from '../model/sd';
import { Rng } from '../rng';
import type { Pair, Prompt } from '../world';
import { createArm, disposeArm, evaluatedWeights, updateArm, updateEma, type ArmState, type UpdatePhase } from './armUpdate';
import { BatchOrder, dropoutMask, sharedBatchTensors, updateNoise } from './batch';
import { displacement } from './diagnostics';
import { perSampleMse } from './loss';
import { rewardHackingPoints, rewardTrace, type ArmSummary, type CheckpointRecord, type EvalResult, type FinalEvalRecord, type Metrics, type RunResults, type SerialisedCheckpoint, type StepResult, type UpdateRecord } from './records';
import { EncodedTrainingSet } from './trainingSet';
import { isCutShort } from '../eval/baseEvalCache';

/** Which model an evaluation is of: the base (arm null, update 0) or an arm at a checkpoint. */
export interface EvalSubject {
  arm: string | null;
  update: number;
  /** The final evaluation (finalEvalPrompts × finalEvalNoises images), not a checkpoint's. */
  final?: boolean;
  /** For an out-of-distribution final evaluation (finalEvalOod): its prompt set. */
  split?: OodSplit;
}

/** The prompt splits an experiment may evaluate on: validation_unique, and a disjoint tuning split for sweeps. */
export interface ExperimentDataset {
  train: Pair[];
  validationUnique: Prompt[];
  /** Held-out prompts disjoint from validation_unique and from every training split (`evalSplit: 'tuning'`). */
  tuning?: Prompt[];
  /** The world's two out-of-distribution prompt sets (`finalEvalOod`, the paper's Table 2). */
  oodComposition?: Prompt[];
  /** The out-of-distribution raters' prompts (the world's Dataset.oodRaters, or its prompts). */
  oodRaters?: Prompt[] | { prompts: Prompt[] };
}

/** The out-of-distribution prompt sets a final evaluation may add (finalEvalOod). */
export const OOD_SPLITS = ['oodComposition', 'oodRaters'] as const;
export type OodSplit = (typeof OOD_SPLITS)[number];

/**
 * The fixed probe set of the likelihood-displacement monitor: P training pairs (winners at 0…P−1,
 * losers at P…2P−1) noised at fixed t and ε (Rng(evalSeed ?? seed) forked 'probe…'), and θ₀'s errors on them.
 */
export interface Probe {
  pairs: number;
  items: number[];
  zt: tf.Tensor4D;
  tF: tf.Tensor1D;
  eps: tf.Tensor4D;
  ctx: tf.Tensor3D;
  baseErrors: Float32Array;
}

/** The probe's items, t and ε: functions of (seed, dataSize, pairs) only. */
export function probeDraw(seed: number, dataSize: number, pairs: number, latentLen: number, T = 1000): { items: number[]; t: Int32Array; eps: Float32Array } {
  const rng = new Rng(seed);
  const items = rng.fork('probe/items').shuffle(Array.from({ length: dataSize }, (_, i) => i)).slice(0, pairs);
  const tr = rng.fork('probe/t');
  const t = new Int32Array(2 * pairs);
  for (let i = 0; i < pairs; i++) t[i] = t[pairs + i] = tr.int(T); // a pair's winner and loser share t and ε
  const e = rng.fork('probe/eps').normals(pairs * latentLen);
  const eps = new Float32Array(2 * pairs * latentLen);
  eps.set(e, 0);
  eps.set(e, pairs * latentLen);
  return { items, t, eps };
}

/** Per-sample denoising errors of a UNet on the probe set, read back asynchronously. */
export async function probeErrors(unet: Params, base: ReducedSD, probe: Pick<Probe, 'zt' | 'tF' | 'eps' | 'ctx'>): Promise<Float32Array> {
  const m = tf.tidy(() => perSampleMse(unetForward(unet, base.config.unet, probe.zt, probe.tF, probe.ctx), probe.eps));
  const v = (await m.data()) as Float32Array;
  m.dispose();
  return v;
}

/**
 * Evaluates a model on prompts with fixed-seed noise (the eval layer's evaluateModel, bound to its
 * scorers). `subject` says which model it is, for evaluators that cache or replay evaluations.
 */
export type Evaluator = (
  model: ReducedSD,
  prompts: Prompt[],
  o: { seed: number; steps: number; guidance: number },
  subject: EvalSubject,
) => EvalResult | Promise<EvalResult>;

export interface ExperimentOptions {
  evaluate?: Evaluator;
  /** Progress of the set-up and of evaluations: a stage name and a fraction in [0, 1]. */
  onProgress?: (stage: string, fraction: number) => void;
  /**
   * Optional timing hook (the bench's profile): each arm's update phases with their wall time
   * (armUpdate.ts's UPDATE_PHASES). It only reads the clock: results are bit-identical without it.
   */
  updateTimer?: (arm: string, phase: UpdatePhase, ms: number) => void;
  /**
   * The reward functions of the reward-model arms (DDPO, D3PO: issue 15), by reward model; the runner and
   * the worker bind them to the scorers they evaluate with (src/core/eval/reward.ts's rewardFunctions).
   * Needed for every reward model a reward arm names; unused otherwise.
   */
  rewards?: RewardFunctions;
}

let instances = 0;

export class Experiment {
  readonly config: ExperimentConfig;
  readonly base: ReducedSD;
  readonly evalPrompts: Prompt[];
  /** The final evaluation's prompts × noises: prompt i mod P for image i (each image its own noise). */
  readonly finalPrompts: Prompt[] | null;
  baseEval: EvalResult | null = null;
  /** Set when the base's evaluation was cut short (EvaluationCutShort): baseEval is null, win rates are not computed. */
  baseCutShort: { done: number; total: number } | null = null;
  baseFinal: FinalEvalRecord | null = null;
  /** finalEvalOod: the prompts × noises of each out-of-distribution set, and the base's evaluation on them. */
  readonly oodPrompts: Partial<Record<OodSplit, Prompt[]>> = {};
  baseOod: Partial<Record<OodSplit, FinalEvalRecord>> = {};
  private oods = new Map<string, Partial<Record<OodSplit, FinalEvalRecord>>>();
  probe: Probe | null = null;

  private readonly opts: ExperimentOptions;
  private readonly schedule: Schedule;
  private readonly prefix: string;
  private readonly latentShape: [number, number, number];
  private readonly order: BatchOrder;
  private data: EncodedTrainingSet | null = null;
  private arms: ArmState[] = [];
  private finals = new Map<string, FinalEvalRecord>();
  private u = 0;
  private disposed = false;
  private busy = false;

  private constructor(config: ExperimentConfig, base: ReducedSD, pairs: Pair[], dataset: ExperimentDataset, opts: ExperimentOptions) {
    this.config = config;
    this.base = base;
    this.schedule = scheduleFor(base.config.unet);
    this.opts = opts;
    this.prefix = `x${++instances}`;
    if (pairs.length < config.dataSize) {
      throw new Error(`dataSize: ${config.dataSize} training pairs asked for, the dataset has ${pairs.length}`);
    }
    const split = config.evalSplit ?? 'validation';
    const prompts = split === 'tuning' ? dataset.tuning : dataset.validationUnique;
    if (!prompts) throw new Error(`evalSplit: 'tuning' asked for, the dataset has no tuning prompts`);
    if (prompts.length < config.evalPrompts) {
      throw new Error(`evalPrompts: ${config.evalPrompts} asked for, the dataset has ${prompts.length} ${split} prompts`);
    }
    if (config.finalEvalPrompts !== undefined && prompts.length < config.finalEvalPrompts) {
      throw new Error(`finalEvalPrompts: ${config.finalEvalPrompts} asked for, the dataset has ${prompts.length} ${split} prompts`);
    }
    config.arms.forEach((a, i) => {
      if (!isRewardMethod(a.method)) return;
      const r = rewardArmOptions(a).reward;
      if (!opts.rewards?.[r]) {
        throw new Error(`arms[${i}].reward: arm '${a.name}' (${a.method}) trains on '${r}', but no reward function for it was given (ExperimentOptions.rewards; rewardFunctions(scorers) in src/core/eval/reward.ts builds them)`);
      }
    });
    if (config.probePairs !== undefined && config.probePairs > config.dataSize) {
      throw new Error(`probePairs: ${config.probePairs} asked for, only ${config.dataSize} training pairs are used`);
    }
    this.order = new BatchOrder(config.seed, config.dataSize, config.batchSize);
    this.evalPrompts = prompts.slice(0, config.evalPrompts);
    if (config.finalEvalPrompts !== undefined) {
      const P = prompts.slice(0, config.finalEvalPrompts);
      const R = config.finalEvalNoises ?? 1;
      this.finalPrompts = Array.from({ length: P.length * R }, (_, i) => P[i % P.length]);
      if (config.finalEvalOod) {
        for (const split of OOD_SPLITS) {
          const raw = dataset[split];
          const set = raw && !Array.isArray(raw) ? raw.prompts : raw;
          if (!set || set.length === 0) throw new Error(`finalEvalOod: the dataset has no ${split} prompts`);
          const Q = set.slice(0, config.finalEvalPrompts);
          this.oodPrompts[split] = Array.from({ length: Q.length * R }, (_, i) => Q[i % Q.length]);
        }
      }
    } else this.finalPrompts = null;
    const u = base.config.unet;
    this.latentShape = [u.latentSize, u.latentSize, u.latentChannels];
  }

  /**
   * Builds an experiment: encodes the training data once, creates one policy/optimizer/pool per
   * arm (all from `base`, which is never modified) and evaluates the base once (win rates are
   * against it).
   */
  static async create(
    config: ExperimentConfig,
    base: ReducedSD,
    dataset: ExperimentDataset,
    opts: ExperimentOptions = {},
  ): Promise<Experiment> {
    const x = new Experiment(config, base, dataset.train, dataset, opts);
    try {
      await x.setup(dataset.train.slice(0, config.dataSize));
    } catch (e) {
      x.dispose();
      throw e;
    }
    return x;
  }

  private async setup(pairs: Pair[]): Promise<void> {
    const { config: c, base } = this;
    const progress = this.opts.onProgress ?? (() => {});
    this.data = await EncodedTrainingSet.encode(base, pairs, c.seed, progress);
    // θ₀ is the base UNet itself, shared by every arm's pool (never trained, never disposed here).
    const basePrefix = commonPrefix(Object.keys(base.unet));
    this.arms = c.arms.map((cfg, i) => createArm(cfg, c, base, basePrefix, `${this.prefix}a${i}`, this.latentShape));
    if (c.probePairs !== undefined) await this.buildProbe(c.probePairs);

    if (this.opts.evaluate) {
      progress('evaluating the base model', 0);
      try {
        this.baseEval = await this.opts.evaluate(base, this.evalPrompts, this.evalOptions(null), { arm: null, update: 0 });
      } catch (e) {
        // Cut short by the user: no base figures at all (no win rates), never partial ones.
        if (!isCutShort(e)) throw e;
        this.baseEval = null;
        this.baseCutShort = { done: e.done, total: e.total };
      }
      progress('evaluating the base model', 1);
    }
  }

  private async buildProbe(pairs: number): Promise<void> {
    const c = this.config;
    const [S, , C] = this.latentShape;
    const d = probeDraw(c.evalSeed ?? c.seed, c.dataSize, pairs, S * S * C, this.schedule.T);
    const data = this.data!;
    const rows = [...d.items, ...data.loserRows(d.items)];
    const t = tf.tensor1d(d.t, 'int32');
    const eps = tf.tensor4d(d.eps, [2 * pairs, S, S, C]);
    const lat = data.gatherLatents(rows);
    const zt = qSample(lat, t, eps, this.schedule);
    const ctx = tf.tidy(() => tf.gather(data.contexts, tf.tensor1d([...d.items, ...d.items], 'int32')) as tf.Tensor3D);
    const tF = t.toFloat() as tf.Tensor1D;
    tf.dispose([t, lat]);
    const probe = { pairs, items: d.items, zt, tF, eps, ctx, baseErrors: new Float32Array(0) };
    this.probe = probe;
    probe.baseErrors = (await probeErrors(this.base.unet, this.base, probe)) as Float32Array<ArrayBuffer>;
  }

  /**
   * Evaluation noise: keyed by `evalSeed` when set (independent of the training seed), else by `seed`
   * as before; arms with `evalNoise: 'fresh'` get noise of their own; the final evaluation its own stream.
   */
  private evalOptions(arm: ArmState | null, final = false) {
    const c = this.config;
    const root = c.evalSeed !== undefined ? new Rng(c.evalSeed) : new Rng(c.seed);
    let label = final ? 'final-eval' : 'eval';
    if (arm?.cfg.evalNoise === 'fresh') label += `/fresh/${arm.cfg.name}`;
    return { seed: root.fork(label).seed, steps: c.evalSteps, guidance: c.evalGuidance };
  }

  /** Runs the evaluator and checks it answered one result per prompt. */
  private async evaluateChecked(model: ReducedSD, prompts: Prompt[], o: { seed: number; steps: number; guidance: number }, subject: EvalSubject): Promise<EvalResult> {
    const ev = await this.opts.evaluate!(model, prompts, o, subject);
    if (ev.perImage.length !== prompts.length) {
      throw new Error(`evaluator: ${ev.perImage.length} per-image results for ${prompts.length} prompts (${subject.arm ?? 'base'} at update ${subject.update}${subject.final ? ', final' : ''})`);
    }
    return ev;
  }

  /** The final evaluation of a model (the base when arm is null) on the finalEvalPrompts × finalEvalNoises images. */
  private async finalEval(arm: ArmState | null, update: number, ood?: OodSplit): Promise<FinalEvalRecord> {
    const c = this.config;
    const t0 = performance.now();
    const prompts = ood ? this.oodPrompts[ood]! : this.finalPrompts!;
    const baseRec = ood ? this.baseOod[ood] : this.baseFinal;
    const name = arm?.cfg.name ?? null;
    this.opts.onProgress?.(`final evaluation of ${name ?? 'the base'} on ${prompts.length} images${ood ? ` (${ood})` : ''}`, 0);
    const model = arm ? { ...this.base, unet: evaluatedWeights(arm) } : this.base;
    const o = this.evalOptions(arm, true);
    if (ood) o.seed = new Rng(o.seed).fork(ood).seed; // its own noise stream per prompt set
    const ev = await this.evaluateChecked(model, prompts, o, { arm: name, update, final: true, ...(ood ? { split: ood } : {}) });
    const keys = Object.keys(ev.perImage[0]);
    const R = c.finalEvalNoises ?? 1;
    return {
      update,
      prompts: prompts.length / R,
      noises: R,
      n: prompts.length,
      split: ood ?? c.evalSplit ?? 'validation',
      mean: ev.mean,
      perImage: toColumns(ev.perImage),
      vsBase: arm && baseRec ? comparePaired(ev.perImage, fromColumnsOf(baseRec), keys) : null,
      ms: performance.now() - t0,
    };
  }

  /** Training-item indices of update u: epoch-wise seeded permutations (same for every arm; batch.ts). */
  batchIndices(update: number): number[] {
    return this.order.indices(update);
  }

  get updatesDone(): number {
    return this.u;
  }

  get done(): boolean {
    return this.u >= this.config.updates || this.arms.every((a) => a.halted !== null);
  }

  armSummaries(): ArmSummary[] {
    return this.arms.map((a) => ({ name: a.cfg.name, config: a.cfg, beta: a.beta, lr: a.lr, halted: a.halted, updates: a.updates.length }));
  }

  updateRecords(arm: string): readonly UpdateRecord[] {
    return this.armState(arm).updates;
  }

  checkpointRecords(arm: string): readonly CheckpointRecord[] {
    return this.armState(arm).checkpoints;
  }

  /** The arm's live policy UNet parameters (for export; do not dispose). */
  armParams(arm: string): Params {
    return this.armState(arm).policy;
  }

  /** Bytes held by every arm's checkpoint pool (θ₀ shared, counted once). */
  poolMemory(): { bytes: number; perArm: Record<string, number> } {
    const perArm: Record<string, number> = {};
    let bytes = 0;
    let shared = 0;
    for (const a of this.arms) {
      const m = a.pool.memory();
      perArm[a.cfg.name] = m.ownedBytes;
      bytes += m.ownedBytes;
      shared = m.sharedBytes;
    }
    return { bytes: bytes + shared, perArm };
  }

  private armState(name: string): ArmState {
    const a = this.arms.find((x) => x.cfg.name === name);
    if (!a) throw new Error(`unknown arm '${name}'; arms: ${this.arms.map((x) => `'${x.cfg.name}'`).join(', ')}`);
    return a;
  }

  /** One update of every running arm, interleaved; checkpoints (pool + evaluation) every N updates. */
  async step(): Promise<StepResult> {
    if (this.disposed) throw new Error('Experiment: step() after dispose()');
    if (this.busy) throw new Error('Experiment: step() called while a step is running');
    if (this.done) throw new Error(`Experiment: finished (${this.u} of ${this.config.updates} updates)`);
    this.busy = true;
    try {
      return await this.stepInner();
    } finally {
      this.busy = false;
    }
  }

  private async stepInner(): Promise<StepResult> {
    const c = this.config;
    const u = this.u;
    const [S, , C] = this.latentShape;
    const idx = this.batchIndices(u);
    const noise = updateNoise(c.seed, u, c.batchSize, S * S * C, this.schedule.T);
    const data = this.data!;
    const drop = c.alignDropout ? { mask: dropoutMask(c.seed, u, c.batchSize, c.alignDropout), uncond: data.uncond } : undefined;
    const shared = sharedBatchTensors(noise, idx, data.contexts, this.latentShape, drop);
    const refMemo = new Map<Params, tf.Tensor4D>();
    const ctx = {
      config: c,
      unet: this.base.config.unet,
      latentShape: this.latentShape,
      schedule: this.schedule,
      data,
      update: u,
      idx,
      t: noise.t,
      shared,
      refMemo,
      ...(c.aafSkill ? { base: this.base } : {}),
      ...(this.opts.rewards ? { reward: { sd: this.base, rewards: this.opts.rewards } } : {}),
    };
    const result: StepResult = { update: u + 1, records: [], checkpoints: [], halted: [] };
    try {
      for (const arm of this.arms) {
        if (arm.halted) continue;
        const timer = this.opts.updateTimer;
        const rec = await updateArm(arm, timer ? { ...ctx, timer: (phase, ms) => timer(arm.cfg.name, phase, ms) } : ctx);
        if (rec) {
          updateEma(arm);
          arm.updates.push(rec);
          result.records.push(rec);
        } else {
          result.halted.push({ arm: arm.cfg.name, message: arm.halted! });
        }
      }
    } finally {
      tf.dispose(Object.values(shared));
      tf.dispose([...refMemo.values()]);
    }
    this.u = u + 1;
    if (this.u % c.checkpointEvery === 0 || this.u === c.updates) {
      for (const arm of this.arms) {
        if (!arm.halted) result.checkpoints.push(await this.checkpoint(arm, this.u));
      }
    }
    if (this.u === c.updates && this.finalPrompts && this.opts.evaluate) {
      this.baseFinal = await this.finalEval(null, 0);
      for (const split of OOD_SPLITS) if (this.oodPrompts[split]) this.baseOod[split] = await this.finalEval(null, 0, split);
      for (const arm of this.arms) {
        if (arm.halted) continue;
        this.finals.set(arm.cfg.name, await this.finalEval(arm, this.u));
        const o: Partial<Record<OodSplit, FinalEvalRecord>> = {};
        for (const split of OOD_SPLITS) if (this.oodPrompts[split]) o[split] = await this.finalEval(arm, this.u, split);
        if (Object.keys(o).length) this.oods.set(arm.cfg.name, o);
      }
    }
    return result;
  }

  /** Algorithm 1's checkpoint: θ_k joins the arm's pool, and the arm is evaluated on the fixed prompts and noise. */
  private async checkpoint(arm: ArmState, update: number): Promise<CheckpointRecord> {
    const t0 = performance.now();
    // θ_k joins the pool only where a strategy can draw it ('init' only ever uses θ₀; SFT has no reference).
    const needsPool = arm.cfg.method !== 'sft' && arm.cfg.method !== 'ddpo' && arm.cfg.refStrategy !== 'init';
    const saved = needsPool ? arm.pool.save(arm.policy, update) : null;
    let metrics: Metrics | null = null;
    let winRate: Metrics | null = null;
    let perImage: Metrics[] | undefined;
    let images: Float32Array[] | undefined;
    if (this.opts.evaluate) {
      this.opts.onProgress?.(`evaluating ${arm.cfg.name} at update ${update}`, 0);
      const ev = await this.evaluateChecked({ ...this.base, unet: evaluatedWeights(arm) }, this.evalPrompts, this.evalOptions(arm), { arm: arm.cfg.name, update });
      metrics = ev.mean;
      // Paired with the base image by image (same prompt, same noise), for every metric the evaluator gives.
      winRate = this.baseEval ? winRates(ev.perImage, this.baseEval.perImage, Object.keys(ev.perImage[0])) : null;
      perImage = ev.perImage;
      images = ev.images;
    }
    const probe = this.probe ? displacement(await probeErrors(arm.policy, this.base, this.probe), this.probe.baseErrors, this.probe.pairs) : undefined;
    const m = arm.pool.memory();
    const rec: CheckpointRecord = {
      arm: arm.cfg.name,
      update,
      savedK: saved ? saved.k : null,
      metrics,
      winRate,
      poolCheckpoints: m.checkpoints,
      poolBytes: m.ownedBytes,
      ms: performance.now() - t0,
      perImage,
      images,
      ...(probe ? { probe } : {}),
    };
    arm.checkpoints.push(rec);
    return rec;
  }

  /** Runs until done, aborted or `until` updates; `onStep` sees every step's result. */
  async run(o: { signal?: AbortSignal; until?: number; onStep?: (r: StepResult) => void | Promise<void> } = {}): Promise<void> {
    const until = Math.min(o.until ?? this.config.updates, this.config.updates);
    while (!this.done && this.u < until && !o.signal?.aborted) {
      const r = await this.step();
      await o.onStep?.(r);
    }
  }

  /** The final evaluation of an arm (null before the end, without finalEvalPrompts, or when it halted). */
  finalRecord(arm: string): FinalEvalRecord | null {
    return this.finals.get(arm) ?? null;
  }

  /**
   * Serialisable results: config, base evaluation, per-arm update and checkpoint records (images
   * left out; per-image metrics as columns only with `keepPerImage`), and the protocol's additions
   * where the config asks for them (final evaluations, AAF confusion).
   */
  results(): RunResults {
    const keep = this.config.keepPerImage === true;
    const strip = (c: CheckpointRecord): SerialisedCheckpoint => {
      const { images: _images, perImage, ...rest } = c;
      void _images;
      return keep && perImage ? { ...rest, perImage: toColumns(perImage) } : rest;
    };
    const base = this.baseEval
      ? { metrics: this.baseEval.mean, ...(keep ? { perImage: toColumns(this.baseEval.perImage) } : {}), ...(this.baseFinal ? { finalEval: this.baseFinal } : {}), ...(Object.keys(this.baseOod).length ? { finalEvalOod: this.baseOod } : {}) }
      : null;
    return {
      config: this.config,
      updatesDone: this.u,
      base,
      arms: this.arms.map((a) => {
        const fin = this.finals.get(a.cfg.name);
        return {
          name: a.cfg.name,
          config: a.cfg,
          beta: a.beta,
          lr: a.lr,
          halted: a.halted,
          updates: a.updates,
          checkpoints: a.checkpoints.map(strip),
          ...(fin ? { finalEval: fin } : {}),
          ...(this.oods.has(a.cfg.name) ? { finalEvalOod: this.oods.get(a.cfg.name) } : {}),
          ...(a.skill ? { aafSkill: { ...a.skill } } : {}),
          ...(isRewardMethod(a.cfg.method) ? rewardResults(a.updates, a.checkpoints, rewardArmOptions(a.cfg).reward) : {}),
        };
      }),
    };
  }

  /** Frees every tensor and variable this experiment created (the base model is left alone). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const a of this.arms) disposeArm(a);
    this.arms = [];
    this.data?.dispose();
    this.data = null;
    if (this.probe) tf.dispose([this.probe.zt, this.probe.tF, this.probe.eps, this.probe.ctx]);
    this.probe = null;
  }
}

/** A reward arm's trace (training reward and true preference per checkpoint) and its reward-hacking checkpoints. */
function rewardResults(updates: readonly UpdateRecord[], checkpoints: readonly CheckpointRecord[], reward: string) {
  const trace = rewardTrace(updates, checkpoints, reward);
  return { rewardTrace: trace, rewardHacking: rewardHackingPoints(trace).map((i) => trace[i].update) };
}

function fromColumnsOf(f: FinalEvalRecord): Metrics[] {
  const keys = Object.keys(f.perImage);
  return Array.from({ length: f.n }, (_, i) => Object.fromEntries(keys.map((k) => [k, f.perImage[k][i]])));
}
