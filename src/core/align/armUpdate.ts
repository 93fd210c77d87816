/**
 * One arm of an experiment: its state (policy θ, Adam, the checkpoint pool θ₀…θ_{k−1}, the
 * reference-sample cache) and one update of Algorithm 1 (DESIGN §4), in named steps:
 *
 *   1. `chooseReference`    θ_ref from the pool by the arm's strategy, once per iteration k (pool.ts);
 *   2. `trainingLatents`    x^w from the data: the winners, or SePPOʳ's seeded pick of winner/loser;
 *   3. `losingLatents`      x^l: on-policy DDIM samples of θ_ref (refsamples.ts), or the real loser for 'dpo' / 'rpo';
 *   4. `lossAndGradients`   m = ‖ε_θ(x_t, t, c) − ε‖², r = ‖ε_ref(x_t, t, c) − ε‖² (r outside the tape) and
 *                           the gradients of the SePPO loss (loss.ts: eq. 8 with the AAF flipper of eq. 9),
 *                           of Diffusion-RPO's (rpoLoss.ts: every winner × loser pair of the batch, weighted by
 *                           prompt similarity), or of SFT's mean m_w;
 *   5. `readBack`           the one read-back of the update, unpacked by name (`SEPPO_READBACK`, `Readback`);
 *   6. apply the Adam step, unless the loss is non-finite or the divergence guard trips (`divergenceOf`):
 *      then the arm halts (the others go on);
 *   7. `updateRecord`       the record of the update, with the loss diagnostics (diagnostics.ts).
 *
 * The reward-model arms (methods 'ddpo', 'd3po', 'spo': issue 15) take their own path, `rewardArmUpdate`: a
 * rollout of the policy on the batch's first prompts (rewardArms.ts), the reward of the decoded samples
 * (UpdateContext.reward), DDPO's clipped IS epochs, D3PO's or SPO's per-step DPO step, each step guarded as in 6.
 *
 * `UpdateContext.timer` (optional, for the bench's profile): called with each phase's wall time as it
 * ends (`UPDATE_PHASES`). It only reads the clock: an update's result is bit-identical with and
 * without it (trainer.test.ts). On WASM/CPU kernels run synchronously, so a phase's time is its
 * compute; on WebGPU/WebGL it is mostly dispatch, and the wait shows up in 'read-back'.
 */
import * as tf from '@tensorflow/tfjs';
import { armHyperParameters, divergenceBounds, isPairMethod, isRewardMethod, rewardArmOptions, rpoTauOf, type ArmConfig, type ExperimentConfig } from '../config';
import type { RewardFunctions } from '../eval/reward';
import { qSample, type Schedule } from '../diffusion/schedule';
import { decodeLatents, unetForward, type Params, type ReducedSD, type UNetConfig } from '../model/sd';
import { IMAGE_LEN, RATER_POOLS, poolUtility, ratePair, trueUtility } from '../world';
import { Rng } from '../rng';
import type { SharedBatch } from './batch';
import { aafConfusion, aafRateOf, addConfusion, emptyConfusion, implicitAccuracyOf, lossDiagnostics, type AafConfusion } from './diagnostics';
import { perSampleMse, seppoLoss, sftLoss } from './loss';
import { CheckpointPool, type PoolEntry } from './pool';
import type { CheckpointRecord, UpdateRecord } from './records';
import { RefSampleCache, refNoise, sampleReferenceLatents } from './refsamples';
import type { EncodedTrainingSet } from './trainingSet';
import { d3poGrads, ddpoInnerGrads, disposePairRollout, disposeRollout, disposeSpoRollout, pairRollout, preferA, rollout, splitByPreference, spoGrads, spoRollout, unpackDdpo, type RewardFn } from './rewardArms';
import { diffusionRpoLoss, promptSimilarity } from './rpoLoss';
import { disposeTrajectory } from '../diffusion/stochasticDdim';
import { createAdam, type StepOptimizer } from '../optim';

export interface ArmState {
  cfg: ArmConfig;
  /** The arm's effective β and learning rate (config.ts's armHyperParameters). */
  beta: number;
  lr: number;
  policy: Params;
  /** With `cfg.ema`: the EMA of the policy's weights (same names + '/ema'), what evaluations score. */
  ema: Params | null;
  vars: tf.Variable[];
  /** Adam over the policy (FlatAdam: bit-identical to tf.train.adam with fewer kernel calls; optim.ts). */
  opt: StepOptimizer;
  pool: CheckpointPool;
  cache: RefSampleCache;
  ref: PoolEntry | null;
  refIter: number;
  halted: string | null;
  updates: UpdateRecord[];
  checkpoints: CheckpointRecord[];
  /** With `aafSkill` (SePPO arms): the AAF confusion summed over the updates so far. */
  skill: AafConfusion | null;
}

