/** Pick-a-Shape, the synthetic text-to-image preference world (DESIGN §2). See README.md here. */
export {
  SHAPES, COLOURS, SIZES, POSITIONS, BACKGROUNDS, VOCAB, MAX_TOKENS,
  PromptError, parsePrompt, promptText, promptKey, tokenize, allPrompts,
} from './prompt';
export type { Shape, Colour, Size, Position, Background, Prompt } from './prompt';
export {
  IMAGE_SIZE, IMAGE_LEN, COLOUR_RGB, BACKGROUND_RGB, SIZE_RADIUS, POSITION_CENTRE,
  renderIdeal, coverage, compose,
} from './render';
export type { Coverage, RGB, SceneObject } from './render';
export { DEFECT_KINDS, GENERATORS, drawDefect, renderWithDefects, renderObjectWithDefects, renderWithGenerator } from './generators';
export type { Defect, DefectKind, GeneratorSpec } from './generators';
export { UTILITY_WEIGHTS, trueUtility, utilityParts, utilityPartsAgainst, idealInfoOf, weightedTotal, edgeEnergy } from './utility';
export type { IdealInfo, Utility, UtilityParts } from './utility';
export { RATER_POOLS, poolUtility, raterProbability, ratePair } from './raters';
export type { RaterPool } from './raters';
export { DEFAULT_DATASET_OPTIONS, GAP_EDGES, PAIR_SPLITS, alignmentOnlyDataset, buildDataset, ratedPairs, gapBinIndex, winnersOnly, randomPick, idealWinners } from './dataset';
export type { Dataset, DatasetOptions, DatasetStats, GapBin, Pair, PairSplit, PoolAgreement, Sample } from './dataset';
