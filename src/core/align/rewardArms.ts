/**
 * The reward-model arms of issue 15 (the paper's Table 1 baselines DDPO, D3PO and SPO): their losses and
 * one update each, on stochastic DDIM trajectories (diffusion/stochasticDdim.ts). The trainer calls them
 * through armUpdate.ts's `rewardArmUpdate` (methods 'ddpo' and 'd3po' of config.ts): the `…Grads` functions
 * give the gradients and the packed read-back without applying them, so the trainer's divergence guard
 * can refuse a non-finite update; the `…Step` functions apply them at once.
 *
 * DDPO_IS (Black et al. 2024, eq. 4 and their PPO-style clipping): for trajectories of a batch of
 * prompts, rewards r_i of the final images (a learned reward model: PickScore-mini by default; the
 * true utility is never a training signal), advantages normalised per prompt
 *
 *   A_i = (r_i − mean_{j: c_j = c_i} r_j) / (std_{j: c_j = c_i} r_j + ε)        (population std)
 *
 * and, per stochastic step k, the importance ratio ρ_{i,k} = exp(log p_θ(x_{k+1}|x_k,c) − log p_old(…))
 * with the clipped objective
 *
 *   L = mean_{i,k} max(−A_i · ρ_{i,k}, −A_i · clip(ρ_{i,k}, 1 − δ, 1 + δ)).
 *
 * At the first inner epoch θ = θ_old, so ρ = 1 exactly: log p_old is the value stored when sampling,
 * which trajectoryLogProbs recomputes bit for bit. DDPO's reference code averages the log-density over
 * latent dimensions; ours is the summed true density (stochasticDdim.ts), so ρ is sharper per step.
 *
 * D3PO (Yang et al. 2024, eq. 9): two trajectories per prompt from the same x_T, the preferred one
 * (w) by the reward model (or by the world's raters); per stochastic step k
 *
 *   inside_k = β · [(log p_θ(x^w_{k+1}|x^w_k) − log p_ref(x^w_{k+1}|x^w_k)) − (same for l)]
 *   L = mean_{i,k} −log σ(inside_{i,k}).
 *
 * The reference forward runs outside the gradient tape (as armUpdate.ts does for SePPO's r).
 *
 * SPO (Liang et al. 2024, step-aware preference optimisation, §3–4): one trajectory per prompt, and at
 * every stochastic step k, K candidates x^j_{t'} = μ_θ(x_t) + σ_t · z_j from the same parent x_t; a
 * step-aware preference model ranks them, the best w and the worst l of each step give one DPO term
 *
 *   inside_k = β · [(log p_θ(x^w|x_t) − log p_ref(x^w|x_t)) − (log p_θ(x^l|x_t) − log p_ref(x^l|x_t))]
 *   L = mean_{p,k} −log σ(inside_{p,k})                                            (D3PO's form, per step)
 *
 * and the trajectory continues from a candidate drawn uniformly at random (seeded), not the best, so the
 * later steps see the policy's own distribution of x_t. The step-aware scorer: no scorer trained with
 * the timestep as input ships here, so each candidate is scored by the arm's reward model on the decoded
 * predicted x̂₀ = (x_{t'} − √(1−ᾱ_{t'}) ε_θ(x_{t'}, t')) / √ᾱ_{t'} (DDIM eq. 12) — the fallback SPO itself
 * describes (ranking by the predicted clean image); early steps' x̂₀ are blurry, so their ranking is noisier.
 */
import * as tf from '@tensorflow/tfjs';
import { guidedEps, type EpsFn, type GuidedEpsOptions } from '../diffusion/ddim';
import { initialNoise } from '../diffusion/sample';
import { scheduleFor, type Schedule } from '../diffusion/schedule';
import { disposeTrajectory, gaussianLogProb, sampleTrajectory, seededStepNoise, stepMean, stochasticDdimCoefficients, trajectoryLogProbs, type StepCoeffs, type Trajectory } from '../diffusion/stochasticDdim';
import { Rng } from '../rng';
import type { Params, UNetConfig } from '../model/sd';
import { unetForward } from '../model/sd';
import type { StepOptimizer } from '../optim';

/** The reward models an arm may train on (the true utility is not among them, by design); defined in config.ts (no tfjs there). */
export { REWARD_MODELS, type RewardModel } from '../config';

/**
 * Per-prompt advantage normalisation (DDPO's per-prompt stat tracking, within one batch): rewards of
 * images sharing a prompt key are centred on their mean and divided by their population std + eps. A
 * prompt seen once, or a group of equal rewards, gets advantage 0 (no comparison to learn from).
 */
