/**
 * The reward models of the reward-model arms (issue 15; config.ts's REWARD_MODELS), bound to the
 * evaluation's scorers: each scores decoded images [n,32,32,3] in [−1, 1] against their prompts with
 * exactly the function evaluation reports (evaluate.ts), so an arm's training reward and its
 * evaluation column are the same metric. The true utility is not a reward model, by design.
 */
import * as tf from '@tensorflow/tfjs';
import type { RewardModel } from '../config';
import { tokenize, type Prompt } from '../world';
import { aesthetic } from './aesthetic';
import { alignment } from './alignment';
import type { Scorers } from './evaluate';
import { analyse } from './pixels';
import { scoreImages } from './scorer';

/** Images [n,32,32,3] and one prompt per image → one reward per image. Does not dispose `images`. */
export type PromptReward = (images: tf.Tensor4D, prompts: readonly Prompt[]) => Promise<Float32Array>;
export type RewardFunctions = Partial<Record<RewardModel, PromptReward>>;

/** The images' pixels, one Float32Array per image (an asynchronous read-back: safe on WebGPU). */
async function pixelsOf(images: tf.Tensor4D, n: number): Promise<Float32Array[]> {
  if (images.shape[0] !== n) throw new Error(`reward: ${images.shape[0]} images for ${n} prompts`);
  const px = (await images.data()) as Float32Array;
  const len = images.shape[1] * images.shape[2] * images.shape[3];
  return Array.from({ length: n }, (_, i) => px.subarray(i * len, (i + 1) * len));
}

/** Every reward model, bound to the shipped (or given) scorers. */
export function rewardFunctions(scorers: Scorers): Record<RewardModel, PromptReward> {
  const learned = (which: 'pickScore' | 'hps'): PromptReward => async (images, prompts) => {
    const px = await pixelsOf(images, prompts.length);
    return scoreImages(scorers[which], prompts.map((p) => tokenize(p)), px, Math.min(64, prompts.length));
  };
  return {
    'pickscore-mini': learned('pickScore'),
    'hps-mini': learned('hps'),
    aesthetic: async (images, prompts) => Float32Array.from(await pixelsOf(images, prompts.length), (im) => aesthetic(im, analyse(im)).score),
    alignment: async (images, prompts) => {
      const px = await pixelsOf(images, prompts.length);
      return Float32Array.from(px, (im, i) => alignment(prompts[i], im, analyse(im)).score);
    },
  };
}
