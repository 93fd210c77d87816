/**
 * Evaluation with the paper's four metrics in Pick-a-Shape, plus the true preference (DESIGN §5;
 * the metrics' type, keys, means and win rates are in metrics.ts, without tfjs).
 *
 * `evaluate` scores given images; `evaluateModel` samples a diffusion model on a prompt set with
 * fixed seeds (image i always starts from the same noise, for every model), then scores.
 */
import { sampleImages } from '../diffusion/sample';
import type { ReducedSD } from '../model/sd';
import { tokenize, trueUtility, type Prompt } from '../world';
import { aesthetic } from './aesthetic';
import { alignment } from './alignment';
import { meanMetrics, type ImageMetrics } from './metrics';
import { analyse, checkImage } from './pixels';
import { scoreImages, type Scorer } from './scorer';

/** The two learned scorers evaluation needs. */
export interface Scorers {
  pickScore: Scorer;
  hps: Scorer;
}

export interface Evaluation {
  perImage: ImageMetrics[];
  mean: ImageMetrics;
}

/** Replaces NaN/±Infinity pixels by 0 (mid-grey), so broken samples still score (low) and stay finite. */
function finiteImage(im: Float32Array): Float32Array {
  for (let i = 0; i < im.length; i++) {
    if (!Number.isFinite(im[i])) {
      const out = im.slice();
      for (let j = i; j < out.length; j++) if (!Number.isFinite(out[j])) out[j] = 0;
      return out;
    }
  }
  return im;
}

/**
 * All five metrics for each (prompt, image), and their means. The scorers run batched
 * (`batchSize` images per forward, fixed shapes); the pixel metrics run in JS. Leak-free.
 */
export async function evaluate(prompts: Prompt[], images: Float32Array[], scorers: Scorers, opts: { batchSize?: number } = {}): Promise<Evaluation> {
  if (prompts.length !== images.length) throw new Error(`evaluate: ${prompts.length} prompts but ${images.length} images`);
  if (prompts.length === 0) throw new Error('evaluate: no images to evaluate');
  images.forEach((im, i) => checkImage(im, `evaluate: image ${i}`));
  const clean = images.map(finiteImage);
  const tokens = prompts.map((p) => tokenize(p));
  // One forward for up to 64 images; a small evaluation is not padded up to 64 (same shapes per call site).
  const bs = opts.batchSize ?? Math.min(64, prompts.length);
  const pick = await scoreImages(scorers.pickScore, tokens, clean, bs);
  const hps = await scoreImages(scorers.hps, tokens, clean, bs);
  const perImage = prompts.map((p, i): ImageMetrics => {
    const a = analyse(clean[i]);
    return {
      pickScore: pick[i],
      hps: hps[i],
      alignment: alignment(p, clean[i], a).score,
      aesthetic: aesthetic(clean[i], a).score,
      trueUtility: trueUtility(p, clean[i]).total,
    };
  });
  return { perImage, mean: meanMetrics(perImage) };
}

export interface EvalSampling {
  /** Noise seed: image i starts from the same latent noise for every model (see sampleImages). */
  seed: number;
  steps: number;
  guidance: number;
  /** Images per sampler/scorer forward (default 64). */
  batchSize?: number;
}

/** Samples one image per prompt from `model` with fixed noise, then evaluates them. */
export async function evaluateModel(model: ReducedSD, prompts: Prompt[], sampling: EvalSampling, scorers: Scorers): Promise<Evaluation & { images: Float32Array[] }> {
  if (prompts.length === 0) throw new Error('evaluateModel: no prompts');
  if (!Number.isInteger(sampling.steps) || sampling.steps < 1) throw new Error(`evaluateModel: steps must be a positive integer, got ${sampling.steps}`);
  if (!Number.isFinite(sampling.guidance)) throw new Error(`evaluateModel: guidance must be a finite number, got ${sampling.guidance}`);
  const images = sampleImages(model, prompts.map((p) => tokenize(p)), {
    seed: sampling.seed,
    steps: sampling.steps,
    guidance: sampling.guidance,
    batchSize: sampling.batchSize,
  });
  const ev = await evaluate(prompts, images, scorers, { batchSize: sampling.batchSize });
  return { images, ...ev };
}

/** `evaluateModel` bound to the scorers: the Evaluator the alignment trainer takes. */
export function makeEvaluator(scorers: Scorers, batchSize?: number) {
  return (model: ReducedSD, prompts: Prompt[], o: { seed: number; steps: number; guidance: number }) =>
    evaluateModel(model, prompts, { ...o, batchSize }, scorers);
}