export function perPromptAdvantages(rewards: ArrayLike<number>, promptKeys: readonly (string | number)[], eps = 1e-6): Float32Array {
  if (rewards.length !== promptKeys.length) throw new Error(`perPromptAdvantages: ${rewards.length} rewards for ${promptKeys.length} prompt keys`);
  const groups = new Map<string | number, number[]>();
  promptKeys.forEach((k, i) => (groups.get(k) ?? groups.set(k, []).get(k)!).push(i));
  const out = new Float32Array(rewards.length);
  for (const idx of groups.values()) {
    if (idx.length < 2) continue;
    const mean = idx.reduce((a, i) => a + rewards[i], 0) / idx.length;
    const std = Math.sqrt(idx.reduce((a, i) => a + (rewards[i] - mean) ** 2, 0) / idx.length);
    if (std === 0) continue; // a constant group: nothing to prefer
    for (const i of idx) out[i] = (rewards[i] - mean) / (std + eps);
  }
  return out;
}

/**
 * DDPO's clipped importance-sampling loss: logProbNew, logProbOld [B, K], advantages [B].
 * Returns the scalar loss, the ratios [B, K] and the share of (i, k) where clipping was active.
 */
export function ddpoClippedLoss(logProbNew: tf.Tensor2D, logProbOld: tf.Tensor2D, advantages: tf.Tensor1D, clipRange: number): { loss: tf.Scalar; ratio: tf.Tensor2D; clipFrac: tf.Scalar } {
  if (!(clipRange > 0)) throw new Error(`ddpoClippedLoss: clip range must be > 0, got ${clipRange}`);
  return tf.tidy(() => {
    const ratio = tf.exp(tf.sub(logProbNew, logProbOld)) as tf.Tensor2D; // [B,K]
    const a = advantages.reshape([-1, 1]); // [B,1]
    const unclipped = tf.mul(tf.neg(a), ratio);
    const clipped = tf.mul(tf.neg(a), tf.clipByValue(ratio, 1 - clipRange, 1 + clipRange));
    const loss = tf.mean(tf.maximum(unclipped, clipped)) as tf.Scalar;
    const clipFrac = tf.mean(tf.cast(tf.greater(tf.abs(tf.sub(ratio, 1)), clipRange), 'float32')) as tf.Scalar;
    return { loss, ratio, clipFrac };
  });
}

/**
 * D3PO's loss from per-step log-probabilities [B, K] of the preferred (W) and other (L) trajectory
 * under the policy and the reference. Returns the loss, inside [B, K] and the implicit accuracy.
 */
export function d3poLoss(policyW: tf.Tensor2D, policyL: tf.Tensor2D, refW: tf.Tensor2D, refL: tf.Tensor2D, beta: number, keep?: tf.Tensor1D): { loss: tf.Scalar; inside: tf.Tensor2D; implicitAcc: tf.Scalar } {
  return tf.tidy(() => {
    const inside = tf.mul(beta, tf.sub(tf.sub(policyW, refW), tf.sub(policyL, refL))) as tf.Tensor2D;
    const perStep = tf.softplus(tf.neg(inside)); // −log σ(x) = softplus(−x), as loss.ts (tf.logSigmoid's gradient fails on WASM)
    const right = tf.cast(tf.greater(inside, 0), 'float32');
    if (!keep) return { loss: tf.mean(perStep) as tf.Scalar, inside, implicitAcc: tf.mean(right) as tf.Scalar };
    // `keep` [B] ∈ {0, 1}: the pairs that count (the raters' ties are dropped); the mean over the kept
    // pairs' steps, 0 (no gradient) when none is kept.
    const w = keep.reshape([-1, 1]);
    const n = tf.maximum(tf.mul(tf.sum(keep), inside.shape[1]), 1);
    const loss = tf.div(tf.sum(tf.mul(perStep, w)), n) as tf.Scalar;
    return { loss, inside, implicitAcc: tf.div(tf.sum(tf.mul(right, w)), n) as tf.Scalar };
  });
}

/** What a trajectory was sampled with: its text contexts and guidance (the recompute must use the same). */
export interface TrajectoryContext {
  ctx: tf.Tensor3D;
  uncondCtx: tf.Tensor3D;
  guidance: number;
}

const epsOf = (params: Params, ucfg: UNetConfig): EpsFn => (z, t, c) => unetForward(params, ucfg, z, t, c);

/** The stochastic steps of a trajectory (σ > 0): the ones both methods train on. */
export function stochasticSteps(tr: Trajectory): number[] {
  return tr.stochastic.flatMap((s, k) => (s ? [k] : []));
}

