/**
 * Training of PickScore-mini / HPS-mini (scorer.ts): Adam on the Bradley–Terry loss over
 * (prompt, winner, loser) pairs, as PickScore was trained on Pick-a-Pic — minimise
 * −log softmax([s_w, s_l])[winner] = softplus(s_l − s_w) — with a warm-up + cosine learning-rate
 * schedule and optional mirror / pixel-noise augmentation. The recipe of the two shipped scorers
 * (which pairs, which pool, the measurements) is in trainScorers.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { pairAccuracy, scorerParamShapes, scoreTensors, stackTokens, type Scorer, type ScorerPair } from './scorer';

/** Bradley–Terry loss: mean softplus(s_l − s_w) = −log softmax([s_w, s_l])[0]. */
export function bradleyTerryLoss(sW: tf.Tensor1D, sL: tf.Tensor1D): tf.Scalar {
  return tf.mean(tf.softplus(tf.sub(sL, sW))) as tf.Scalar;
}

export interface TrainScorerOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  /** Shuffling and augmentation seed. */
  seed: number;
  /** Std of Gaussian pixel noise added to both images of a pair (0 = none). */
  augmentNoise?: number;
  /**
   * Mirror augmentation: with probability ½ per pair, flip both images left↔right and map the
   * prompt's tokens through `mirrorTokens` (token id → id of the mirrored word, e.g. left↔right).
   * Exact when the preference is mirror-symmetric (in Pick-a-Shape every shape is).
   */
  mirrorTokens?: Int32Array;
  /** 'cosine' (default): 3% linear warm-up, then cosine decay to lr/20; 'constant'. */
  schedule?: 'cosine' | 'constant';
  /** Held-out pairs, evaluated after each epoch (optional). */
  validation?: ScorerPair[];
  onEpoch?: (info: { epoch: number; step: number; loss: number; trainAcc: number; valAcc?: number; seconds: number }) => void;
  /** Stop early when this returns true (checked between batches). */
  shouldStop?: () => boolean;
}

export interface TrainScorerResult {
  steps: number;
  finalLoss: number;
  seconds: number;
  history: Array<{ epoch: number; loss: number; trainAcc: number; valAcc?: number }>;
}

/** Learning rate at step `step` (0-based) of `total`. */
export function learningRateAt(step: number, total: number, lr: number, schedule: 'cosine' | 'constant'): number {
  if (schedule === 'constant' || total <= 1) return lr;
  const warm = Math.max(1, Math.round(0.03 * total));
  if (step < warm) return (lr * (step + 1)) / warm;
  const t = Math.min(1, (step - warm) / Math.max(1, total - warm - 1));
  return lr * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * t)));
}

/** Flips an HWC image left↔right. */
export function mirrorImage(im: Float32Array, size: number): Float32Array {
  const out = new Float32Array(im.length);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const src = (y * size + x) * 3, dst = (y * size + (size - 1 - x)) * 3;
      out[dst] = im[src];
      out[dst + 1] = im[src + 1];
      out[dst + 2] = im[src + 2];
    }
  }
  return out;
}

function mirrorPair(p: ScorerPair, map: Int32Array, size: number): ScorerPair {
  return { tokens: p.tokens.map((t) => map[t]), winner: mirrorImage(p.winner, size), loser: mirrorImage(p.loser, size) };
}

/**
 * Adam on the Bradley–Terry loss. Deterministic for a given seed and backend: the data order
 * and the augmentation noise come from `Rng`. Full batches only (the remainder of an epoch's
 * shuffle is dropped), so every step has the same shapes.
 */
