/**
 * The browser's dataset size: a third of the default train split and no scorer-training pairs
 * (the scorers ship pretrained). Builds in about 2–4 s in the worker; ~30 MB of images.
 * tfjs-free: the page reads it to check knob limits before anything loads (issue 18).
 */
import type { DatasetOptions } from '../core/world/dataset';

export const BROWSER_DATASET_OPTIONS: Required<Omit<DatasetOptions, 'seed'>> & { seed: number } = Object.freeze({
  seed: 0,
  nTrainPairs: 1000,
  nScorerTrain: 0,
  nScorerTest: 200,
  nHpsTrain: 0,
  nHpsTest: 200,
  nOodRaterPairs: 100,
  nValidation: 64,
  nOodComposition: 64,
  nOodRaterPrompts: 64,
  nScorerTestPrompts: 128,
  nHeldOutCombos: 6,
});

/**
 * What the page's dataset allows, checked before a configuration loads: evaluation prompts are
 * the first n of its validation prompts, and the training pairs are its train split (a larger
 * dataSize would rebuild the whole dataset in the worker, which takes minutes; the headless
 * runner, `npm run experiment`, has no such limit).
 */
export function pageLimitErrors(c: { evalPrompts: number; dataSize: number }): string[] {
  const out: string[] = [];
  if (c.evalPrompts > BROWSER_DATASET_OPTIONS.nValidation) {
    out.push(`evalPrompts: at most ${BROWSER_DATASET_OPTIONS.nValidation} in the page (its dataset has ${BROWSER_DATASET_OPTIONS.nValidation} validation prompts), got ${c.evalPrompts}`);
  }
  if (c.dataSize > BROWSER_DATASET_OPTIONS.nTrainPairs) {
    out.push(`dataSize: at most ${BROWSER_DATASET_OPTIONS.nTrainPairs} in the page (its dataset has ${BROWSER_DATASET_OPTIONS.nTrainPairs} training pairs; npm run experiment takes more), got ${c.dataSize}`);
  }
  return out;
}