export interface DdpoInnerResult {
  loss: number;
  /** Mean and max |ρ − 1| of this inner epoch (0 and 0 at the first one), and the clipped share. */
  ratioMean: number;
  ratioMaxDev: number;
  clipFrac: number;
}

/**
 * One inner epoch of DDPO_IS: the clipped loss over every stochastic step of `tr` under `policy`
 * (log p_old = the log-probabilities stored at sampling), one optimiser step. One read-back.
 */
export async function ddpoInnerStep(
  policy: Params,
  vars: tf.Variable[],
  opt: Pick<StepOptimizer, 'applyGradients'>,
  ucfg: UNetConfig,
  tr: Trajectory,
  tc: TrajectoryContext,
  advantages: Float32Array,
  clipRange: number,
): Promise<DdpoInnerResult> {
  const { grads, packed } = ddpoInnerGrads(policy, vars, ucfg, tr, tc, advantages, clipRange);
  opt.applyGradients(grads);
  tf.dispose(grads);
  return unpackDdpo(await readOnce(packed));
}

/**
 * The gradients of one DDPO_IS inner epoch (not applied) and its packed read-back [loss, mean ρ,
 * max |ρ − 1|, clipped share] (`unpackDdpo`). Black et al. 2024, eq. 4 (the importance-sampling
 * estimator ∇ E[ρ A]) with the PPO-style clip of their §4.3: L = mean max(−Aρ, −A clip(ρ, 1 ± δ)).
 */
export function ddpoInnerGrads(
  policy: Params,
  vars: tf.Variable[],
  ucfg: UNetConfig,
  tr: Trajectory,
  tc: TrajectoryContext,
  advantages: Float32Array,
  clipRange: number,
): { grads: tf.NamedTensorMap; packed: tf.Tensor1D } {
  const ks = stochasticSteps(tr);
  if (ks.length === 0) throw new Error('DDPO: the trajectory has no stochastic step (η = 0?)');
  return tf.tidy(() => {
    const old = tf.gather(tr.logProbs, tf.tensor1d(ks, 'int32'), 1) as tf.Tensor2D; // [B,K]
    const adv = tf.tensor1d(advantages);
    let kept: tf.Tensor[] = [];
    const g = tf.variableGrads(() => {
      const lp = trajectoryLogProbs({ eps: epsOf(policy, ucfg), ...tc }, tr, ks); // [B,K]
      const r = ddpoClippedLoss(lp, old, adv, clipRange);
      const dev = tf.abs(tf.sub(r.ratio, 1));
      kept = [tf.keep(tf.mean(r.ratio)), tf.keep(tf.max(dev)), tf.keep(r.clipFrac)];
      return r.loss;
    }, vars);
    const packed = tf.stack([g.value, ...kept]) as tf.Tensor1D;
    tf.dispose(kept);
    return { grads: g.grads, packed };
  });
}

export function unpackDdpo(v: Float32Array): DdpoInnerResult {
  return { loss: v[0], ratioMean: v[1], ratioMaxDev: v[2], clipFrac: v[3] };
}

async function readOnce(packed: tf.Tensor): Promise<Float32Array> {
  const v = (await packed.data()) as Float32Array;
  packed.dispose();
  return v;
}

export interface D3poStepResult {
  loss: number;
  implicitAcc: number;
}

/**
 * One D3PO update: winners `trW` and the others `trL` (same prompts, same x_T, row i a pair), the
 * DPO objective on their per-step log-ratios against `ref` (outside the tape), one optimiser step.
 */
export async function d3poStep(
  policy: Params,
  ref: Params,
  vars: tf.Variable[],
  opt: Pick<StepOptimizer, 'applyGradients'>,
  ucfg: UNetConfig,
  trW: Trajectory,
  trL: Trajectory,
  tc: TrajectoryContext,
  beta: number,
): Promise<D3poStepResult> {
  const { grads, packed } = d3poGrads(policy, ref, vars, ucfg, trW, trL, tc, beta);
  opt.applyGradients(grads);
  tf.dispose(grads);
  const v = await readOnce(packed);
  return { loss: v[0], implicitAcc: v[1] };
}

/**
 * The gradients of one D3PO update (not applied) and its packed read-back [loss, implicit accuracy,
 * mean |inside|]. Yang et al. 2024, eq. 9 (the DPO objective per denoising step, each step of the
 * chain treated as a one-step MDP): −log σ(β[log π_θ/π_ref (x^w_{k+1}|x^w_k) − log π_θ/π_ref (x^l_{k+1}|x^l_k)]).
 * `keep` [B] ∈ {0, 1}: pairs dropped from the loss (the raters' ties); default all kept.
 */
