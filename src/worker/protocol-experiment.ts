/**
 * Worker messages for the playground's experiments (configure, play, pause, step, reset,
 * export, resume). Owned by the playground; unioned into protocol.ts.
 *
 * Every event carries `run`: the id of the experiment it belongs to. The worker bumps it on every
 * configure/reset, and the page drops events of any other run (a stale loop's last message never
 * lands in a fresh run's charts). Only plain numbers and arrays cross this boundary: the page never
 * sees a tensor.
 */
import type { ExperimentConfig } from '../core/config';
import type { Metrics, SerialisedCheckpoint, UpdateRecord } from '../core/align/records';

/** The five metrics of DESIGN §5 (defined in core/eval/metrics.ts) and the engine's metric map. */
export { METRIC_KEYS, type MetricKey } from '../core/eval/metrics';
export type { Metrics };

/**
 * What one arm did in one update, and an arm's checkpoint (pool snapshot + evaluation on fixed
 * prompts and noise): the engine's own record types. `import type` is erased at build time, so
 * the page still never loads tfjs. The per-image metrics and images of a checkpoint travel apart, as
 * its ExpEvalImages.
 */
export type ExpUpdateRecord = UpdateRecord;
export type ExpCheckpointRecord = SerialisedCheckpoint;

/** Images (HWC, [-1,1]) of one model on the evaluation prompts, with per-image metrics. */
export interface ExpEvalImages {
  /** Arm name, or '' for the base model. */
  arm: string;
  update: number;
  images: Float32Array[];
  perImage: Metrics[];
}

export interface ExpBaseEval {
  metrics: Metrics;
  perImage: Metrics[];
  images: Float32Array[];
}

/**
 * What became of the base model's evaluation: computed now, reused from the cache (computed at
 * `cachedAt`), restored with a saved run, cut short by the user (no base figures: no win rates),
 * or not run (no evaluator).
 */
export type ExpBaseEvalInfo =
  | { state: 'complete' }
  | { state: 'cached'; cachedAt: number }
  | { state: 'saved'; savedAt: number }
  | { state: 'cut'; done: number; total: number }
  | { state: 'none' };

export type ExpStatus = 'idle' | 'loading' | 'ready' | 'running' | 'paused' | 'done' | 'error';

/** Everything the page needs to show a run: what `configure` answers (fresh or resumed). */
export interface ExpSnapshot {
  run: number;
  config: ExperimentConfig;
  evalPrompts: string[];
  base: ExpBaseEval | null;
  /** How the base's figures came about (absent in imported files). */
  baseEval?: ExpBaseEvalInfo;
  update: number;
  records: ExpUpdateRecord[];
  checkpoints: ExpCheckpointRecord[];
  evals: ExpEvalImages[];
  halted: { arm: string; message: string }[];
  status: ExpStatus;
  /** Set when the run was restored from IndexedDB after a reload. */
  resumedFrom: number | null;
}

/** What IndexedDB holds about the last running experiment (a summary; the page decides to resume). */
export interface ExpStoredSummary {
  config: ExperimentConfig;
  update: number;
  /** Whether it was playing when last saved (a reload resumes playing). */
  playing: boolean;
  savedAt: number;
}

export type ExperimentRequest =
  | { id: number; type: 'exp.configure'; config: ExperimentConfig; resume?: boolean }
  | { id: number; type: 'exp.play' }
  | { id: number; type: 'exp.pause' }
  | { id: number; type: 'exp.step' }
  | { id: number; type: 'exp.reset' }
  | { id: number; type: 'exp.exportCheckpoint'; arm: string }
  | { id: number; type: 'exp.stored' }
  | { id: number; type: 'exp.forget' }
  | { id: number; type: 'exp.snapshot' }
  /** Cuts the base model's evaluation in flight short (the configure then answers without base figures). */
  | { id: number; type: 'exp.cutBaseEval' }
  /** report.ts's metrics.csv (the runner's format) for results the page holds (live or imported). */
  | { id: number; type: 'exp.csv'; results: { arms: { name: string; updates: ExpUpdateRecord[] }[] } };

export interface ExperimentReplyMap {
  'exp.configure': ExpSnapshot;
  'exp.play': { status: ExpStatus; update: number };
  'exp.pause': { status: ExpStatus; update: number };
  'exp.step': { status: ExpStatus; update: number };
  'exp.reset': ExpSnapshot;
  'exp.exportCheckpoint': { fileName: string; bytes: Uint8Array };
  'exp.stored': ExpStoredSummary | null;
  'exp.forget': { ok: true };
  /** The current run as the page shows it (null before any configure). */
  'exp.snapshot': ExpSnapshot | null;
  'exp.csv': { csv: string };
  'exp.cutBaseEval': { cut: boolean };
}

export type ExperimentEvent =
  /** One update of every running arm (posted once per update). */
  | { type: 'exp.update'; run: number; update: number; records: ExpUpdateRecord[] }
  /** Checkpoint evaluations of every running arm at `update` (with the sample images). */
  | { type: 'exp.checkpoint'; run: number; update: number; checkpoints: ExpCheckpointRecord[]; evals: ExpEvalImages[] }
  | { type: 'exp.halted'; run: number; arm: string; message: string }
  | { type: 'exp.status'; run: number; status: ExpStatus; update: number; message?: string }
  /** Long work: model loading, data encoding, reference sampling, evaluation, replay on resume. */
  | { type: 'exp.progress'; run: number; stage: string; fraction: number }
  /** The run was saved to IndexedDB at this update. */
  | { type: 'exp.saved'; run: number; update: number };

export const EXPERIMENT_REQUEST_TYPES = [
  'exp.configure',
  'exp.play',
  'exp.pause',
  'exp.step',
  'exp.reset',
  'exp.exportCheckpoint',
  'exp.stored',
  'exp.forget',
  'exp.snapshot',
  'exp.csv',
  'exp.cutBaseEval',
] as const satisfies readonly ExperimentRequest['type'][];
