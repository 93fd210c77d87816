/**
 * Worker messages for the Data and Model views (browse the dataset, load the base model, sample
 * it step by step, score images). Owned by the views; unioned into protocol.ts.
 *
 * Images travel as Float32Array (32·32·3, HWC, values in [-1, 1]): plain arrays the page only
 * converts to pixels.
 */
import type { ImageMetrics } from '../core/eval/metrics';
import type { Defect } from '../core/world';

export interface UtilityPartsView {
  colour: number;
  shape: number;
  sharpness: number;
  background: number;
}

export interface GapBinView {
  lo: number;
  hi: number;
  n: number;
  agreement: number;
}

export interface DataSummary {
  seed: number;
  buildMs: number;
  /** Pairs per split, unique prompts and ties dropped (the rater's tie band). */
  /** `name`: the dataset's split name ('train', 'scorerTrain', …; the page labels it). */
  splits: { name: string; pairs: number; uniquePrompts: number; tiesDropped: number }[];
  /** How often the rater's winner has the higher (pool) utility, overall and by utility gap. */
  agreement: { pool: 'A' | 'B'; overall: number; n: number; byGap: GapBinView[] }[];
  generators: { name: string; description: string; appearances: number; winRate: number; meanUtility: number }[];
  utilityWeights: UtilityPartsView;
  heldOutCombos: { shape: string; colour: string }[];
  promptCounts: Record<string, number>;
  /** A few prompts of each evaluation set. */
  validationPrompts: string[];
  oodCompositionPrompts: string[];
}

export interface ImageView {
  image: Float32Array;
  generator: string;
  utility: number;
  parts: UtilityPartsView;
  /** The generator's defects in this image, as the world describes them (the page words them). */
  defects: Defect[];
}

export interface PairView {
  index: number;
  text: string;
  pool: 'A' | 'B';
  winner: ImageView;
  loser: ImageView;
}

export type PairFilter = 'all' | 'upset' | 'close';

export interface PairsPage {
  /** Pairs matching the filter. */
  total: number;
  /** All train pairs. */
  totalAll: number;
  offset: number;
  pairs: PairView[];
}

/** The five metrics of one image (DESIGN §5; core/eval/metrics.ts). */
export type ImageMetricsView = ImageMetrics;

export interface ModelInfo {
  params: { ae: number; text: number; unet: number; total: number };
  bytes: number;
  loadMs: number;
  /** Training and quality records from config.json (free-form numbers and strings). */
  record: Record<string, string | number>;
  /** The base model's measured quality (config.json `baseQuality`), when recorded. */
  quality?: {
    meanTrueUtility: number;
    generatorsMeanTrueUtility?: number;
    ratioToGenerators?: number;
    nPrompts?: number;
    /** The sampling settings it was measured with (the view's defaults). */
    ddimSteps?: number;
    guidance?: number;
    /** The decoder's ceiling: winners on the same prompts after encode → decode (DESIGN §3). */
    decoderCeiling?: number;
    /** decoderCeiling − meanTrueUtility: how far alignment can move the base. */
    headroom?: number;
    /** Its paired 95 % interval over the evaluation prompts, when recorded. */
    headroomInterval?: { lo: number; hi: number };
  };
  /**
   * The decoder's ceiling table (config.json `reconstruction`): per set (winners, losers, ideal
   * renders, …) the mean true utility before and after encode → decode, and the share kept of each part.
   */
  reconstruction?: Array<{ set: string; images: number; original: number; reconstructed: number; kept: Record<string, number> }>;
}

export interface SampleResult {
  sampleId: number;
  prompt: string;
  image: Float32Array;
  /** Null when the scorers could not be loaded (`metricsError` says why); the pixel metrics are always there. */
  metrics: ImageMetricsView | null;
  partialMetrics: Omit<ImageMetricsView, 'pickScore' | 'hps'>;
  metricsError?: string;
  /** One line per learned scorer naming its recorded held-out accuracy (describeScorer), when loaded. */
  scorerNotes?: { pickScore: string; hps: string };
  ms: number;
  backend: string;
}

export type ViewsRequest =
  | { id: number; type: 'data:summary'; seed?: number }
  | {
      id: number;
      type: 'data:pairs';
      seed?: number;
      offset: number;
      limit: number;
      /** 'upset': the rater chose the lower-utility image; 'close': utility gap below 0.1. Default 'all'. */
      filter?: PairFilter;
    }
  | { id: number; type: 'model:load' }
  /** Stops the running sample at its next step (its request then fails with "Sampling stopped"). */
  | { id: number; type: 'model:stop' }
  | {
      id: number;
      type: 'model:sample';
      /** Chosen by the page; step events carry it so a view can ignore stale runs. */
      sampleId: number;
      prompt: string;
      seed: number;
      steps: number;
      guidance: number;
      /** Decode a preview every this many steps (default: about 10 previews per run). */
      previewEvery?: number;
    };

export interface ViewsReplyMap {
  'data:summary': DataSummary;
  'data:pairs': PairsPage;
  'model:load': ModelInfo;
  'model:sample': SampleResult;
  'model:stop': { stopped: boolean };
}

export type ViewsEvent = {
  type: 'model:step';
  sampleId: number;
  step: number;
  total: number;
  /** The decoded current estimate (absent on steps without a preview). */
  image?: Float32Array;
};

/** The `type` of every ViewsRequest (the worker routes by it). Keep in sync with ViewsRequest. */
export const VIEW_REQUEST_TYPES: readonly ViewsRequest['type'][] = ['data:summary', 'data:pairs', 'model:load', 'model:sample', 'model:stop'];