export async function trainScorer(s: Scorer, pairs: ScorerPair[], opts: TrainScorerOptions): Promise<TrainScorerResult> {
  const { epochs, batchSize, lr } = opts;
  if (pairs.length < batchSize) throw new Error(`trainScorer: ${pairs.length} pairs is fewer than one batch of ${batchSize}`);
  const vars = scorerParamShapes(s.config).map(([k]) => s.params[k]); // fixed order for Adam's slots
  const opt = tf.train.adam(lr);
  const stepsPerEpoch = Math.floor(pairs.length / batchSize);
  const totalSteps = epochs * stepsPerEpoch;
  const rng = new Rng(opts.seed).fork('scorer-train');
  const imgLen = s.config.imageSize * s.config.imageSize * 3;
  const t0 = Date.now();
  const history: TrainScorerResult['history'] = [];
  let steps = 0;
  let lastLoss = NaN;
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const order = rng.fork(`epoch${epoch}`).shuffle(pairs.map((_, i) => i));
      const noiseRng = rng.fork(`noise${epoch}`);
      const augRng = rng.fork(`mirror${epoch}`);
      let lossSum = 0;
      let accSum = 0;
      let batches = 0;
      for (let b = 0; b + batchSize <= order.length; b += batchSize) {
        if (opts.shouldStop?.()) break;
        const batch = order.slice(b, b + batchSize).map((i) => (opts.mirrorTokens && augRng.bool() ? mirrorPair(pairs[i], opts.mirrorTokens, s.config.imageSize) : pairs[i]));
        // Both halves in one forward: [winners; losers].
        const imgs = new Float32Array(2 * batchSize * imgLen);
        batch.forEach((p, i) => {
          imgs.set(p.winner, i * imgLen);
          imgs.set(p.loser, (batchSize + i) * imgLen);
        });
        if (opts.augmentNoise) {
          const noise = noiseRng.normals(imgs.length);
          for (let i = 0; i < imgs.length; i++) imgs[i] = Math.max(-1, Math.min(1, imgs[i] + opts.augmentNoise * noise[i]));
        }
        const toks = batch.map((p) => p.tokens);
        // One forward over both halves, [winners; losers], then one Adam step.
        const [lossT, accT] = tf.tidy(() => {
          const x = tf.tensor4d(imgs, [2 * batchSize, s.config.imageSize, s.config.imageSize, 3]);
          const t = stackTokens([...toks, ...toks], s.config.maxTokens);
          let acc: tf.Scalar | null = null;
          const { value, grads } = tf.variableGrads(() => {
            const sc = scoreTensors(s, x, t); // [2B]
            const sW = tf.slice(sc, 0, batchSize) as tf.Tensor1D;
            const sL = tf.slice(sc, batchSize, batchSize) as tf.Tensor1D;
            acc = tf.keep(tf.mean(tf.cast(tf.greater(sW, sL), 'float32')) as tf.Scalar);
            return bradleyTerryLoss(sW, sL);
          }, vars);
          // tfjs's Adam reads its learningRate field at every step, so the schedule can set it.
          (opt as unknown as { learningRate: number }).learningRate = learningRateAt(steps, totalSteps, lr, opts.schedule ?? 'cosine');
          opt.applyGradients(vars.map((v) => ({ name: v.name, tensor: grads[v.name] }))); // fixed order
          return [value, acc!] as [tf.Scalar, tf.Scalar];
        });
        const [lossV, accV] = await Promise.all([lossT.data(), accT.data()]);
        lossT.dispose();
        accT.dispose();
        lossSum += lossV[0];
        accSum += accV[0];
        steps++;
        batches++;
      }
      lastLoss = lossSum / Math.max(1, batches);
      const valAcc = opts.validation ? await pairAccuracy(s, opts.validation) : undefined;
      history.push({ epoch, loss: lastLoss, trainAcc: accSum / Math.max(1, batches), valAcc });
      opts.onEpoch?.({ epoch, step: steps, loss: lastLoss, trainAcc: accSum / Math.max(1, batches), valAcc, seconds: (Date.now() - t0) / 1000 });
      if (!Number.isFinite(lastLoss)) throw new Error(`trainScorer: loss became ${lastLoss} in epoch ${epoch}; lower the learning rate`);
      if (opts.shouldStop?.()) break;
    }
  } finally {
    opt.dispose();
  }
  return { steps, finalLoss: lastLoss, seconds: (Date.now() - t0) / 1000, history };
}
