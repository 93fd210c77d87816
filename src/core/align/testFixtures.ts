/** Shared by the engine's tests and the worker session's tests: the smallest useful world. */
import { alignmentOnlyDataset, type Dataset } from '../world';

/** 12 training pairs and 4 validation prompts, every other split empty (builds in milliseconds). */
export function tinyAlignmentDataset(seed = 1): Dataset {
  return alignmentOnlyDataset(seed, 12, 4);
}
