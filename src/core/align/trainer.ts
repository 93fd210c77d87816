/**
 * The experiment: Algorithm 1 of the paper (DESIGN §4) for several arms side by side.
 *
 * Every arm starts from the same base UNet and sees, at update u, the same batch of training
 * items, the same timesteps t and noise ε (shared between the two halves of a pair, as
 * Diffusion-DPO does), the same reference-sample noise and, at checkpoints, the same evaluation
 * noise: all are drawn from `Rng(seed)` forked by update index — never by arm (`updateNoise`).
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
 * The autoencoder and text encoder are frozen and shared: training latents and text contexts are
 * encoded once. `step()` is async and reads tensors back once per arm per update (`await data()`),
 * so a worker can interleave play/pause messages. A non-finite loss halts its arm (its gradients
 * are not applied), the others go on. `dispose()` frees everything the experiment created.
 */
import * as tf from '@tensorflow/tfjs';
import type { ArmConfig, ExperimentConfig } from '../config';
import { makeSchedule, qSample, type Schedule } from '../diffusion/schedule';
import { commonPrefix } from '../model/layers';
import { encodeImages, encodeText, tokensTensor, uncondContext, unetForward, type Params, type ReducedSD } from '../model/sd';
import { Rng } from '../rng';
import { randomPick, tokenize, type Pair, type Prompt } from '../world';
import { lossDiagnostics, perSampleMse, seppoLoss, sftLoss, type LossDiagnostics } from './loss';
import { CheckpointPool, type PoolEntry } from './pool';
import { RefSampleCache, refNoise, sampleReferenceLatents } from './refsamples';

export type Metrics = Record<string, number>;
export interface EvalResult {
  perImage: Metrics[];
  mean: Metrics;
  images?: Float32Array[];
}
/** Evaluates a model on prompts with fixed-seed noise (the eval layer's evaluateModel, bound to its scorers). */
export type Evaluator = (model: ReducedSD, prompts: Prompt[], o: { seed: number; steps: number; guidance: number }) => EvalResult | Promise<EvalResult>;

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
  /** The evaluation images (same noise for every arm), for sample grids; not serialised by the runner. */
  images?: Float32Array[];
}

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

export interface ExperimentOptions {
  evaluate?: Evaluator;
  /** Progress of the set-up and of evaluations: a stage name and a fraction in [0, 1]. */
  onProgress?: (stage: string, fraction: number) => void;
}

/** Timesteps and ε of update u — a function of (seed, u) only, hence identical for every arm. */
export function updateNoise(seed: number, update: number, batch: number, latentLen: number, T = 1000): { t: Int32Array; eps: Float32Array } {
  const rng = new Rng(seed);
  const tr = rng.fork(`t/${update}`);
  const t = new Int32Array(batch);
  for (let i = 0; i < batch; i++) t[i] = tr.int(T);
  return { t, eps: rng.fork(`eps/${update}`).normals(batch * latentLen) };
}

/** Share of items where a[key] > b[key] (ties ½), per key of the first item. */
export function winRates(a: Metrics[], b: Metrics[]): Metrics {
  if (a.length !== b.length || a.length === 0) throw new Error(`winRates: ${a.length} vs ${b.length} items`);
  const out: Metrics = {};
  for (const key of Object.keys(a[0])) {
    let w = 0;
    for (let i = 0; i < a.length; i++) w += a[i][key] > b[i][key] ? 1 : a[i][key] === b[i][key] ? 0.5 : 0;
    out[key] = w / a.length;
  }
  return out;
}

