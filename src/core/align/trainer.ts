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
 *
 * Every arm starts from the same base UNet and sees, at update u, the same batch, t, ε, reference-
 * sample noise and, at checkpoints, the same evaluation noise. `step()` is async and reads tensors
 * back once per arm per update (`await data()`), so a worker can interleave play/pause messages. A
 * non-finite loss halts its arm (its gradients are not applied), the others go on. `dispose()`
 * frees everything the experiment created.
 */
import * as tf from '@tensorflow/tfjs';
import type { ExperimentConfig } from '../config';
import { makeSchedule, type Schedule } from '../diffusion/schedule';
import { winRates } from '../eval/metrics';
import { commonPrefix } from '../model/layers';
import type { Params, ReducedSD } from '../model/sd';
import { Rng } from '../rng';
import type { Pair, Prompt } from '../world';
import { createArm, disposeArm, updateArm, type ArmState } from './armUpdate';
import { BatchOrder, sharedBatchTensors, updateNoise } from './batch';
import type { ArmSummary, CheckpointRecord, EvalResult, Metrics, RunResults, StepResult, UpdateRecord } from './records';
import { EncodedTrainingSet } from './trainingSet';

/** Which model an evaluation is of: the base (arm null, update 0) or an arm at a checkpoint. */
export interface EvalSubject {
  arm: string | null;
  update: number;
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
}

let instances = 0;

export class Experiment {
  readonly config: ExperimentConfig;
  readonly base: ReducedSD;
  readonly evalPrompts: Prompt[];
  baseEval: EvalResult | null = null;

  private readonly opts: ExperimentOptions;
  private readonly schedule: Schedule = makeSchedule();
  private readonly prefix: string;
  private readonly latentShape: [number, number, number];
  private readonly order: BatchOrder;
  private data: EncodedTrainingSet | null = null;
  private arms: ArmState[] = [];
  private u = 0;
  private disposed = false;
  private busy = false;

  private constructor(config: ExperimentConfig, base: ReducedSD, pairs: Pair[], validation: Prompt[], opts: ExperimentOptions) {
    this.config = config;
    this.base = base;
    this.opts = opts;
    this.prefix = `x${++instances}`;
    if (pairs.length < config.dataSize) {
      throw new Error(`dataSize: ${config.dataSize} training pairs asked for, the dataset has ${pairs.length}`);
    }
    if (validation.length < config.evalPrompts) {
      throw new Error(`evalPrompts: ${config.evalPrompts} asked for, the dataset has ${validation.length} validation prompts`);
    }
    this.order = new BatchOrder(config.seed, config.dataSize, config.batchSize);
    this.evalPrompts = validation.slice(0, config.evalPrompts);
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
    dataset: { train: Pair[]; validationUnique: Prompt[] },
    opts: ExperimentOptions = {},
  ): Promise<Experiment> {
    const x = new Experiment(config, base, dataset.train, dataset.validationUnique, opts);
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

    if (this.opts.evaluate) {
      progress('evaluating the base model', 0);
      this.baseEval = await this.opts.evaluate(base, this.evalPrompts, this.evalOptions(), { arm: null, update: 0 });
      progress('evaluating the base model', 1);
    }
  }

  private evalOptions() {
    return { seed: new Rng(this.config.seed).fork('eval').seed, steps: this.config.evalSteps, guidance: this.config.evalGuidance };
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
    const shared = sharedBatchTensors(noise, idx, data.contexts, this.latentShape);
    const refMemo = new Map<Params, tf.Tensor4D>();
    const ctx = { config: c, unet: this.base.config.unet, latentShape: this.latentShape, schedule: this.schedule, data, update: u, idx, t: noise.t, shared, refMemo };
    const result: StepResult = { update: u + 1, records: [], checkpoints: [], halted: [] };
    try {
      for (const arm of this.arms) {
        if (arm.halted) continue;
        const rec = await updateArm(arm, ctx);
        if (rec) {
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
    return result;
  }

  /** Algorithm 1's checkpoint: θ_k joins the arm's pool, and the arm is evaluated on the fixed prompts and noise. */
  private async checkpoint(arm: ArmState, update: number): Promise<CheckpointRecord> {
    const t0 = performance.now();
    // θ_k joins the pool only where a strategy can draw it ('init' only ever uses θ₀; SFT has no reference).
    const needsPool = arm.cfg.method !== 'sft' && arm.cfg.refStrategy !== 'init';
    const saved = needsPool ? arm.pool.save(arm.policy, update) : null;
    let metrics: Metrics | null = null;
    let winRate: Metrics | null = null;
    let perImage: Metrics[] | undefined;
    let images: Float32Array[] | undefined;
    if (this.opts.evaluate) {
      this.opts.onProgress?.(`evaluating ${arm.cfg.name} at update ${update}`, 0);
      const ev = await this.opts.evaluate({ ...this.base, unet: arm.policy }, this.evalPrompts, this.evalOptions(), { arm: arm.cfg.name, update });
      metrics = ev.mean;
      // Paired with the base image by image (same prompt, same noise), for every metric the evaluator gives.
      winRate = this.baseEval ? winRates(ev.perImage, this.baseEval.perImage, Object.keys(ev.perImage[0])) : null;
      perImage = ev.perImage;
      images = ev.images;
    }
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

  /** Serialisable results: config, base evaluation, per-arm update and checkpoint records (images and per-image metrics left out). */
  results(): RunResults {
    const strip = (c: CheckpointRecord) => {
      const { images: _images, perImage: _perImage, ...rest } = c;
      void _images;
      void _perImage;
      return rest;
    };
    return {
      config: this.config,
      updatesDone: this.u,
      base: this.baseEval ? { metrics: this.baseEval.mean } : null,
      arms: this.arms.map((a) => ({
        name: a.cfg.name,
        config: a.cfg,
        beta: a.beta,
        lr: a.lr,
        halted: a.halted,
        updates: a.updates,
        checkpoints: a.checkpoints.map(strip),
      })),
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
  }
}