/**
 * A fresh arm: a policy initialised from the base UNet (variables named `<armPrefix>…`), Adam at
 * the arm's learning rate, and a pool holding θ₀ = the base UNet itself (shared, never trained,
 * never disposed here).
 */
export function createArm(cfg: ArmConfig, config: ExperimentConfig, base: ReducedSD, basePrefix: string, armPrefix: string, latentShape: [number, number, number]): ArmState {
  const policy: Params = {};
  for (const [name, v] of Object.entries(base.unet)) {
    const nn = armPrefix + name.slice(basePrefix.length);
    policy[nn] = tf.variable(v, true, nn); // shares the base's data until the first assign
  }
  const { beta, lr } = armHyperParameters(config, cfg);
  const pool = new CheckpointPool(config.maxCheckpoints, armPrefix);
  pool.addShared(base.unet, 0);
  return {
    cfg,
    beta,
    lr,
    policy,
    ema: cfg.ema !== undefined ? Object.fromEntries(Object.entries(policy).map(([k, v]) => [k, tf.variable(v, false, `${k}/ema`)])) : null,
    vars: Object.keys(policy).map((k) => policy[k]), // FIXED order: Adam matches slots by position
    opt: createAdam(lr),
    pool,
    cache: new RefSampleCache(config.refRegenerateEvery, latentShape),
    ref: null,
    refIter: -1,
    halted: null,
    updates: [],
    checkpoints: [],
    skill: config.aafSkill && cfg.method === 'seppo' ? emptyConfusion() : null,
  };
}

/** The learning rate of the arm's update u (1-based): linear warm-up over `warmup` updates, then the arm's lr. */
export function warmupLr(lr: number, warmup: number | undefined, u: number): number {
  return warmup ? lr * Math.min(1, u / warmup) : lr;
}

/** ema ← d·ema + (1 − d)·θ for every weight (after an applied update). */
export function updateEma(arm: ArmState): void {
  if (!arm.ema) return;
  const d = arm.cfg.ema!;
  tf.tidy(() => {
    for (const [k, e] of Object.entries(arm.ema!)) e.assign(tf.add(tf.mul(e, d), tf.mul(arm.policy[k], 1 - d)));
  });
}

/** The weights an evaluation scores: the EMA when the arm keeps one, else the policy. */
export function evaluatedWeights(arm: ArmState): Params {
  return arm.ema ?? arm.policy;
}

export function disposeArm(arm: ArmState): void {
  arm.pool.dispose();
  arm.opt.dispose();
  tf.dispose(arm.vars);
  if (arm.ema) tf.dispose(Object.values(arm.ema));
  arm.cache.clear();
}

/** The phases of one update, in order, as the optional `UpdateContext.timer` sees them. */
export const UPDATE_PHASES = [
  'data', // the reference pick and x^w (a gather)
  'reference sampling', // x^l: DDIM + CFG from θ_ref (SePPO arms), the real losers (DPO), none (SFT)
  'reference forward', // q_sample and r = ‖ε_ref(x_t) − ε‖², outside the tape
  'policy forward', // m = ‖ε_θ(x_t) − ε‖² and the loss, on the tape
  'policy backward', // the gradients, the packed read-back tensor and the tape's clean-up
  'AAF skill', // aafSkill only: the frozen decoder on x^w ‖ x^l (its read-back is in 'record')
  'read-back', // the one `await data()` of the update
  'optimizer', // the divergence guard and Adam's step
  'record', // the update record (and the AAF skill's read-back and utilities)
] as const;
export type UpdatePhase = (typeof UPDATE_PHASES)[number];
/** A phase's wall time (ms), reported as it ends; phases that do not apply to an arm are not reported. */
export type PhaseTimer = (phase: UpdatePhase, ms: number) => void;

/** lap(phase): reports the time since the previous lap (or since creation) as `phase`; a no-op without a timer. */
function lapper(timer: PhaseTimer | undefined): (phase: UpdatePhase) => void {
  if (!timer) return () => {};
  let last = performance.now();
  return (phase) => {
    const now = performance.now();
    timer(phase, now - last);
    last = now;
  };
}

/** Everything one update shares across arms. */
export interface UpdateContext {
  config: ExperimentConfig;
  unet: UNetConfig;
  latentShape: [number, number, number];
  schedule: Schedule;
  data: EncodedTrainingSet;
  /** 0-based index of this update. */
  update: number;
  /** The batch's training items, timesteps (as read by the diagnostics) and shared tensors (batch.ts). */
  idx: number[];
  t: Int32Array;
  shared: SharedBatch;
  /** Reference latents sampled this update, by θ_ref: arms with the same reference at this update share them. */
  refMemo: Map<Params, tf.Tensor4D>;
  /** With `aafSkill`: the base model, whose frozen decoder turns x^w and x^l into images for the true utility. */
  base?: ReducedSD;
  /** Optional: each phase's wall time (the bench's profile); reads the clock only, never changes a result. */
  timer?: PhaseTimer;
  /**
   * Reward arms (DDPO, D3PO): the model whose frozen decoder turns their samples into images, and the
   * reward functions (src/core/eval/reward.ts, bound to the scorers by the runner / worker).
   */
  reward?: { sd: ReducedSD; rewards: RewardFunctions };
}