interface ArmState {
  cfg: ArmConfig;
  beta: number;
  lr: number;
  policy: Params;
  vars: tf.Variable[];
  opt: tf.Optimizer;
  pool: CheckpointPool;
  cache: RefSampleCache;
  ref: PoolEntry | null;
  refIter: number;
  halted: string | null;
  updates: UpdateRecord[];
  checkpoints: CheckpointRecord[];
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
  private readonly n: number;
  private readonly latentShape: [number, number, number];
  /** [2N,S,S,C]: winners' latents at 0…N−1, losers' at N…2N−1 (frozen AE, encoded once). */
  private latents: tf.Tensor4D | null = null;
  /** [N,L,D]: text contexts of the training prompts (frozen text encoder, encoded once). */
  private contexts: tf.Tensor3D | null = null;
  private uncond: tf.Tensor3D | null = null;
  /** For 'random' data: whether item i shows its winner (world's randomPick, seeded). */
  private randomIsWinner: boolean[] = [];
  private perms = new Map<number, number[]>();
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
    this.n = config.dataSize;
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
    const chunk = 64;
    // Frozen encoders: latents of every winner and loser, contexts of every prompt.
    const parts: tf.Tensor4D[] = [];
    const ctxParts: tf.Tensor3D[] = [];
    const imgLen = 32 * 32 * 3;
    for (const which of ['winner', 'loser'] as const) {
      for (let s = 0; s < pairs.length; s += chunk) {
        const rows = pairs.slice(s, s + chunk);
        const buf = new Float32Array(rows.length * imgLen);
        rows.forEach((p, j) => buf.set(p[which], j * imgLen));
        parts.push(tf.tidy(() => encodeImages(base, tf.tensor4d(buf, [rows.length, 32, 32, 3]))));
        progress('encoding training images', (parts.length * chunk) / (2 * pairs.length));
        await tf.nextFrame(); // let a worker's message loop breathe
      }
    }
    for (let s = 0; s < pairs.length; s += chunk) {
      const rows = pairs.slice(s, s + chunk);
      ctxParts.push(tf.tidy(() => encodeText(base.text, base.config.text, tokensTensor(rows.map((p) => tokenize(p.prompt)), base.config.text.maxTokens))));
    }
    this.latents = tf.concat(parts, 0);
    this.contexts = tf.concat(ctxParts, 0);
    tf.dispose([...parts, ...ctxParts]);
    this.uncond = uncondContext(base.text, base.config.text, 1);
    this.randomIsWinner = randomPick({ train: pairs }, new Rng(c.seed).fork('randomPick')).map((s) => s.isWinner);

    // θ₀ is the base UNet itself, shared by every arm's pool (never trained, never disposed here).
    const old = commonPrefix(Object.keys(base.unet));
    this.arms = c.arms.map((cfg, i) => {
      const armPrefix = `${this.prefix}a${i}`;
      const policy: Params = {};
      for (const [name, v] of Object.entries(base.unet)) {
        const nn = armPrefix + name.slice(old.length);
        policy[nn] = tf.variable(v, true, nn); // shares the base's data until the first assign
      }
      const lr = cfg.lr ?? c.lr;
      const pool = new CheckpointPool(c.maxCheckpoints, armPrefix);
      pool.addShared(base.unet, 0);
      return {
        cfg,
        beta: cfg.beta ?? c.beta,
        lr,
        policy,
        vars: Object.keys(policy).map((k) => policy[k]), // FIXED order: Adam matches slots by position
        opt: tf.train.adam(lr),
        pool,
        cache: new RefSampleCache(c.refRegenerateEvery, this.latentShape),
        ref: null,
        refIter: -1,
        halted: null,
        updates: [],
        checkpoints: [],
      };
    });

