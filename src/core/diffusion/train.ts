/**
 * Pretraining steps for the reduced SD: the autoencoder on reconstruction MSE, and the text
 * encoder + UNet jointly on the ε-prediction objective (DDPM, Ho et al. 2020, eq. 14, "L_simple"):
 *   L = E_{z0, t ~ U{0..T−1}, ε ~ N(0, I)} ‖ε − ε_θ(√ᾱ_t z0 + √(1−ᾱ_t) ε, t, c)‖²
 * with prompt dropout (c replaced by the all-PAD prompt) to learn the unconditional branch that
 * classifier-free guidance needs. Every step is one tf.tidy; the caller feeds fixed-shape batches
 * built in JS from seeded Rngs and reads the returned loss back only every few steps.
 */
import * as tf from '@tensorflow/tfjs';
import { aeDecode, aeEncode } from '../model/autoencoder';
import { commonPrefix, downsample } from '../model/layers';
import { encodeText, unetForward, type ReducedSD } from '../model/sd';
import { qSample, type Schedule } from './schedule';

export interface AEBatch {
  images: Float32Array; // B·32·32·3, HWC, [-1, 1]
  batch: number;
}

export interface AETrainer {
  /** One Adam step; returns the (unread) scalar loss tensor, which the caller disposes. */
  step(b: AEBatch): tf.Scalar;
  /** For a learning-rate schedule (Adam reads it on every step). */
  setLearningRate(lr: number): void;
  /** The Adam optimizer (its moments are saved with a resumable checkpoint). */
  readonly optimizer: tf.Optimizer;
  dispose(): void;
}

/** Weights of the autoencoder's reconstruction loss (see makeAETrainer). */
export interface AELossWeights {
  /** Weight of the mean absolute error beside the MSE (keeps flat backgrounds exact). */
  l1?: number;
  /** Weight of the edge loss: mean |∇x − ∇y| over horizontal and vertical finite differences. */
  edge?: number;
  /** Weight of a tiny latent L2 (keeps the latent scale from drifting; no KL needed). */
  latentL2?: number;
  /**
   * Weight of the edge-energy match: mean over images of |E(y) / E(x) − 1|, E = Σ (∇·)² per image.
   * An MSE-like loss is minimised by the mean of the plausible edges, which spreads energy over
   * two pixels and halves it; this term asks each reconstruction for its original's edge energy.
   */
  energy?: number;
  /**
   * Weight of the scale-equivariance term (Skorokhodov et al. 2025, "Improving the diffusability
   * of autoencoders"): the decoder applied to the 2× average-pooled latent must give the 2×
   * average-pooled image (MSE + L1). It keeps the latent's high frequencies from carrying more of
   * the image than the image's own high frequencies do: a latent whose spectrum is too flat makes
   * the diffusion model's small high-frequency errors decode to coloured noise.
   */
  scaleEquivariance?: number;
}

/** Finite differences of an NHWC batch: [B,H,W−1,C] horizontal and [B,H−1,W,C] vertical. */
export function finiteDifferences(x: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D] {
  const [B, H, W, C] = x.shape;
  const dx = tf.sub(tf.slice(x, [0, 0, 1, 0], [B, H, W - 1, C]), tf.slice(x, [0, 0, 0, 0], [B, H, W - 1, C])) as tf.Tensor4D;
  const dy = tf.sub(tf.slice(x, [0, 1, 0, 0], [B, H - 1, W, C]), tf.slice(x, [0, 0, 0, 0], [B, H - 1, W, C])) as tf.Tensor4D;
  return [dx, dy];
}

/** Σ of squared finite differences per image: [B] (the world's edge energy, up to its normalisation). */
export function edgeEnergyPerImage(dx: tf.Tensor4D, dy: tf.Tensor4D): tf.Tensor1D {
  return tf.add(tf.sum(tf.square(dx), [1, 2, 3]), tf.sum(tf.square(dy), [1, 2, 3])) as tf.Tensor1D;
}

/**
 * Reconstruction loss MSE + l1·MAE + edge·mean|∇x − ∇y| + latentL2·mean(z²). MSE alone makes a
 * blurry decoder (the mean of the plausible edges); the edge term asks for the image's own finite
 * differences, which is what the world's sharpness (edge energy, world/utility.ts) measures.
 */