export function d3poGrads(
  policy: Params,
  ref: Params,
  vars: tf.Variable[],
  ucfg: UNetConfig,
  trW: Trajectory,
  trL: Trajectory,
  tc: TrajectoryContext,
  beta: number,
  keep?: Float32Array,
): { grads: tf.NamedTensorMap; packed: tf.Tensor1D } {
  const ks = stochasticSteps(trW);
  if (ks.length === 0) throw new Error('D3PO: the trajectories have no stochastic step (η = 0?)');
  if (stochasticSteps(trL).join() !== ks.join()) throw new Error('D3PO: both trajectories of a pair must share their steps');
  return tf.tidy(() => {
    const refO = { eps: epsOf(ref, ucfg), ...tc };
    const rW = trajectoryLogProbs(refO, trW, ks); // no gradient: outside the tape
    const rL = trajectoryLogProbs(refO, trL, ks);
    const mask = keep ? tf.tensor1d(keep) : undefined;
    let kept: tf.Scalar[] = [];
    const g = tf.variableGrads(() => {
      const o = { eps: epsOf(policy, ucfg), ...tc };
      const r = d3poLoss(trajectoryLogProbs(o, trW, ks), trajectoryLogProbs(o, trL, ks), rW, rL, beta, mask);
      kept = [tf.keep(r.implicitAcc), tf.keep(tf.mean(tf.abs(r.inside)) as tf.Scalar)];
      return r.loss;
    }, vars);
    const packed = tf.stack([g.value, ...kept]) as tf.Tensor1D;
    tf.dispose(kept);
    return { grads: g.grads, packed };
  });
}

/**
 * Which trajectory of each pair is preferred: 1 where a is (reward a ≥ reward b; ties go to a, so the
 * choice is deterministic), else 0. Feed it the reward model's scores or the raters' draws.
 */
export function preferA(rewardA: ArrayLike<number>, rewardB: ArrayLike<number>): Uint8Array {
  if (rewardA.length !== rewardB.length) throw new Error(`preferA: ${rewardA.length} vs ${rewardB.length} rewards`);
  return Uint8Array.from({ length: rewardA.length }, (_, i) => (rewardA[i] >= rewardB[i] ? 1 : 0));
}

/** Row-wise pick of two trajectories by `aWins`: the preferred ones w and the others l, as new trajectories (row i of w is a's where aWins[i], else b's). */
export function splitByPreference(a: Trajectory, b: Trajectory, aWins: Uint8Array): { w: Trajectory; l: Trajectory } {
  let out: { w: Trajectory; l: Trajectory } | null = null;
  tf.tidy(() => {
    const m = tf.tensor1d(aWins, 'bool');
    const pick = (x: tf.Tensor4D, y: tf.Tensor4D, first: boolean) => {
      const mm = m.reshape([-1, 1, 1, 1]).tile([1, ...x.shape.slice(1)]);
      return (first ? tf.where(mm, x, y) : tf.where(mm, y, x)) as tf.Tensor4D;
    };
    const m2 = m.reshape([-1, 1]).tile([1, a.logProbs.shape[1]]);
    const mk = (first: boolean): Trajectory => ({
      latents: a.latents.map((x, k) => tf.keep(pick(x, b.latents[k], first))),
      logProbs: tf.keep((first ? tf.where(m2, a.logProbs, b.logProbs) : tf.where(m2, b.logProbs, a.logProbs)) as tf.Tensor2D),
      coeffs: a.coeffs,
      stochastic: a.stochastic,
      eta: a.eta,
    });
    out = { w: mk(true), l: mk(false) }; // every tensor kept: the caller disposes both (disposeTrajectory)
  });
  return out!;
}

/**
 * The reward of images: decoded final latents [n,32,32,3] in [−1, 1] and, per image, the index of its
 * prompt → one reward per image. The trainer binds it to a reward model (REWARD_MODELS); never to U.
 */
export type RewardFn = (images: tf.Tensor4D, promptOf: readonly number[]) => Promise<Float32Array>;

export interface RolloutOptions {
  policy: Params;
  ucfg: UNetConfig;
  /** The batch's text contexts, one row per prompt [P,L,D], and the unconditional one [1,L,D]. */
  ctx: tf.Tensor3D;
  uncondCtx: tf.Tensor3D;
  guidance: number;
  /** Trajectories per prompt (≥ 2 for per-prompt advantages to be non-zero). */
  samplesPerPrompt: number;
  steps: number;
  eta: number;
  /** The experiment seed and the update index: x_T and the step noise are functions of (seed, update) only, as batch.ts's ε. */
  seed: number;
  update: number;
  /** Final latents [n,S,S,C] → images [n,32,32,3] (the frozen decoder). */
  decode: (latents: tf.Tensor4D) => tf.Tensor4D;
  reward: RewardFn;
  /** Default: the policy's own (`scheduleFor(ucfg)`, its config's SNR shift). */
  schedule?: Schedule;
}