/**
 * The one read-back of an arm's update, in one tensor [1 + k·B]: the loss, then k per-sample
 * vectors of length B in the order of `SEPPO_READBACK` (SePPO and DPO) or `SFT_READBACK` (SFT).
 */
export const SEPPO_READBACK = ['mW', 'mL', 'rW', 'rL', 'inside', 's'] as const;
export const SFT_READBACK = ['mW'] as const;
/**
 * Diffusion-RPO: SEPPO_READBACK's fields with `inside` = the diagonal inside_ii (Diffusion-DPO's own-pair
 * term, so the diagnostics read as DPO's) and s = −1, then ω_ii, the weight each winner puts on its own loser.
 */
export const RPO_READBACK = [...SEPPO_READBACK, 'selfWeight'] as const;

/** A read-back by name: the loss and, per field, its [B] per-sample values (m_w, m_l, r_w, r_l, inside, s). */
export type Readback<F extends readonly string[]> = { loss: number } & Record<F[number], Float32Array>;

function packReadback(loss: tf.Scalar, perSample: tf.Tensor1D[]): tf.Tensor1D {
  return tf.concat([loss.reshape([1]), ...perSample]) as tf.Tensor1D;
}

function unpackReadback<F extends readonly string[]>(v: Float32Array, fields: F, B: number): Readback<F> {
  const out = { loss: v[0] } as Record<string, number | Float32Array>;
  fields.forEach((f, k) => (out[f] = v.subarray(1 + k * B, 1 + (k + 1) * B)));
  return out as Readback<F>;
}

/** Step 1. Algorithm 1: the reference model is drawn once per iteration k = ⌊u / N⌋ (seeded by k, not by arm). */
function chooseReference(arm: ArmState, c: UpdateContext): void {
  const iter = Math.floor(c.update / c.config.checkpointEvery);
  if (arm.refIter !== iter) {
    arm.ref = arm.pool.pick(arm.cfg.refStrategy, new Rng(c.config.seed).fork(`refpick/${iter}`));
    arm.refIter = iter;
  }
}

/** Step 2. x^w [B,S,S,C]: the winners, or for 'random' data the seeded pick of winner or loser. */
function trainingLatents(arm: ArmState, c: UpdateContext): tf.Tensor4D {
  return c.data.gatherLatents(c.data.trainingRows(c.idx, arm.cfg.data));
}

/** On-policy reference samples x^l for this arm's batch (shared across arms with the same θ_ref at this update). */
async function referenceSamples(arm: ArmState, c: UpdateContext): Promise<tf.Tensor4D> {
  const ref = arm.ref!;
  if (!arm.cache.needsRegeneration(c.idx, c.update, ref.k)) return arm.cache.batch(c.idx);
  let lat = c.refMemo.get(ref.params);
  if (!lat) {
    const B = c.idx.length;
    const [S, , C] = c.latentShape;
    const z = tf.tensor4d(refNoise(c.config.seed, c.update, B, S * S * C), [B, S, S, C]);
    lat = sampleReferenceLatents(ref.params, c.unet, c.shared.sampleCtx, c.data.uncond, z, {
      steps: c.config.refSteps,
      guidance: c.config.refGuidance,
    });
    z.dispose();
    c.refMemo.set(ref.params, lat);
  }
  await arm.cache.store(c.idx, lat, c.update, ref.k);
  return tf.clone(lat);
}

/** Step 3. x^l [B,S,S,C]: the real losers ('dpo', 'rpo'), the reference samples ('seppo'), none ('sft'). */
async function losingLatents(arm: ArmState, c: UpdateContext): Promise<tf.Tensor4D | null> {
  if (isPairMethod(arm.cfg.method)) return c.data.gatherLatents(c.data.loserRows(c.idx));
  if (arm.cfg.method === 'seppo') return referenceSamples(arm, c);
  return null;
}

/**
 * Step 4. The gradients of the arm's loss w.r.t. its policy and the packed read-back tensor.
 * SFT: loss = mean(m_w). SePPO / DPO: both halves go through the UNet as one [2B] batch with the
 * same t and ε; r_w, r_l are the reference's errors, computed outside the gradient tape. RPO: the same
 * forwards, its own loss (`rpoLossAndGradients`).
 */
