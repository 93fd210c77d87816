/** Shared by the engine's tests and the worker session's tests: the smallest useful world. */
import { buildDataset, type Dataset } from '../world';

/** 12 training pairs and 4 validation prompts, every other split empty (builds in milliseconds). */
export function tinyAlignmentDataset(seed = 1): Dataset {
  return buildDataset({
    seed,
    nTrainPairs: 12,
    nValidation: 4,
    nScorerTrain: 0,
    nScorerTest: 0,
    nHpsTrain: 0,
    nHpsTest: 0,
    nOodRaterPairs: 0,
    nOodComposition: 0,
    nOodRaterPrompts: 0,
    nScorerTestPrompts: 0,
  });
}