export interface Rollout {
  /** n = P · samplesPerPrompt trajectories, image i of prompt promptOf[i] (prompt-major: i = p · R + r). */
  tr: Trajectory;
  tc: TrajectoryContext;
  promptOf: number[];
  rewards: Float32Array;
  advantages: Float32Array;
}

/** DDPO's sampling phase: R trajectories per prompt, their rewards and per-prompt advantages. The caller disposes `tr` and `tc.ctx` (`disposeRollout`). */
export async function rollout(o: RolloutOptions): Promise<Rollout> {
  const P = o.ctx.shape[0];
  const R = o.samplesPerPrompt;
  if (!Number.isInteger(R) || R < 1) throw new Error(`rollout: samplesPerPrompt must be a positive integer, got ${R}`);
  const [S, C] = [o.ucfg.latentSize, o.ucfg.latentChannels];
  const n = P * R;
  const D = S * S * C;
  const promptOf = Array.from({ length: n }, (_, i) => Math.floor(i / R));
  const rng = new Rng(o.seed).fork(`rollout/${o.update}`);
  const ctx = tf.tidy(() => tf.gather(o.ctx, tf.tensor1d(promptOf, 'int32')) as tf.Tensor3D); // [n,L,D]
  const tc = { ctx, uncondCtx: o.uncondCtx, guidance: o.guidance };
  const noise = tf.tensor4d(initialNoise(rng.fork('xT').seed, n, D), [n, S, S, C]);
  let tr: Trajectory;
  try {
    tr = sampleTrajectory({ eps: epsOf(o.policy, o.ucfg), ...tc, noise, steps: o.steps, eta: o.eta, stepNoise: seededStepNoise(rng.fork('steps').seed, n, D), schedule: o.schedule ?? scheduleFor(o.ucfg) });
  } catch (e) {
    ctx.dispose();
    throw e;
  } finally {
    noise.dispose();
  }
  const images = tf.tidy(() => tf.clipByValue(o.decode(tr.latents[tr.latents.length - 1]), -1, 1) as tf.Tensor4D);
  let rewards: Float32Array;
  try {
    rewards = await o.reward(images, promptOf);
  } catch (e) {
    disposeRollout({ tr, tc });
    throw e;
  } finally {
    images.dispose();
  }
  if (rewards.length !== n) {
    disposeRollout({ tr, tc });
    throw new Error(`rollout: the reward gave ${rewards.length} values for ${n} images`);
  }
  return { tr, tc, promptOf, rewards, advantages: perPromptAdvantages(rewards, promptOf) };
}

export function disposeRollout(r: Pick<Rollout, 'tr' | 'tc'>): void {
  disposeTrajectory(r.tr);
  r.tc.ctx.dispose();
}

export interface PairRolloutOptions extends Omit<RolloutOptions, 'samplesPerPrompt'> {
  /** Also return the decoded images' pixels [2P·32·32·3] (a's P images, then b's), e.g. for the raters. */
  pixels?: boolean;
}

export interface PairRollout {
  /** Two trajectories per prompt (row i of a and of b: prompt i, the same x_T, their own step noise). */
  a: Trajectory;
  b: Trajectory;
  tc: TrajectoryContext;
  rewardA: Float32Array;
  rewardB: Float32Array;
  pixels: Float32Array | null;
}

/**
 * D3PO's sampling phase (Yang et al. 2024, §4: two images per prompt from the same starting noise, then
 * judged): for each of the P prompts, x_T from `Rng(seed).fork('pairs/<update>')` shared by both
 * trajectories, and their own step noise; both decoded and rewarded. The caller disposes a, b and
 * tc.ctx (`disposePairRollout`). Functions of (seed, update) only: every D3PO arm sees the same noise.
 */