    if (this.opts.evaluate) {
      progress('evaluating the base model', 0);
      this.baseEval = await this.opts.evaluate(base, this.evalPrompts, this.evalOptions());
      progress('evaluating the base model', 1);
    }
  }

  private evalOptions() {
    return { seed: new Rng(this.config.seed).fork('eval').seed, steps: this.config.evalSteps, guidance: this.config.evalGuidance };
  }

  /** Training-item indices of update u: epoch-wise seeded permutations (same for every arm). */
  batchIndices(update: number): number[] {
    const B = this.config.batchSize;
    const out: number[] = [];
    for (let j = 0; j < B; j++) {
      const pos = update * B + j;
      const epoch = Math.floor(pos / this.n);
      let perm = this.perms.get(epoch);
      if (!perm) {
        perm = new Rng(this.config.seed).fork(`order/${epoch}`).shuffle(Array.from({ length: this.n }, (_, i) => i));
        this.perms.clear(); // keep only the current epoch's
        this.perms.set(epoch, perm);
      }
      out.push(perm[pos % this.n]);
    }
    return out;
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
    const B = c.batchSize;
    const [S, , C] = this.latentShape;
    const latentLen = S * S * C;
    const idx = this.batchIndices(u);
    const noise = updateNoise(c.seed, u, B, latentLen, this.schedule.T);
    const shared = tf.tidy(() => {
      const t = tf.tensor1d(noise.t, 'int32');
      const eps = tf.tensor4d(noise.eps, [B, S, S, C]);
      const ctx = tf.gather(this.contexts!, tf.tensor1d(idx, 'int32')) as tf.Tensor3D; // [B,L,D]
      return {
        t,
        tF: t.toFloat() as tf.Tensor1D,
        eps,
        ctx,
        t2: tf.concat([t, t]) as tf.Tensor1D, // the same t and ε for both halves of a pair
        tF2: tf.concat([t, t]).toFloat() as tf.Tensor1D,
        eps2: tf.concat([eps, eps]) as tf.Tensor4D,
        ctx2: tf.concat([ctx, ctx]) as tf.Tensor3D,
      };
    });
    const memo = new Map<Params, tf.Tensor4D>();
    const result: StepResult = { update: u + 1, records: [], checkpoints: [], halted: [] };
    try {
      for (const arm of this.arms) {
        if (arm.halted) continue;
        const rec = await this.stepArm(arm, u, idx, noise.t, shared, memo);
        if (rec) {
          arm.updates.push(rec);
          result.records.push(rec);
        } else {
          result.halted.push({ arm: arm.cfg.name, message: arm.halted! });
        }
      }
    } finally {
      tf.dispose(shared);
      tf.dispose([...memo.values()]);
    }
    this.u = u + 1;
    if (this.u % c.checkpointEvery === 0 || this.u === c.updates) {
      for (const arm of this.arms) {
        if (!arm.halted) result.checkpoints.push(await this.checkpoint(arm, this.u));
      }
    }
    return result;
  }

  /** Reference samples x^l for this arm's batch (shared across arms with the same θ_ref at this update). */
  private async referenceSamples(arm: ArmState, u: number, idx: number[], ctx: tf.Tensor3D, memo: Map<Params, tf.Tensor4D>): Promise<tf.Tensor4D> {
    const ref = arm.ref!;
    if (!arm.cache.needsRegeneration(idx, u, ref.k)) return arm.cache.batch(idx);
    let lat = memo.get(ref.params);
    if (!lat) {
      const B = idx.length;
      const [S, , C] = this.latentShape;
      const z = tf.tensor4d(refNoise(this.config.seed, u, B, S * S * C), [B, S, S, C]);
      lat = sampleReferenceLatents(ref.params, this.base.config.unet, ctx, this.uncond!, z, {
        steps: this.config.refSteps,
        guidance: this.config.refGuidance,
      });
      z.dispose();
      memo.set(ref.params, lat);
    }
    await arm.cache.store(idx, lat, u, ref.k);
    return tf.clone(lat);
  }

  private async stepArm(
    arm: ArmState,
    u: number,
    idx: number[],
    tArr: Int32Array,
    sh: { t: tf.Tensor1D; tF: tf.Tensor1D; eps: tf.Tensor4D; ctx: tf.Tensor3D; t2: tf.Tensor1D; tF2: tf.Tensor1D; eps2: tf.Tensor4D; ctx2: tf.Tensor3D },
    memo: Map<Params, tf.Tensor4D>,
  ): Promise<UpdateRecord | null> {
    const t0 = performance.now();
    const { cfg } = arm;
    const N = this.n;
    const ucfg = this.base.config.unet;
    const B = idx.length;
    const isSft = cfg.method === 'sft';

    // Algorithm 1: the reference model is drawn once per iteration k = ⌊u / N⌋ (seeded by k, not by arm).
    const iter = Math.floor(u / this.config.checkpointEvery);
    if (!isSft && arm.refIter !== iter) {
      arm.ref = arm.pool.pick(cfg.refStrategy, new Rng(this.config.seed).fork(`refpick/${iter}`));
      arm.refIter = iter;
    }

    const wIdx = idx.map((i) => (cfg.data === 'random' && !this.randomIsWinner[i] ? N + i : i));
    const xw = tf.tidy(() => tf.gather(this.latents!, tf.tensor1d(wIdx, 'int32')) as tf.Tensor4D); // [B,S,S,C]
    let xl: tf.Tensor4D | null = null;
    const tr = performance.now();
    if (cfg.method === 'dpo') xl = tf.tidy(() => tf.gather(this.latents!, tf.tensor1d(idx.map((i) => N + i), 'int32')) as tf.Tensor4D);
    else if (cfg.method === 'seppo') xl = await this.referenceSamples(arm, u, idx, sh.ctx, memo);
    const refMs = performance.now() - tr;

    const { grads, packed } = tf.tidy(() => {
      if (isSft) {
        const zt = qSample(xw, sh.t, sh.eps, this.schedule);
        let kept: tf.Tensor1D | null = null;
        const g = tf.variableGrads(() => {
          const m = perSampleMse(unetForward(arm.policy, ucfg, zt, sh.tF, sh.ctx), sh.eps); // m_w [B]
          kept = tf.keep(m);
          return sftLoss(m);
        }, arm.vars);
        const packed = tf.concat([g.value.reshape([1]), kept!]);
        kept!.dispose();
        return { grads: g.grads, packed };
      }
      const zt2 = qSample(tf.concat([xw, xl!]) as tf.Tensor4D, sh.t2, sh.eps2, this.schedule); // [2B,S,S,C]
      // r_w, r_l: the reference's errors, computed outside the gradient tape (no gradient).
      const r = perSampleMse(unetForward(arm.ref!.params, ucfg, zt2, sh.tF2, sh.ctx2), sh.eps2);
      const [rW, rL] = tf.split(r, 2) as tf.Tensor1D[];
      let keep: tf.Tensor[] = [];
      const g = tf.variableGrads(() => {
        const m = perSampleMse(unetForward(arm.policy, ucfg, zt2, sh.tF2, sh.ctx2), sh.eps2); // [2B]
        const [mW, mL] = tf.split(m, 2) as tf.Tensor1D[];
        const res = seppoLoss({ modelW: mW, modelL: mL, refW: rW, refL: rL }, { beta: arm.beta, flip: cfg.flip });
        keep = [mW, mL, res.inside, res.s].map((x) => tf.keep(x));
        return res.loss;
      }, arm.vars);
      const packed = tf.concat([g.value.reshape([1]), keep[0], keep[1], rW, rL, keep[2], keep[3]]);
      tf.dispose(keep);
      return { grads: g.grads, packed };
    });
    tf.dispose([xw, ...(xl ? [xl] : [])]);

    const v = (await packed.data()) as Float32Array; // the one read-back of this arm's update
    packed.dispose();
    const loss = v[0];
    if (!Number.isFinite(loss)) {
      tf.dispose(grads); // never apply a non-finite update
      arm.halted = `${cfg.name}: non-finite loss (${loss}) at update ${u + 1}; this arm is halted, the others go on`;
      return null;
    }
    arm.opt.applyGradients(grads);
    tf.dispose(grads);

    const at = (k: number) => v.subarray(1 + k * B, 1 + (k + 1) * B);
    const base = { arm: cfg.name, update: u + 1, loss, refK: isSft ? null : arm.ref!.k, refMs, ms: 0 };
    let rec: UpdateRecord;
    if (isSft) {
      const mW = at(0).reduce((a, b) => a + b, 0) / B;
      rec = { ...base, mW, mL: null, rW: null, rL: null, implicitAcc: null, aafRate: null, rewardW: null, rewardL: null, margin: null, insideHist: null, accByTBucket: null, flippedShare: null };
    } else {
      const s = at(5);
      const d = lossDiagnostics({ beta: arm.beta, mW: at(0), mL: at(1), rW: at(2), rL: at(3), inside: at(4), s, t: tArr });
      let acc = 0;
      let aaf = 0;
      for (let i = 0; i < B; i++) {
        if (at(4)[i] > 0) acc++;
        if (s[i] === -1) aaf++;
      }
      rec = { ...base, ...d, implicitAcc: acc / B, aafRate: aaf / B };
    }
    rec.ms = performance.now() - t0;
    return rec;
  }

  private async checkpoint(arm: ArmState, update: number): Promise<CheckpointRecord> {
    const t0 = performance.now();
    // θ_k joins the pool only where a strategy can draw it ('init' only ever uses θ₀; SFT has no reference).
    const needsPool = arm.cfg.method !== 'sft' && arm.cfg.refStrategy !== 'init';
    const saved = needsPool ? arm.pool.save(arm.policy, update) : null;
    let metrics: Metrics | null = null;
    let winRate: Metrics | null = null;
    let images: Float32Array[] | undefined;
    if (this.opts.evaluate) {
      this.opts.onProgress?.(`evaluating ${arm.cfg.name} at update ${update}`, 0);
      const ev = await this.opts.evaluate({ ...this.base, unet: arm.policy }, this.evalPrompts, this.evalOptions());
      metrics = ev.mean;
      winRate = this.baseEval ? winRates(ev.perImage, this.baseEval.perImage) : null;
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

  /** Serialisable results: config, base evaluation, per-arm update and checkpoint records (images left out). */
  results() {
    const strip = (c: CheckpointRecord) => {
      const { images: _images, ...rest } = c;
      void _images;
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
    for (const a of this.arms) {
      a.pool.dispose();
      a.opt.dispose();
      tf.dispose(a.vars);
      a.cache.clear();
    }
    this.arms = [];
    for (const t of [this.latents, this.contexts, this.uncond]) t?.dispose();
    this.latents = this.contexts = this.uncond = null;
  }
}