export function makeAETrainer(m: ReducedSD, lr: number, weights: AELossWeights = {}, options: { decoderOnly?: boolean } = {}): AETrainer {
  const { l1 = 0, edge = 0, latentL2 = 1e-4, energy = 0, scaleEquivariance = 0 } = weights;
  const opt = tf.train.adam(lr);
  // decoderOnly: the encoder stays frozen, so every latent (and a UNet trained on them) stays valid.
  const vars = Object.entries(m.ae).filter(([k]) => !options.decoderOnly || k.includes('/dec/')).map(([, v]) => v);
  const prefix = commonPrefix(Object.keys(m.ae)) + '/ae';
  const S = m.config.ae.imageSize, C = m.config.ae.imageChannels;
  return {
    step(b) {
      return tf.tidy(() => {
        const x = tf.tensor4d(b.images, [b.batch, S, S, C]);
        const [xdx, xdy] = edge > 0 || energy > 0 ? finiteDifferences(x) : [null, null];
        const xEnergy = energy > 0 ? edgeEnergyPerImage(xdx!, xdy!) : null; // [B]
        const xHalf = scaleEquivariance > 0 ? downsample(x) : null; // [B,16,16,3]
        const { value, grads } = tf.variableGrads(() => {
          const zr = aeEncode(m.ae, prefix, m.config.ae, x); // [B,h,h,c] unscaled
          const y = aeDecode(m.ae, prefix, m.config.ae, zr); // [B,32,32,3]
          let loss = tf.add(tf.losses.meanSquaredError(x, y), tf.mul(latentL2, tf.mean(tf.square(zr))));
          if (scaleEquivariance > 0) {
            const yHalf = aeDecode(m.ae, prefix, m.config.ae, downsample(zr)); // [B,16,16,3]
            const se = tf.add(tf.losses.meanSquaredError(xHalf!, yHalf), tf.losses.absoluteDifference(xHalf!, yHalf));
            loss = tf.add(loss, tf.mul(scaleEquivariance, se));
          }
          if (l1 > 0) loss = tf.add(loss, tf.mul(l1, tf.losses.absoluteDifference(x, y)));
          if (edge > 0 || energy > 0) {
            const [ydx, ydy] = finiteDifferences(y);
            if (edge > 0) {
              const e = tf.add(tf.mean(tf.abs(tf.sub(xdx!, ydx))), tf.mean(tf.abs(tf.sub(xdy!, ydy))));
              loss = tf.add(loss, tf.mul(edge / 2, e));
            }
            if (energy > 0) {
              const ratio = tf.div(edgeEnergyPerImage(ydx, ydy), tf.add(xEnergy!, 1e-3)); // [B]
              loss = tf.add(loss, tf.mul(energy, tf.mean(tf.abs(tf.sub(ratio, 1)))));
            }
          }
          return loss as tf.Scalar;
        }, vars);
        opt.applyGradients(grads as tf.NamedTensorMap as never);
        return value;
      });
    },
    setLearningRate(v) {
      (opt as unknown as { learningRate: number }).learningRate = v;
    },
    optimizer: opt,
    dispose() {
      opt.dispose();
    },
  };
}

export interface DiffusionBatch {
  latents: Float32Array; // B·8·8·4, already scaled
  tokens: Int32Array; // B·L (rows already replaced by all-PAD where the prompt is dropped)
  t: Int32Array; // B timesteps in [0, T)
  eps: Float32Array; // B·8·8·4 standard normals
  batch: number;
}

export interface DiffusionTrainer {
  step(b: DiffusionBatch): tf.Scalar;
  setLearningRate(lr: number): void;
  readonly optimizer: tf.Optimizer;
  dispose(): void;
}

/** Trains text encoder + UNet jointly on ε-prediction MSE (the AE stays frozen). */
export function makeDiffusionTrainer(m: ReducedSD, schedule: Schedule, lr: number): DiffusionTrainer {
  const opt = tf.train.adam(lr);
  const vars = [...Object.values(m.text), ...Object.values(m.unet)]; // fixed order for Adam's slots
  const { unet: ucfg, text: tcfg } = m.config;
  const S = ucfg.latentSize, C = ucfg.latentChannels;
  return {
    step(b) {
      return tf.tidy(() => {
        const z0 = tf.tensor4d(b.latents, [b.batch, S, S, C]);
        const eps = tf.tensor4d(b.eps, [b.batch, S, S, C]);
        const t = tf.tensor1d(b.t, 'int32');
        const zt = qSample(z0, t, eps, schedule); // [B,8,8,4]
        const tokens = tf.tensor2d(b.tokens, [b.batch, tcfg.maxTokens], 'int32');
        const { value, grads } = tf.variableGrads(() => {
          const ctx = encodeText(m.text, tcfg, tokens); // [B,L,D]
          const pred = unetForward(m.unet, ucfg, zt, t.toFloat() as tf.Tensor1D, ctx);
          return tf.losses.meanSquaredError(eps, pred) as tf.Scalar;
        }, vars);
        opt.applyGradients(grads as tf.NamedTensorMap as never);
        return value;
      });
    },
    setLearningRate(v) {
      (opt as unknown as { learningRate: number }).learningRate = v;
    },
    optimizer: opt,
    dispose() {
      opt.dispose();
    },
  };
}