export async function pairRollout(o: PairRolloutOptions): Promise<PairRollout> {
  const P = o.ctx.shape[0];
  const [S, C] = [o.ucfg.latentSize, o.ucfg.latentChannels];
  const D = S * S * C;
  const rng = new Rng(o.seed).fork(`pairs/${o.update}`);
  const ctx = tf.clone(o.ctx);
  const tc = { ctx, uncondCtx: o.uncondCtx, guidance: o.guidance };
  const noise = tf.tensor4d(initialNoise(rng.fork('xT').seed, P, D), [P, S, S, C]);
  const schedule = o.schedule ?? scheduleFor(o.ucfg);
  const sample = (label: string) => sampleTrajectory({ eps: epsOf(o.policy, o.ucfg), ...tc, noise, steps: o.steps, eta: o.eta, stepNoise: seededStepNoise(rng.fork(label).seed, P, D), schedule });
  let a: Trajectory | null = null;
  let b: Trajectory | null = null;
  try {
    a = sample('steps/a');
    b = sample('steps/b');
    const images = tf.tidy(() => tf.clipByValue(o.decode(tf.concat([a!.latents[a!.latents.length - 1], b!.latents[b!.latents.length - 1]]) as tf.Tensor4D), -1, 1) as tf.Tensor4D);
    let r: Float32Array;
    let pixels: Float32Array | null = null;
    try {
      const promptOf = [...Array.from({ length: P }, (_, i) => i), ...Array.from({ length: P }, (_, i) => i)];
      r = await o.reward(images, promptOf);
      if (o.pixels) pixels = (await images.data()) as Float32Array;
    } finally {
      images.dispose();
    }
    if (r.length !== 2 * P) throw new Error(`pairRollout: the reward gave ${r.length} values for ${2 * P} images`);
    return { a, b, tc, rewardA: r.slice(0, P), rewardB: r.slice(P), pixels };
  } catch (e) {
    if (a) disposeTrajectory(a);
    if (b) disposeTrajectory(b);
    ctx.dispose();
    throw e;
  } finally {
    noise.dispose();
  }
}

export function disposePairRollout(r: Pick<PairRollout, 'a' | 'b' | 'tc'>): void {
  disposeTrajectory(r.a);
  disposeTrajectory(r.b);
  r.tc.ctx.dispose();
}

// ---------------------------------------------------------------------------------------------
// SPO (Liang et al. 2024): step-aware candidates, ranked on their predicted x̂₀, DPO per step.

/** K candidates of one step from one parent (candidate-major rows: row j·P + p is candidate j of prompt p). The caller disposes all three. */
export interface StepCandidates {
  /** The parent x_t of every row, [K·P,S,S,C]: row j·P + p is a copy of z[p] (bit-identical by construction: a tile). */
  parents: tf.Tensor4D;
  /** x^j_{t'} = μ_θ(x_t) + σ · noise_j, [K·P,S,S,C]. */
  candidates: tf.Tensor4D;
  /** log p_θ(x^j_{t'} | x_t, c) [K·P]. */
  logProbs: tf.Tensor1D;
}

/**
 * SPO's candidates: μ_θ(z) once for the P parents z [P,S,S,C], then K draws μ + σ·noise_j with `noise`
 * [K·P,S,S,C] (candidate-major). One guided forward of P, not K·P. Needs σ > 0.
 */
export function stepCandidates(o: GuidedEpsOptions, z: tf.Tensor4D, c: StepCoeffs, noise: tf.Tensor4D): StepCandidates {
  const P = z.shape[0];
  if (!(c.sigma > 0)) throw new Error(`SPO: candidates need a stochastic step (σ > 0); step t = ${c.t} has σ = ${c.sigma}`);
  if (noise.shape[0] % P !== 0) throw new Error(`SPO: noise rows ${noise.shape[0]} are not a multiple of the ${P} parents`);
  const K = noise.shape[0] / P;
  return tf.tidy(() => {
    const mean = tf.tile(stepMean(o, z, c), [K, 1, 1, 1]) as tf.Tensor4D; // [K·P,…]
    const candidates = tf.add(mean, tf.mul(c.sigma, noise)) as tf.Tensor4D;
    return { parents: tf.tile(z, [K, 1, 1, 1]) as tf.Tensor4D, candidates, logProbs: gaussianLogProb(candidates, mean, c.sigma) };
  });
}

/** The predicted clean latent x̂₀ of latents x at the step's target timestep t' (DDIM eq. 12); x itself when t' is the end (ᾱ = 1). */
export function predictedX0(o: GuidedEpsOptions, x: tf.Tensor4D, c: StepCoeffs): tf.Tensor4D {
  if (c.tPrev < 0) return tf.clone(x);
  return tf.tidy(() => tf.div(tf.sub(x, tf.mul(Math.sqrt(1 - c.abPrev), guidedEps(o, x, c.tPrev))), Math.sqrt(c.abPrev)) as tf.Tensor4D);
}

/** The standard-normal noise of SPO's candidates at step k: row j·P + p is `Rng(seed).fork('spo/<update>/cand/<k>/<j>/<p>')` (K·P·len values). */
export function spoCandidateNoise(seed: number, update: number, k: number, K: number, P: number, latentLen: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(K * P * latentLen);
  for (let j = 0; j < K; j++) for (let p = 0; p < P; p++) out.set(rng.fork(`spo/${update}/cand/${k}/${j}/${p}`).normals(latentLen), (j * P + p) * latentLen);
  return out;
}