function lossAndGradients(
  arm: ArmState,
  c: UpdateContext,
  xw: tf.Tensor4D,
  xl: tf.Tensor4D | null,
  lap: (phase: UpdatePhase) => void,
): { grads: tf.NamedTensorMap; packed: tf.Tensor1D } {
  const sh = c.shared;
  const ucfg = c.unet;
  return tf.tidy(() => {
    if (arm.cfg.method === 'sft') {
      const zt = qSample(xw, sh.t, sh.eps, c.schedule);
      let kept: tf.Tensor1D | null = null;
      const g = tf.variableGrads(() => {
        const m = perSampleMse(unetForward(arm.policy, ucfg, zt, sh.tF, sh.ctx), sh.eps); // m_w [B]
        kept = tf.keep(m);
        const loss = sftLoss(m);
        lap('policy forward');
        return loss;
      }, arm.vars);
      const packed = packReadback(g.value, [kept!]); // SFT_READBACK
      kept!.dispose();
      return { grads: g.grads, packed };
    }
    const zt2 = qSample(tf.concat([xw, xl!]) as tf.Tensor4D, sh.t2, sh.eps2, c.schedule); // [2B,S,S,C]
    // r_w, r_l: the reference's errors, computed outside the gradient tape (no gradient).
    const r = perSampleMse(unetForward(arm.ref!.params, ucfg, zt2, sh.tF2, sh.ctx2), sh.eps2);
    const [rW, rL] = tf.split(r, 2) as tf.Tensor1D[];
    lap('reference forward');
    if (arm.cfg.method === 'rpo') return rpoLossAndGradients(arm, c, zt2, rW, rL, lap);
    let kept: { mW: tf.Tensor1D; mL: tf.Tensor1D; inside: tf.Tensor1D; s: tf.Tensor1D } | null = null;
    const g = tf.variableGrads(() => {
      const m = perSampleMse(unetForward(arm.policy, ucfg, zt2, sh.tF2, sh.ctx2), sh.eps2); // [2B]
      const [mW, mL] = tf.split(m, 2) as tf.Tensor1D[];
      const res = seppoLoss({ modelW: mW, modelL: mL, refW: rW, refL: rL }, { beta: arm.beta, flip: arm.cfg.flip });
      kept = { mW: tf.keep(mW), mL: tf.keep(mL), inside: tf.keep(res.inside), s: tf.keep(res.s) };
      lap('policy forward');
      return res.loss;
    }, arm.vars);
    const k = kept!;
    const packed = packReadback(g.value, [k.mW, k.mL, rW, rL, k.inside, k.s]); // SEPPO_READBACK order
    tf.dispose([k.mW, k.mL, k.inside, k.s]);
    return { grads: g.grads, packed };
  });
}

/**
 * Step 4 for Diffusion-RPO (rpoLoss.ts): the same forwards as Diffusion-DPO (x^w ‖ x^l at one t and ε per
 * pair, r outside the tape), then every winner i against every loser j of the batch, weighted by
 * ω_ij = softmax_j(S_ij / τ) with S the cosine similarity of the batch's prompts: their text contexts
 * as sampled (`sampleCtx`, never the dropped-out ones), a constant for the gradient.
 */
function rpoLossAndGradients(arm: ArmState, c: UpdateContext, zt2: tf.Tensor4D, rW: tf.Tensor1D, rL: tf.Tensor1D, lap: (phase: UpdatePhase) => void): { grads: tf.NamedTensorMap; packed: tf.Tensor1D } {
  const sh = c.shared;
  const B = c.idx.length;
  return tf.tidy(() => {
    const S = promptSimilarity(sh.sampleCtx); // [B,B]
    const eye = tf.eye(B);
    let kept: { mW: tf.Tensor1D; mL: tf.Tensor1D; inside: tf.Tensor1D; selfWeight: tf.Tensor1D } | null = null;
    const g = tf.variableGrads(() => {
      const m = perSampleMse(unetForward(arm.policy, c.unet, zt2, sh.tF2, sh.ctx2), sh.eps2); // [2B]
      const [mW, mL] = tf.split(m, 2) as tf.Tensor1D[];
      const res = diffusionRpoLoss({ modelW: mW, modelL: mL, refW: rW, refL: rL }, S, { beta: arm.beta, tau: rpoTauOf(arm.cfg) });
      kept = {
        mW: tf.keep(mW),
        mL: tf.keep(mL),
        inside: tf.keep(tf.sum(tf.mul(res.inside, eye), 1) as tf.Tensor1D), // inside_ii: Diffusion-DPO's term of pair i
        selfWeight: tf.keep(tf.sum(tf.mul(res.weights, eye), 1) as tf.Tensor1D), // ω_ii
      };
      lap('policy forward');
      return res.loss;
    }, arm.vars);
    const k = kept!;
    const packed = packReadback(g.value, [k.mW, k.mL, rW, rL, k.inside, tf.fill([B], -1) as tf.Tensor1D, k.selfWeight]); // RPO_READBACK order
    tf.dispose([k.mW, k.mL, k.inside, k.selfWeight]);
    return { grads: g.grads, packed };
  });
}

