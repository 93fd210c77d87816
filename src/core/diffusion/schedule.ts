/**
 * The noise schedule and the forward process, kept apart from the network (as diffusers'
 * schedulers are). SD-1.5's "scaled_linear" schedule: β_t = (linspace(√0.00085, √0.012, T))²,
 * ᾱ_t = ∏_{s≤t} (1 − β_s), T = 1000.
 *
 * A resolution shift (Hoogeboom et al. 2023, "simple diffusion", §3.1; SD3, Esser et al. 2024,
 * §5.3.2) divides the signal-to-noise ratio SNR(t) = ᾱ_t / (1 − ᾱ_t) by `snrShift` at every t:
 * a latent with 4× the values (16×16 instead of 8×8) keeps its low frequencies 4× better at the
 * same noise level, so the same schedule would leave the global layout visible at t = T−1 and
 * spend training on easy steps; shift 4 restores the 8×8 latent's effective noise levels.
 *   ᾱ'_t = ᾱ_t / (ᾱ_t + s · (1 − ᾱ_t)),   β'_t = 1 − ᾱ'_t / ᾱ'_{t−1}.
 */
import * as tf from '@tensorflow/tfjs';

export interface Schedule {
  T: 1000;
  betas: Float32Array;
  alphasCumprod: Float32Array;
}

export function makeSchedule(snrShift = 1): Schedule {
  if (!(Number.isFinite(snrShift) && snrShift > 0)) throw new Error(`schedule: snrShift must be a positive number, got ${snrShift}`);
  const T = 1000;
  const lo = Math.sqrt(0.00085), hi = Math.sqrt(0.012);
  const betas = new Float32Array(T);
  const alphasCumprod = new Float32Array(T);
  let prod = 1;
  for (let i = 0; i < T; i++) {
    const s = lo + ((hi - lo) * i) / (T - 1);
    betas[i] = s * s;
    prod *= 1 - s * s; // accumulate in float64, store float32
    alphasCumprod[i] = prod;
  }
  if (snrShift === 1) return { T, betas, alphasCumprod };
  let prev = 1;
  for (let i = 0; i < T; i++) {
    const ab = alphasCumprod[i];
    const shifted = ab / (ab + snrShift * (1 - ab));
    betas[i] = 1 - shifted / prev;
    alphasCumprod[i] = shifted;
    prev = shifted;
  }
  return { T, betas, alphasCumprod };
}

const schedules = new Map<number, Schedule>();

/** The schedule a UNet was trained with (its config's `snrShift`, default 1), built once per shift. */
export function scheduleFor(unet: { snrShift?: number }): Schedule {
  const shift = unet.snrShift ?? 1;
  let s = schedules.get(shift);
  if (!s) schedules.set(shift, (s = makeSchedule(shift)));
  return s;
}

/**
 * q(x_t | x_0) (DDPM, Ho et al. 2020, eq. 4): x_t = √ᾱ_t · x_0 + √(1 − ᾱ_t) · ε.
 * z0, eps [B,8,8,4]; t int [B] in [0, T).
 */
export function qSample(z0: tf.Tensor4D, t: tf.Tensor1D, eps: tf.Tensor4D, schedule: Schedule): tf.Tensor4D {
  return tf.tidy(() => {
    const B = z0.shape[0];
    if (t.shape[0] !== B) throw new Error(`qSample: ${t.shape[0]} timesteps for a batch of ${B}`);
    const ab = tf.gather(tf.tensor1d(schedule.alphasCumprod), t.toInt()).reshape([B, 1, 1, 1]); // [B,1,1,1]
    return tf.add(tf.mul(tf.sqrt(ab), z0), tf.mul(tf.sqrt(tf.sub(1, ab)), eps)) as tf.Tensor4D;
  });
}

/**
 * The DDIM timesteps for `steps` steps, "trailing" spacing (Lin et al. 2024, "Common diffusion
 * noise schedules and sample steps are flawed", Table 2): starts at T−1 so the first step sees
 * (nearly) pure noise, e.g. 20 steps → 999, 949, …, 49. Returns [t, tPrev] pairs; tPrev = −1 at
 * the end means ᾱ_prev = 1 (the clean sample).
 */
export function ddimTimesteps(steps: number, T = 1000): Array<[number, number]> {
  if (!Number.isInteger(steps) || steps < 1 || steps > T) throw new Error(`DDIM steps must be an integer in 1…${T}, got ${steps}`);
  const ratio = T / steps;
  const ts: number[] = [];
  for (let i = 0; i < steps; i++) ts.push(Math.round(T - i * ratio) - 1);
  return ts.map((t, i) => [t, i + 1 < steps ? ts[i + 1] : -1]);
}