/** One step of an SPO rollout that carries a DPO term: its coefficients, the shared parent and the best / worst candidate of each prompt. */
export interface SpoStep {
  k: number;
  coeffs: StepCoeffs;
  /** x_t [P,S,S,C]: the parent of both the winner and the loser of row p. */
  parent: tf.Tensor4D;
  win: tf.Tensor4D;
  lose: tf.Tensor4D;
}

export interface SpoRolloutOptions extends Omit<RolloutOptions, 'samplesPerPrompt'> {
  /** K ≥ 2 candidates per step. */
  candidates: number;
}

export interface SpoRollout {
  steps: SpoStep[];
  tc: TrajectoryContext;
  /** Per step with candidates, per prompt: the candidate indices chosen as best, worst, and continued from. */
  picks: { best: number[]; worst: number[]; next: number[] }[];
  /** The reward of the final images x_0 of the P trajectories (the arm's training reward). */
  finalReward: Float32Array;
  /** Mean over steps and prompts of the best minus the worst candidate's score. */
  scoreGap: number;
}

/**
 * SPO's sampling phase for the P prompts of `o.ctx`: x_T from `Rng(seed).fork('spo/<update>').fork('xT')`,
 * then at each stochastic step K candidates from the one x_t (stepCandidates, noise spoCandidateNoise),
 * scored by the reward on their decoded x̂₀ (predictedX0 under the sampling policy), the best and worst kept
 * for the loss, and the trajectory continued from candidate `Rng(…).fork('next/<k>').int(K)` of each prompt;
 * a deterministic step (σ = 0: the last, to ᾱ = 1) is taken as it is. Finally x_0 is decoded and rewarded.
 * Functions of (seed, update) only. The caller disposes the steps and tc.ctx (`disposeSpoRollout`).
 */
export async function spoRollout(o: SpoRolloutOptions): Promise<SpoRollout> {
  const P = o.ctx.shape[0];
  const K = o.candidates;
  if (!Number.isInteger(K) || K < 2) throw new Error(`spoRollout: candidates must be an integer ≥ 2, got ${K}`);
  const [S, C] = [o.ucfg.latentSize, o.ucfg.latentChannels];
  const D = S * S * C;
  const rng = new Rng(o.seed).fork(`spo/${o.update}`);
  const schedule = o.schedule ?? scheduleFor(o.ucfg);
  const coeffs = stochasticDdimCoefficients(o.steps, o.eta, schedule);
  const ctx = tf.clone(o.ctx);
  const tc = { ctx, uncondCtx: o.uncondCtx, guidance: o.guidance };
  const op: GuidedEpsOptions = { eps: epsOf(o.policy, o.ucfg), ...tc };
  const ctxK = tf.tile(ctx, [K, 1, 1]) as tf.Tensor3D; // candidate-major, as the candidates
  const opK: GuidedEpsOptions = { ...op, ctx: ctxK };
  const promptOf = Array.from({ length: K * P }, (_, i) => i % P);
  const steps: SpoStep[] = [];
  const picks: SpoRollout['picks'] = [];
  let gap = 0;
  // z: the current x_t, always owned here (a stored step's parent is replaced by its continuation at once).
  let z: tf.Tensor4D = tf.tensor4d(initialNoise(rng.fork('xT').seed, P, D), [P, S, S, C]);
  try {
    for (let k = 0; k < coeffs.length; k++) {
      const c = coeffs[k];
      if (c.sigma === 0) {
        const next = stepMean(op, z, c);
        z.dispose();
        z = next;
        continue;
      }
      const noise = tf.tensor4d(spoCandidateNoise(o.seed, o.update, k, K, P, D), [K * P, S, S, C]);
      let cand: StepCandidates;
      try {
        cand = stepCandidates(op, z, c, noise);
      } finally {
        noise.dispose();
      }
      let scores: Float32Array;
      try {
        const images = tf.tidy(() => tf.clipByValue(o.decode(predictedX0(opK, cand.candidates, c)), -1, 1) as tf.Tensor4D);
        try {
          scores = await o.reward(images, promptOf);
        } finally {
          images.dispose();
        }
        if (scores.length !== K * P) throw new Error(`spoRollout: the reward gave ${scores.length} values for ${K * P} candidates`);
      } catch (e) {
        tf.dispose([cand.parents, cand.candidates, cand.logProbs]);
        throw e;
      }
      const pick = rng.fork(`next/${k}`);
      const best: number[] = [];
      const worst: number[] = [];
      const next: number[] = [];
      for (let p = 0; p < P; p++) {
        let b = 0;
        let w = 0;
        for (let j = 1; j < K; j++) {
          if (scores[j * P + p] > scores[b * P + p]) b = j; // ties keep the first: deterministic
          if (scores[j * P + p] < scores[w * P + p]) w = j;
        }
        best.push(b);
        worst.push(w);
        next.push(pick.int(K));
        gap += scores[b * P + p] - scores[w * P + p];
      }
      picks.push({ best, worst, next });
      const rows = (js: number[]) => tf.tensor1d(js.map((j, p) => j * P + p), 'int32');
      const [win, lose, nz] = tf.tidy(() => [rows(best), rows(worst), rows(next)].map((r) => tf.gather(cand.candidates, r) as tf.Tensor4D));
      tf.dispose([cand.parents, cand.candidates, cand.logProbs]);
      steps.push({ k, coeffs: c, parent: z, win, lose });
      z = nz;
    }
    const images = tf.tidy(() => tf.clipByValue(o.decode(z), -1, 1) as tf.Tensor4D);
    let finalReward: Float32Array;
    try {
      finalReward = await o.reward(images, Array.from({ length: P }, (_, i) => i));
    } finally {
      images.dispose();
    }
    if (finalReward.length !== P) throw new Error(`spoRollout: the reward gave ${finalReward.length} values for ${P} images`);
    return { steps, tc, picks, finalReward, scoreGap: steps.length ? gap / (steps.length * P) : 0 };
  } catch (e) {
    disposeSpoRollout({ steps, tc });
    throw e;
  } finally {
    z.dispose();
    ctxK.dispose();
  }
}