/** Step 5. The one read-back of this arm's update (`await data()`, so a worker can interleave messages). */
async function readBack(packed: tf.Tensor1D): Promise<Float32Array> {
  const v = (await packed.data()) as Float32Array;
  packed.dispose();
  return v;
}

/** Step 7. The record of the update, from its read-back (fields that do not apply to the arm's method are null). */
function updateRecord(arm: ArmState, c: UpdateContext, v: Float32Array, refMs: number): UpdateRecord {
  const B = c.idx.length;
  const base = { arm: arm.cfg.name, update: c.update + 1, loss: v[0], refK: arm.cfg.method === 'sft' ? null : arm.ref!.k, refMs, ms: 0 };
  if (arm.cfg.method === 'sft') {
    const rb = unpackReadback(v, SFT_READBACK, B);
    const mW = rb.mW.reduce((a, b) => a + b, 0) / B;
    return { ...base, mW, mL: null, rW: null, rL: null, implicitAcc: null, aafRate: null, rewardW: null, rewardL: null, margin: null, insideHist: null, accByTBucket: null, flippedShare: null };
  }
  const rb = unpackReadback(v, SEPPO_READBACK, B);
  const d = lossDiagnostics({ beta: arm.beta, mW: rb.mW, mL: rb.mL, rW: rb.rW, rL: rb.rL, inside: rb.inside, s: rb.s, t: c.t });
  const rec: UpdateRecord = { ...base, ...d, implicitAcc: implicitAccuracyOf(rb.inside), aafRate: aafRateOf(rb.s) };
  if (arm.cfg.method === 'rpo') rec.rpoSelfWeight = mean(unpackReadback(v, RPO_READBACK, B).selfWeight);
  return rec;
}

/**
 * The AAF decisions of this update against the truth: U(decoded x^l) ≥ U(decoded x^w)? Both halves go
 * through the same frozen decoder (so the decoder's ceiling does not favour the real winner), and the
 * decisions s are the update's own (read back with the loss).
 */
async function skillOf(decoded: tf.Tensor4D, v: Float32Array, c: UpdateContext): Promise<AafConfusion> {
  const B = c.idx.length;
  const px = (await decoded.data()) as Float32Array;
  decoded.dispose();
  const s = unpackReadback(v, SEPPO_READBACK, B).s;
  const uW = new Float64Array(B);
  const uRef = new Float64Array(B);
  for (let i = 0; i < B; i++) {
    const p = c.data.prompts[c.idx[i]];
    uW[i] = trueUtility(p, px.subarray(i * IMAGE_LEN, (i + 1) * IMAGE_LEN)).total;
    uRef[i] = trueUtility(p, px.subarray((B + i) * IMAGE_LEN, (B + i + 1) * IMAGE_LEN)).total;
  }
  return aafConfusion(s, uRef, uW);
}

/**
 * Step 6's guard: why this update must not be applied, or null. A non-finite loss; a loss above the
 * config's `divergence.maxLoss`; or (SePPO/DPO arms whose reference is θ₀, so r_w is θ₀'s error on the
 * same x_t) the winners' mean error m̄_w more than `divergence.maxWinnerErrorRise` above θ₀'s r̄_w.
 * Only values the update already read back are used.
 */
export function divergenceOf(arm: ArmState, c: Pick<UpdateContext, 'config' | 'idx'>, v: Float32Array): string | null {
  const loss = v[0];
  if (!Number.isFinite(loss)) return `non-finite loss (${loss})`;
  const b = divergenceBounds(c.config);
  if (loss > b.maxLoss) return `diverged: loss ${loss.toPrecision(4)} above divergence.maxLoss ${b.maxLoss}`;
  if ((arm.cfg.method === 'seppo' || isPairMethod(arm.cfg.method)) && arm.ref && arm.ref.k === 0) {
    const rb = unpackReadback(v, SEPPO_READBACK, c.idx.length);
    let sm = 0;
    let sr = 0;
    for (let i = 0; i < rb.mW.length; i++) (sm += rb.mW[i]), (sr += rb.rW[i]);
    const rise = sm / sr - 1;
    if (rise > b.maxWinnerErrorRise) {
      return `diverged: winners' error ${rise >= 0 ? '+' : ''}${(rise * 100).toPrecision(4)} % against θ₀ (m̄_w / r̄_w − 1 = ${rise.toPrecision(4)}) above divergence.maxWinnerErrorRise ${b.maxWinnerErrorRise}`;
    }
  }
  return null;
}

