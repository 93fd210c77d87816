/**
 * The page's view of one experiment run: a pure reducer over worker events (no React, no tensors),
 * so the charts, table and grids are fed by one typed value and the logic is unit-tested.
 */
import type { ExperimentConfig } from '../../core/config';
import type {
  ExpBaseEval,
  ExpBaseEvalInfo,
  ExpCheckpointRecord,
  ExpEvalImages,
  ExpSnapshot,
  ExpStatus,
  ExpUpdateRecord,
  ExperimentEvent,
} from '../../worker/protocol-experiment';

export interface RunState {
  run: number;
  /** 'live': the worker's run; 'imported': a finished run read from an exported JSON (view only). */
  source: 'live' | 'imported';
  config: ExperimentConfig;
  evalPrompts: string[];
  base: ExpBaseEval | null;
  /** How the base's figures came about (null: an imported file, which does not say). */
  baseEval: ExpBaseEvalInfo | null;
  update: number;
  status: ExpStatus;
  /** Per arm (by name), in update order. */
  records: Record<string, ExpUpdateRecord[]>;
  checkpoints: Record<string, ExpCheckpointRecord[]>;
  /** Sample images by `${arm}@${update}` ('' = base). */
  evals: Record<string, ExpEvalImages>;
  halted: Record<string, string>;
  progress: { stage: string; fraction: number } | null;
  message: string | null;
  resumedFrom: number | null;
  savedUpdate: number | null;
}

export const evalKey = (arm: string, update: number) => `${arm}@${update}`;

function group<T extends { arm: string }>(names: string[], items: T[]): Record<string, T[]> {
  const out: Record<string, T[]> = {};
  for (const n of names) out[n] = [];
  for (const it of items) (out[it.arm] ??= []).push(it);
  return out;
}

export function stateFromSnapshot(s: ExpSnapshot, source: RunState['source'] = 'live'): RunState {
  const names = s.config.arms.map((a) => a.name);
  const evals: Record<string, ExpEvalImages> = {};
  for (const e of s.evals) evals[evalKey(e.arm, e.update)] = e;
  if (s.base && s.base.images.length) evals[evalKey('', 0)] = { arm: '', update: 0, images: s.base.images, perImage: s.base.perImage };
  const halted: Record<string, string> = {};
  for (const h of s.halted) halted[h.arm] = h.message;
  return {
    run: s.run,
    source,
    config: s.config,
    evalPrompts: s.evalPrompts,
    base: s.base,
    baseEval: s.baseEval ?? null,
    update: s.update,
    status: s.status,
    records: group(names, s.records),
    checkpoints: group(names, s.checkpoints),
    evals,
    halted,
    progress: null,
    message: null,
    resumedFrom: s.resumedFrom,
    savedUpdate: s.resumedFrom,
  };
}

export type RunAction =
  | { kind: 'snapshot'; snapshot: ExpSnapshot; source?: RunState['source'] }
  | { kind: 'event'; event: ExperimentEvent }
  | { kind: 'status'; status: ExpStatus; update?: number; message?: string | null }
  | { kind: 'clear' };

/** Applies one action. Events of another run (a stale loop) and events on an imported run are ignored. */
export function reduceRun(state: RunState | null, action: RunAction): RunState | null {
  switch (action.kind) {
    case 'clear':
      return null;
    case 'snapshot':
      return stateFromSnapshot(action.snapshot, action.source);
    case 'status':
      if (!state) return state;
      return {
        ...state,
        status: action.status,
        update: action.update ?? state.update,
        message: action.message === undefined ? state.message : action.message,
        progress: action.status === 'running' || action.status === 'loading' ? state.progress : null,
      };
    case 'event': {
      const e = action.event;
      if (!state || state.source !== 'live' || e.run !== state.run) return state;
      switch (e.type) {
        case 'exp.update': {
          if (hasUpdate(state, e.update)) return state; // a duplicate (e.g. replayed) update
          const records = { ...state.records };
          for (const r of e.records) records[r.arm] = [...(records[r.arm] ?? []), r];
          return { ...state, records, update: Math.max(state.update, e.update) };
        }
        case 'exp.checkpoint': {
          const checkpoints = { ...state.checkpoints };
          for (const c of e.checkpoints) checkpoints[c.arm] = [...(checkpoints[c.arm] ?? []).filter((x) => x.update !== c.update), c];
          const evals = { ...state.evals };
          for (const ev of e.evals) evals[evalKey(ev.arm, ev.update)] = ev;
          return { ...state, checkpoints, evals, progress: null };
        }
        case 'exp.halted':
          return { ...state, halted: { ...state.halted, [e.arm]: e.message } };
        case 'exp.status':
          return {
            ...state,
            status: e.status,
            update: Math.max(state.update, e.update),
            message: e.message ?? (e.status === 'error' ? 'the experiment failed' : state.message),
            progress: e.status === 'running' || e.status === 'loading' ? state.progress : null,
          };
        case 'exp.progress':
          return { ...state, progress: e.fraction >= 1 ? null : { stage: e.stage, fraction: e.fraction } };
        case 'exp.saved':
          return { ...state, savedUpdate: e.update };
      }
      return state;
    }
  }
}

function hasUpdate(state: RunState, update: number): boolean {
  for (const recs of Object.values(state.records)) if (recs.length && recs[recs.length - 1].update >= update) return true;
  return false;
}

/** Checkpoint updates that have evaluations, base (0) first. */
export function checkpointUpdates(state: RunState): number[] {
  const set = new Set<number>();
  if (state.base) set.add(0);
  for (const list of Object.values(state.checkpoints)) for (const c of list) set.add(c.update);
  return [...set].sort((a, b) => a - b);
}

/** The latest checkpoint of an arm (null before its first). */
export function latestCheckpoint(state: RunState, arm: string): ExpCheckpointRecord | null {
  const list = state.checkpoints[arm];
  return list && list.length ? list[list.length - 1] : null;
}

export function busy(status: ExpStatus): boolean {
  return status === 'running' || status === 'loading';
}

/**
 * The line the page shows about the base's evaluation: where cached figures come from, or that it
 * was cut short and what that leaves out. Null when there is nothing to say (computed now).
 */
export function baseEvalNote(info: ExpBaseEvalInfo | null, locale?: string): { kind: 'info' | 'warn'; text: string } | null {
  if (!info) return null;
  const date = (t: number) => new Date(t).toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'short' });
  switch (info.state) {
    case 'cached':
      return { kind: 'info', text: `Base model's evaluation cached from ${date(info.cachedAt)} (same model, scorers, prompts, seed, steps, guidance and backend); not recomputed.` };
    case 'cut':
      return {
        kind: 'warn',
        text:
          `The base model's evaluation was cut short (${info.done} of ${info.total} images): this run has no base figures, so win rates against the base are not computed and the base's row and point are missing. ` +
          'Reset (or reload) to evaluate the base in full.',
      };
    default:
      return null;
  }
}