export function disposeSpoRollout(r: Pick<SpoRollout, 'steps' | 'tc'>): void {
  for (const s of r.steps) tf.dispose([s.parent, s.win, s.lose]);
  r.tc.ctx.dispose();
}

/** log p(x^w | x_t) and log p(x^l | x_t) [P, steps] under the parameters behind `o.eps`: one μ per step, shared by both (they have one parent). */
export function spoLogProbs(o: GuidedEpsOptions, steps: readonly SpoStep[]): { w: tf.Tensor2D; l: tf.Tensor2D } {
  if (steps.length === 0) throw new Error('SPO: no stochastic step to train on (η = 0?)');
  return tf.tidy(() => {
    const w: tf.Tensor1D[] = [];
    const l: tf.Tensor1D[] = [];
    for (const s of steps) {
      const mean = stepMean(o, s.parent, s.coeffs);
      w.push(gaussianLogProb(s.win, mean, s.coeffs.sigma));
      l.push(gaussianLogProb(s.lose, mean, s.coeffs.sigma));
    }
    return { w: tf.stack(w, 1) as tf.Tensor2D, l: tf.stack(l, 1) as tf.Tensor2D };
  });
}

/** SPO's loss: the DPO objective per step on the best vs the worst candidate (d3poLoss on spoLogProbs of the policy and the reference). */
export function spoLoss(policy: GuidedEpsOptions, ref: GuidedEpsOptions, steps: readonly SpoStep[], beta: number): { loss: tf.Scalar; inside: tf.Tensor2D; implicitAcc: tf.Scalar } {
  return tf.tidy(() => {
    const r = spoLogProbs(ref, steps);
    const p = spoLogProbs(policy, steps);
    return d3poLoss(p.w, p.l, r.w, r.l, beta);
  });
}

/**
 * The gradients of one SPO update (not applied) and its packed read-back [loss, implicit accuracy, mean
 * |inside|]: the reference's log-probabilities outside the tape, the policy's on it.
 */
export function spoGrads(policy: Params, ref: Params, vars: tf.Variable[], ucfg: UNetConfig, steps: readonly SpoStep[], tc: TrajectoryContext, beta: number): { grads: tf.NamedTensorMap; packed: tf.Tensor1D } {
  if (steps.length === 0) throw new Error('SPO: no stochastic step to train on (η = 0?)');
  return tf.tidy(() => {
    const r = spoLogProbs({ eps: epsOf(ref, ucfg), ...tc }, steps); // no gradient: outside the tape
    let kept: tf.Scalar[] = [];
    const g = tf.variableGrads(() => {
      const p = spoLogProbs({ eps: epsOf(policy, ucfg), ...tc }, steps);
      const res = d3poLoss(p.w, p.l, r.w, r.l, beta);
      kept = [tf.keep(res.implicitAcc), tf.keep(tf.mean(tf.abs(res.inside)) as tf.Scalar)];
      return res.loss;
    }, vars);
    const packed = tf.stack([g.value, ...kept]) as tf.Tensor1D;
    tf.dispose(kept);
    return { grads: g.grads, packed };
  });
}