/** One update of one arm (steps 1–7); null when the arm halted on a non-finite loss (`arm.halted` says why). */
export async function updateArm(arm: ArmState, c: UpdateContext): Promise<UpdateRecord | null> {
  if (isRewardMethod(arm.cfg.method)) return rewardArmUpdate(arm, c);
  const t0 = performance.now();
  const lap = lapper(c.timer);
  if (arm.cfg.method !== 'sft') chooseReference(arm, c);
  const xw = trainingLatents(arm, c);
  lap('data');
  const tr = performance.now();
  const xl = await losingLatents(arm, c);
  const refMs = performance.now() - tr;
  if (xl) lap('reference sampling');
  const { grads, packed } = lossAndGradients(arm, c, xw, xl, lap);
  lap('policy backward');
  // AAF skill: decode x^w ‖ x^l with the frozen decoder (read back after the update's own read-back).
  const ts0 = performance.now();
  const decoded = arm.skill && xl && c.base ? tf.tidy(() => tf.clipByValue(decodeLatents(c.base!, tf.concat([xw, xl]) as tf.Tensor4D), -1, 1)) : null;
  tf.dispose([xw, ...(xl ? [xl] : [])]);
  if (decoded) lap('AAF skill');

  const v = await readBack(packed);
  lap('read-back');
  // Step 6. One Adam step on the policy, unless the loss is non-finite or the guard trips.
  const diverged = divergenceOf(arm, c, v);
  if (diverged) {
    tf.dispose(grads); // never apply a non-finite or diverged update
    decoded?.dispose();
    arm.halted = `${arm.cfg.name}: ${diverged} at update ${c.update + 1}; this arm is halted, the others go on`;
    lap('optimizer');
    return null;
  }
  if (arm.cfg.warmup) arm.opt.learningRate = warmupLr(arm.lr, arm.cfg.warmup, arm.updates.length + 1);
  arm.opt.applyGradients(grads);
  tf.dispose(grads);
  lap('optimizer');

  const rec = updateRecord(arm, c, v, refMs);
  if (decoded) {
    const decodeMs = performance.now() - ts0; // the decoder pass (synchronous on WASM/CPU)
    const ts = performance.now();
    const conf = await skillOf(decoded, v, c);
    arm.skill = addConfusion(arm.skill!, conf);
    rec.aafSkill = conf;
    rec.skillMs = decodeMs + performance.now() - ts;
  }
  rec.ms = performance.now() - t0;
  lap('record');
  return rec;
}

// ---------------------------------------------------------------------------------------------
// The reward-model arms (issue 15): DDPO_IS and D3PO on the arm's own stochastic DDIM samples
// (rewardArms.ts). Same seed, batch order and evaluation as every other arm: the prompts are the
// first P of update u's batch, and the sampling noise is a function of (seed, u) only.

/** The reward of images of the batch's first prompts: the arm's reward model, bound to the prompts. */
function batchReward(arm: ArmState, c: UpdateContext, items: readonly number[]): RewardFn {
  const model = rewardArmOptions(arm.cfg).reward;
  const fn = c.reward?.rewards[model];
  if (!fn) throw new Error(`${arm.cfg.name}: reward model '${model}' has no reward function (ExperimentOptions.rewards)`);
  return (images, promptOf) => fn(images, promptOf.map((i) => c.data.prompts[items[i]]));
}

const mean = (v: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s / v.length;
};

/** A reward arm's guard: a non-finite or too large loss halts it, the gradients not applied (as `divergenceOf`). */
function rewardDivergence(c: UpdateContext, loss: number): string | null {
  if (!Number.isFinite(loss)) return `non-finite loss (${loss})`;
  const b = divergenceBounds(c.config);
  if (loss > b.maxLoss) return `diverged: loss ${loss.toPrecision(4)} above divergence.maxLoss ${b.maxLoss}`;
  return null;
}

function applyStep(arm: ArmState, grads: tf.NamedTensorMap): void {
  if (arm.cfg.warmup) arm.opt.learningRate = warmupLr(arm.lr, arm.cfg.warmup, arm.updates.length + 1);
  arm.opt.applyGradients(grads);
  tf.dispose(grads);
}

function halt(arm: ArmState, c: UpdateContext, why: string): null {
  arm.halted = `${arm.cfg.name}: ${why} at update ${c.update + 1}; this arm is halted, the others go on`;
  return null;
}

/**
 * The end of a reward arm's step (each DDPO inner epoch, D3PO, SPO): read the packed scalars back, then
 * take the Adam step, or, if the loss (`lossOf` the values) diverged, drop the gradients and halt the arm.
 * The read-back values, or null when the arm halted.
 */
async function readBackThenStep(
  arm: ArmState,
  c: UpdateContext,
  lap: (phase: UpdatePhase) => void,
  grads: tf.NamedTensorMap,
  packed: tf.Tensor1D,
  lossOf: (v: Float32Array) => number,
  whySuffix = '',
): Promise<Float32Array | null> {
  lap('policy backward');
  const v = await readBack(packed);
  lap('read-back');
  const why = rewardDivergence(c, lossOf(v));
  if (why) {
    tf.dispose(grads);
    lap('optimizer');
    return halt(arm, c, why + whySuffix);
  }
  applyStep(arm, grads);
  lap('optimizer');
  return v;
}

