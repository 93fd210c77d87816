/**
 * DDIM sampling (Song et al. 2021) with classifier-free guidance (Ho & Salimans 2022), η = 0:
 * deterministic for given initial noise.
 *
 *   CFG:   ε = ε_u + w · (ε_c − ε_u)                              (Ho & Salimans, eq. 6)
 *   x̂_0 = (x_t − √(1−ᾱ_t) · ε) / √ᾱ_t                             (DDIM eq. 12, "predicted x_0")
 *   x_{t'} = √ᾱ_{t'} · x̂_0 + √(1−ᾱ_{t'}) · ε                        (DDIM eq. 12 with σ_t = 0)
 *
 * The conditional and unconditional halves run in one forward of batch 2B. `ddimSteps` is a
 * generator yielding after every step (the UI awaits between steps to show progress);
 * `ddimSample` runs it to the end. Neither leaks tensors: each step is a tf.tidy, the previous
 * latent is disposed, and abandoning the generator early disposes the current latent.
 */
import * as tf from '@tensorflow/tfjs';
import { ddimTimesteps, makeSchedule, type Schedule } from './schedule';

export type EpsFn = (z: tf.Tensor4D, t: tf.Tensor1D, ctx: tf.Tensor3D) => tf.Tensor4D;

export interface DdimOptions {
  /** The noise predictor, e.g. (z, t, ctx) => unetForward(unet, cfg, z, t, ctx). */
  eps: EpsFn;
  /** Conditional context [B,L,D]. */
  ctx: tf.Tensor3D;
  /** Unconditional context [B,L,D] or [1,L,D] (broadcast). Unused when guidance = 1. */
  uncondCtx: tf.Tensor3D;
  /** Initial latents x_T [B,8,8,4] (draw them from an Rng, not tf.random). Not disposed. */
  noise: tf.Tensor4D;
  steps: number;
  /** Guidance scale w; 1 = conditional only (one forward of batch B), 0 = unconditional. */
  guidance: number;
  /** Called after each step with the step number (1-based), the total and the current latent (owned by the sampler: do not dispose; copy if kept). */
  onStep?: (step: number, total: number, z: tf.Tensor4D) => void;
  schedule?: Schedule;
}

export interface DdimStep {
  step: number;
  total: number;
  t: number;
  /** The current latent, owned by the generator and disposed on the next step. */
  z: tf.Tensor4D;
}

let defaultSchedule: Schedule | null = null;

/** What a guided ε needs: the predictor, both contexts and the guidance scale. */
export type GuidedEpsOptions = Pick<DdimOptions, 'eps' | 'ctx' | 'uncondCtx' | 'guidance'>;

/** The guided noise prediction ε = ε_u + w · (ε_c − ε_u) at timestep t for latents z [B,8,8,4] → [B,8,8,4]; one forward of batch 2B (B when w = 1). */
export function guidedEps(o: GuidedEpsOptions, z: tf.Tensor4D, t: number): tf.Tensor4D {
  return tf.tidy(() => {
    const B = z.shape[0];
    if (o.guidance === 1) return o.eps(z, tf.fill([B], t) as tf.Tensor1D, o.ctx);
    const u = o.uncondCtx.shape[0] === B ? o.uncondCtx : tf.tile(o.uncondCtx, [B, 1, 1]);
    const both = o.eps(tf.concat([z, z], 0), tf.fill([2 * B], t) as tf.Tensor1D, tf.concat([o.ctx, u], 0)); // [2B,8,8,4]
    const [ec, eu] = tf.split(both, 2, 0) as tf.Tensor4D[];
    return tf.add(eu, tf.mul(o.guidance, tf.sub(ec, eu))) as tf.Tensor4D; // CFG
  });
}

/** One guided DDIM step x_t → x_{tPrev}. */
export function ddimStep(o: GuidedEpsOptions, z: tf.Tensor4D, t: number, tPrev: number, sched: Schedule): tf.Tensor4D {
  return tf.tidy(() => {
    const eps = guidedEps(o, z, t);
    const ab = sched.alphasCumprod[t];
    const abPrev = tPrev >= 0 ? sched.alphasCumprod[tPrev] : 1;
    const x0 = tf.div(tf.sub(z, tf.mul(Math.sqrt(1 - ab), eps)), Math.sqrt(ab)); // predicted x_0
    return tf.add(tf.mul(Math.sqrt(abPrev), x0), tf.mul(Math.sqrt(1 - abPrev), eps)) as tf.Tensor4D;
  });
}

/** Step-by-step DDIM: yields after every step. The final yielded `z` is the sample (copy it or use ddimSample). */
export function* ddimSteps(o: DdimOptions): Generator<DdimStep, tf.Tensor4D, void> {
  const sched = o.schedule ?? (defaultSchedule ??= makeSchedule());
  if (o.ctx.shape[0] !== o.noise.shape[0]) throw new Error(`ddim: ctx batch ${o.ctx.shape[0]} ≠ noise batch ${o.noise.shape[0]}`);
  if (!(o.uncondCtx.shape[0] === 1 || o.uncondCtx.shape[0] === o.noise.shape[0])) {
    throw new Error(`ddim: uncondCtx batch must be 1 or ${o.noise.shape[0]}, got ${o.uncondCtx.shape[0]}`);
  }
  if (!Number.isFinite(o.guidance)) throw new Error(`ddim: guidance must be a finite number, got ${o.guidance}`);
  const ts = ddimTimesteps(o.steps, sched.T);
  let z = tf.clone(o.noise);
  let done = false;
  try {
    for (let i = 0; i < ts.length; i++) {
      const [t, tPrev] = ts[i];
      const next = ddimStep(o, z, t, tPrev, sched);
      z.dispose();
      z = next;
      o.onStep?.(i + 1, ts.length, z);
      yield { step: i + 1, total: ts.length, t, z };
    }
    done = true;
    return z;
  } finally {
    if (!done) z.dispose();
  }
}

/** Runs DDIM to the end; returns x_0 [B,8,8,4] (the caller disposes it). */
export function ddimSample(o: DdimOptions): tf.Tensor4D {
  const it = ddimSteps(o);
  for (;;) {
    const r = it.next();
    if (r.done) return r.value;
  }
}
