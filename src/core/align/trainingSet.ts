/**
 * The encoded training set of an experiment. The autoencoder and the text encoder are frozen
 * during alignment (DESIGN §3, as in the paper), so every winner's and loser's latent and every
 * prompt's text context is computed once, here, and every arm gathers its batch from them.
 *
 *   latents  [2N,S,S,C]  winners' latents at rows 0…N−1, the real losers' at rows N…2N−1
 *   contexts [N,L,D]     text contexts of the training prompts
 *   uncond   [1,L,D]     the empty prompt's context (classifier-free guidance of reference sampling)
 *
 * Which image an arm trains on as x^w depends on its data: the winner ('winners', 'pairs'), or a
 * seeded random pick of winner or loser per pair ('random', SePPOʳ; the world's randomPick), or the
 * loser ('losers', the SFT-on-losers gate).
 */
import * as tf from '@tensorflow/tfjs';
import type { ArmData } from '../config';
import { encodeImages, encodeText, tokensTensor, uncondContext, type ReducedSD } from '../model/sd';
import { Rng } from '../rng';
import { IMAGE_LEN, IMAGE_SIZE, randomPick, tokenize, type Pair, type Prompt } from '../world';

/** Pairs encoded per forward of the frozen encoders. */
const ENCODE_CHUNK = 64;

export class EncodedTrainingSet {
  private constructor(
    /** N: training pairs. */
    readonly size: number,
    /** [2N,S,S,C]: winners' latents at 0…N−1, losers' at N…2N−1 (frozen AE, encoded once). */
    readonly latents: tf.Tensor4D,
    /** [N,L,D]: text contexts of the training prompts (frozen text encoder, encoded once). */
    readonly contexts: tf.Tensor3D,
    /** [1,L,D]: the unconditional context. */
    readonly uncond: tf.Tensor3D,
    /** For 'random' data: whether item i shows its winner (world's randomPick, seeded). */
    private readonly randomIsWinner: boolean[],
    /** The training prompts, item by item (the AAF-skill check scores decoded images against them). */
    readonly prompts: Prompt[],
  ) {}

  /** Encodes every winner and loser and every prompt of `pairs` with the base's frozen encoders. */
  static async encode(base: ReducedSD, pairs: Pair[], seed: number, progress: (stage: string, fraction: number) => void): Promise<EncodedTrainingSet> {
    const parts: tf.Tensor4D[] = [];
    const ctxParts: tf.Tensor3D[] = [];
    for (const which of ['winner', 'loser'] as const) {
      for (let s = 0; s < pairs.length; s += ENCODE_CHUNK) {
        const rows = pairs.slice(s, s + ENCODE_CHUNK);
        const buf = new Float32Array(rows.length * IMAGE_LEN);
        rows.forEach((p, j) => buf.set(p[which], j * IMAGE_LEN));
        parts.push(tf.tidy(() => encodeImages(base, tf.tensor4d(buf, [rows.length, IMAGE_SIZE, IMAGE_SIZE, 3]))));
        progress('encoding training images', (parts.length * ENCODE_CHUNK) / (2 * pairs.length));
        await tf.nextFrame(); // let a worker's message loop breathe
      }
    }
    for (let s = 0; s < pairs.length; s += ENCODE_CHUNK) {
      const rows = pairs.slice(s, s + ENCODE_CHUNK);
      ctxParts.push(tf.tidy(() => encodeText(base.text, base.config.text, tokensTensor(rows.map((p) => tokenize(p.prompt)), base.config.text.maxTokens))));
    }
    const latents = tf.concat(parts, 0);
    const contexts = tf.concat(ctxParts, 0);
    tf.dispose([...parts, ...ctxParts]);
    const uncond = uncondContext(base.text, base.config.text, 1);
    const randomIsWinner = randomPick({ train: pairs }, new Rng(seed).fork('randomPick')).map((s) => s.isWinner);
    return new EncodedTrainingSet(pairs.length, latents, contexts, uncond, randomIsWinner, pairs.map((p) => p.prompt));
  }

  /** Latent rows of the images x^w that items `idx` show to an arm trained on `data`. */
  trainingRows(idx: number[], data: ArmData): number[] {
    if (data === 'losers') return this.loserRows(idx);
    return idx.map((i) => (data === 'random' && !this.randomIsWinner[i] ? this.size + i : i));
  }

  /** Latent rows of the real losers of items `idx` (Diffusion-DPO's x^l). */
  loserRows(idx: number[]): number[] {
    return idx.map((i) => this.size + i);
  }

  /** The latents of `rows`, [B,S,S,C] (caller disposes). */
  gatherLatents(rows: number[]): tf.Tensor4D {
    return tf.tidy(() => tf.gather(this.latents, tf.tensor1d(rows, 'int32')) as tf.Tensor4D);
  }

  dispose(): void {
    tf.dispose([this.latents, this.contexts, this.uncond]);
  }
}