const NULL_DIAGNOSTICS = { mL: null, rW: null, rL: null, aafRate: null, rewardW: null, rewardL: null, margin: null, insideHist: null, accByTBucket: null, flippedShare: null } as const;

/**
 * One update of a DDPO or D3PO arm. DDPO: ⌊B/R⌋ prompts × R trajectories, per-prompt advantages,
 * `innerEpochs` steps of the clipped IS loss (one read-back each). D3PO: ⌊B/2⌋ prompts × 2 trajectories
 * from one x_T, ranked by the reward (or the raters), one step of the per-step DPO loss against θ_ref.
 */
/**
 * m̄_w of the policy before its update: its denoising error on the batch's winners at the batch's t and ε
 * (what SFT's and SePPO's m_w is). Reward arms never train on the data's images; this is their
 * likelihood-displacement monitor, read back on its own (no gradient).
 */
async function winnersError(arm: ArmState, c: UpdateContext): Promise<number> {
  const sh = c.shared;
  const m = tf.tidy(() => {
    const xw = c.data.gatherLatents(c.data.trainingRows(c.idx, 'winners'));
    return tf.mean(perSampleMse(unetForward(arm.policy, c.unet, qSample(xw, sh.t, sh.eps, c.schedule), sh.tF, sh.ctx), sh.eps));
  });
  return (await readBack(m.reshape([1]) as tf.Tensor1D).finally(() => m.dispose()))[0];
}

async function rewardArmUpdate(arm: ArmState, c: UpdateContext): Promise<UpdateRecord | null> {
  if (!c.reward) throw new Error(`${arm.cfg.name}: a reward arm needs the reward context (UpdateContext.reward)`);
  const t0 = performance.now();
  const lap = lapper(c.timer);
  const mW = await winnersError(arm, c);
  const o = rewardArmOptions(arm.cfg);
  const B = c.idx.length;
  const sd = c.reward.sd;
  const common = { policy: arm.policy, ucfg: c.unet, uncondCtx: c.data.uncond, guidance: c.config.refGuidance, steps: c.config.refSteps, eta: 1, seed: c.config.seed, update: c.update, decode: (z: tf.Tensor4D) => decodeLatents(sd, z), schedule: c.schedule };
  /** Rolls out on the batch's first P prompts (their conditional context: no alignment dropout), freeing the context after; returns the rollout, its time and when it started. */
  const onFirstPrompts = async <T,>(P: number, sample: (ctx: tf.Tensor3D, items: number[]) => Promise<T>): Promise<{ out: T; ms: number; start: number }> => {
    const items = c.idx.slice(0, P);
    const ctx = tf.tidy(() => c.shared.sampleCtx.slice([0, 0, 0], [P, -1, -1]) as tf.Tensor3D);
    lap('data');
    const tr = performance.now();
    try {
      return { out: await sample(ctx, items), ms: performance.now() - tr, start: tr };
    } finally {
      ctx.dispose();
    }
  };

  if (arm.cfg.method === 'ddpo') {
    const R = o.samplesPerPrompt;
    const { out: ro, ms: refMs } = await onFirstPrompts(Math.floor(B / R), (ctx, items) => rollout({ ...common, ctx, samplesPerPrompt: R, reward: batchReward(arm, c, items) }));
    lap('reference sampling');
    let loss = 0;
    let clipFrac = 0;
    let ratioMaxDev = 0;
    try {
      for (let e = 0; e < o.innerEpochs; e++) {
        const { grads, packed } = ddpoInnerGrads(arm.policy, arm.vars, c.unet, ro.tr, ro.tc, ro.advantages, o.clipRange);
        const v = await readBackThenStep(arm, c, lap, grads, packed, (u) => unpackDdpo(u).loss, e > 0 ? ` (inner epoch ${e + 1})` : '');
        if (!v) return null;
        const r = unpackDdpo(v);
        loss += r.loss / o.innerEpochs;
        clipFrac += r.clipFrac / o.innerEpochs;
        ratioMaxDev = Math.max(ratioMaxDev, r.ratioMaxDev);
      }
    } finally {
      disposeRollout(ro);
    }
    const rec: UpdateRecord = { arm: arm.cfg.name, update: c.update + 1, loss, refK: null, refMs, ms: 0, mW, ...NULL_DIAGNOSTICS, implicitAcc: null, trainReward: mean(ro.rewards), rewardModel: o.reward, clipFrac, ratioMaxDev };
    rec.ms = performance.now() - t0;
    lap('record');
    return rec;
  }

  if (arm.cfg.method === 'spo') return spoArmUpdate(arm, c, { t0, lap, mW, onFirstPrompts, common });

  // D3PO
  chooseReference(arm, c);
  const P = Math.floor(B / 2);
  const items = c.idx.slice(0, P);
  const { out: pr, start: tr } = await onFirstPrompts(P, (ctx) => pairRollout({ ...common, ctx, reward: batchReward(arm, c, items), pixels: o.preference === 'raters' }));
  let aWins: Uint8Array;
  let keep: Float32Array | undefined;
  let ties: number | undefined;
  if (o.preference === 'raters') {
    // The world's simulated raters (pool A, who rated the training pairs) judge the two decoded images:
    // Bradley–Terry on their pool utility, ties (inside the tie band) dropped from the loss.
    const pool = RATER_POOLS.A;
    const rng = new Rng(c.config.seed).fork(`d3po-raters/${c.update}`);
    aWins = new Uint8Array(P);
    keep = new Float32Array(P);
    ties = 0;
    for (let i = 0; i < P; i++) {
      const p = c.data.prompts[items[i]];
      const uA = poolUtility(pool, trueUtility(p, pr.pixels!.subarray(i * IMAGE_LEN, (i + 1) * IMAGE_LEN)).parts);
      const uB = poolUtility(pool, trueUtility(p, pr.pixels!.subarray((P + i) * IMAGE_LEN, (P + i + 1) * IMAGE_LEN)).parts);
      const j = ratePair(pool, uA, uB, rng);
      if (j === 'tie') ties++;
      else (aWins[i] = j === 'a' ? 1 : 0), (keep[i] = 1);
    }
  } else aWins = preferA(pr.rewardA, pr.rewardB);
  const { w, l } = splitByPreference(pr.a, pr.b, aWins);
  const refMs = performance.now() - tr;
  lap('reference sampling');
  let grads: tf.NamedTensorMap;
  let packed: tf.Tensor1D;
  try {
    ({ grads, packed } = d3poGrads(arm.policy, arm.ref!.params, arm.vars, c.unet, w, l, pr.tc, arm.beta, keep));
  } finally {
    disposeTrajectory(w);
    disposeTrajectory(l);
    disposePairRollout(pr);
  }
  const v = await readBackThenStep(arm, c, lap, grads, packed, (u) => u[0]);
  if (!v) return null;
  const rec: UpdateRecord = {
    arm: arm.cfg.name,
    update: c.update + 1,
    loss: v[0],
    refK: arm.ref!.k,
    refMs,
    ms: 0,
    mW,
    ...NULL_DIAGNOSTICS,
    implicitAcc: v[1],
    trainReward: (mean(pr.rewardA) + mean(pr.rewardB)) / 2,
    rewardModel: o.reward,
    insideAbs: v[2],
    ...(ties !== undefined ? { raterTies: ties } : {}),
  };
  rec.ms = performance.now() - t0;
  lap('record');
  return rec;
}

/**
 * One SPO update (rewardArms.ts): ⌊B/K⌋ prompts of the batch, one trajectory each with K candidates at
 * every stochastic step, ranked by the arm's reward model on their decoded x̂₀; one step of the per-step
 * DPO loss on the best vs the worst candidate against θ_ref (θ₀ by default), guarded like D3PO's.
 */
async function spoArmUpdate(
  arm: ArmState,
  c: UpdateContext,
  x: {
    t0: number;
    lap: (phase: UpdatePhase) => void;
    mW: number;
    onFirstPrompts: <T>(P: number, sample: (ctx: tf.Tensor3D, items: number[]) => Promise<T>) => Promise<{ out: T; ms: number; start: number }>;
    common: Omit<Parameters<typeof spoRollout>[0], 'ctx' | 'candidates' | 'reward'>;
  },
): Promise<UpdateRecord | null> {
  const { lap } = x;
  const o = rewardArmOptions(arm.cfg);
  chooseReference(arm, c);
  const K = o.spoCandidates;
  const P = Math.floor(c.idx.length / K);
  const { out: ro, ms: refMs } = await x.onFirstPrompts(P, (ctx, items) => spoRollout({ ...x.common, ctx, candidates: K, reward: batchReward(arm, c, items) }));
  lap('reference sampling');
  let grads: tf.NamedTensorMap;
  let packed: tf.Tensor1D;
  try {
    ({ grads, packed } = spoGrads(arm.policy, arm.ref!.params, arm.vars, c.unet, ro.steps, ro.tc, arm.beta));
  } finally {
    disposeSpoRollout(ro);
  }
  const v = await readBackThenStep(arm, c, lap, grads, packed, (u) => u[0]);
  if (!v) return null;
  const rec: UpdateRecord = {
    arm: arm.cfg.name,
    update: c.update + 1,
    loss: v[0],
    refK: arm.ref!.k,
    refMs,
    ms: 0,
    mW: x.mW,
    ...NULL_DIAGNOSTICS,
    implicitAcc: v[1],
    trainReward: mean(ro.finalReward),
    rewardModel: o.reward,
    insideAbs: v[2],
    spoScoreGap: ro.scoreGap,
  };
  rec.ms = performance.now() - x.t0;
  lap('record');
  return rec;
}
