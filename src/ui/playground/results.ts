/**
 * Export and import of a run's metrics in the headless runner's format (src/core/align/report.ts:
 * `results.json` = Experiment.results() + meta {engine, backend, …}; `metrics.csv` = one row per
 * arm and update, written by report.ts's metricsCsv in the worker, so the page keeps one CSV writer). Pure functions, no DOM. Import validates the config through config.ts
 * (the one schema) and the records' shape here, and answers readable errors instead of throwing.
 */
import { z } from 'zod';
import { armHyperParameters, safeParseExperimentConfig, type ExperimentConfig } from '../../core/config';
import type { ExpCheckpointRecord, ExpSnapshot, ExpUpdateRecord, Metrics } from '../../worker/protocol-experiment';
import type { RunState } from './runState';
import type { RunMeta } from '../../core/align/report';

export interface ResultsArm {
  name: string;
  config: ExperimentConfig['arms'][number];
  beta: number;
  lr: number;
  halted: string | null;
  updates: ExpUpdateRecord[];
  checkpoints: ExpCheckpointRecord[];
}

/** The runner's run metadata (same type: exported JSON files are interchangeable). */
export type ResultsMeta = RunMeta;

export interface ResultsJson {
  config: ExperimentConfig;
  updatesDone: number;
  base: { metrics: Metrics } | null;
  arms: ResultsArm[];
  meta: ResultsMeta;
}

export function resultsFromState(s: RunState, meta: ResultsMeta): ResultsJson {
  return {
    config: s.config,
    updatesDone: s.update,
    base: s.base ? { metrics: s.base.metrics } : null,
    arms: s.config.arms.map((a) => ({
      name: a.name,
      config: a,
      ...armHyperParameters(s.config, a),
      halted: s.halted[a.name] ?? null,
      updates: s.records[a.name] ?? [],
      checkpoints: s.checkpoints[a.name] ?? [],
    })),
    meta,
  };
}

const num = z.number();
const nnum = z.number().nullable();
const updateSchema = z.looseObject({
  arm: z.string(),
  update: z.number().int().min(1),
  loss: num,
  implicitAcc: nnum,
  aafRate: nnum,
  mW: num,
  mL: nnum.optional(),
  rW: nnum.optional(),
  rL: nnum.optional(),
  rewardW: nnum.optional(),
  rewardL: nnum.optional(),
  margin: nnum.optional(),
  insideHist: z.array(num).nullable().optional(),
  accByTBucket: z.array(nnum).nullable().optional(),
  flippedShare: nnum.optional(),
  refK: nnum.optional(),
});
const checkpointSchema = z.looseObject({
  arm: z.string(),
  update: z.number().int().min(0),
  metrics: z.record(z.string(), num).nullable(),
  winRate: z.record(z.string(), num).nullable(),
});
const resultsSchema = z.looseObject({
  config: z.unknown(),
  backend: z.string().optional(),
  meta: z.looseObject({ backend: z.string().optional() }).optional(),
  updatesDone: z.number().int().min(0).optional(),
  base: z.looseObject({ metrics: z.record(z.string(), num) }).nullable().optional(),
  arms: z.array(
    z.looseObject({
      name: z.string(),
      halted: z.string().nullable().optional(),
      updates: z.array(updateSchema),
      checkpoints: z.array(checkpointSchema),
    }),
  ),
});

/** A final evaluation's summary against the base, per metric: win rate (Wilson) and Δ (paired t). */
export interface FinalSummary {
  split: string;
  n: number;
  vsBase: Record<string, { win: { rate: number; lo: number; hi: number; ties: number }; delta: { mean: number; lo: number; hi: number } }>;
}

/** Per arm (by name): its final evaluations (validation first, then the out-of-distribution sets). */
export type FinalSummaries = Record<string, FinalSummary[]>;

export type ImportResult = { ok: true; snapshot: ExpSnapshot; backend: string; finals: FinalSummaries } | { ok: false; errors: string[] };

const finalSchema = z.looseObject({
  split: z.string(),
  n: z.number().int().min(1),
  vsBase: z
    .record(
      z.string(),
      z.looseObject({
        win: z.looseObject({ rate: z.number().min(0).max(1), lo: z.number(), hi: z.number(), ties: z.number().min(0) }),
        delta: z.looseObject({ mean: z.number(), lo: z.number(), hi: z.number() }),
      }),
    )
    .nullable(),
});

/** The arms' final evaluations, where the file has them and they read as such (anything else is left out, not an error: the page does not need them). */
export function finalSummaries(arms: unknown): FinalSummaries {
  const out: FinalSummaries = {};
  if (!Array.isArray(arms)) return out;
  for (const a of arms as { name?: unknown; finalEval?: unknown; finalEvalOod?: unknown }[]) {
    if (typeof a?.name !== 'string') continue;
    const list = [a.finalEval, ...Object.values((a.finalEvalOod as Record<string, unknown> | undefined) ?? {})];
    const ok: FinalSummary[] = [];
    for (const f of list) {
      const r = finalSchema.safeParse(f);
      if (r.success && r.data.vsBase) ok.push({ split: r.data.split, n: r.data.n, vsBase: r.data.vsBase });
    }
    if (ok.length) out[a.name] = ok;
  }
  return out;
}

/** Largest results file the page imports (checked before reading it). */
export const MAX_IMPORT_BYTES = 32 * 1024 * 1024;
/** Most update records (all arms together) an imported file may hold. */
export const MAX_IMPORT_RECORDS = 50_000;

/** `arms[1].updates[5].loss` from a path of keys and indices. */
export function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : out ? `.${String(k)}` : String(k);
  return out || '(file)';
}

/** A value for a message, cut to `max` characters with an ellipsis. */
export function shortValue(v: unknown, max = 40): string {
  let t: string;
  try {
    t = typeof v === 'string' ? JSON.stringify(v) : typeof v === 'number' ? String(v) : JSON.stringify(v) ?? String(v);
  } catch {
    t = String(v);
  }
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

/** The size cap, checked before the file is read. Null if the size is fine. */
export function importSizeError(bytes: number): string | null {
  if (bytes <= MAX_IMPORT_BYTES) return null;
  return `the file is ${(bytes / 1024 / 1024).toFixed(1)} MB; the page imports results files of at most ${MAX_IMPORT_BYTES / 1024 / 1024} MB`;
}

/** Reads an exported results JSON (text) into a view-only snapshot, or says what is wrong with it. */
export function importResults(text: string): ImportResult {
  const tooBig = importSizeError(text.length);
  if (tooBig) return { ok: false, errors: [tooBig] };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, errors: [`the file is not JSON (${e instanceof Error ? e.message : String(e)})`] };
  }
  // The record cap, before any per-record work.
  const armsRaw = (value as { arms?: unknown } | null)?.arms;
  if (Array.isArray(armsRaw)) {
    const n = armsRaw.reduce((a: number, x) => a + (Array.isArray((x as { updates?: unknown } | null)?.updates) ? (x as { updates: unknown[] }).updates.length : 0), 0);
    if (n > MAX_IMPORT_RECORDS) {
      return { ok: false, errors: [`the file holds ${n.toLocaleString('en-US')} update records; the page imports at most ${MAX_IMPORT_RECORDS.toLocaleString('en-US')} (all arms together)`] };
    }
  }
  const r = resultsSchema.safeParse(value);
  if (!r.success) {
    return {
      ok: false,
      errors: r.error.issues.slice(0, 6).map((i) => `${pathText(i.path)}: ${i.message}`),
    };
  }
  const cfg = safeParseExperimentConfig(r.data.config);
  if (!cfg.ok) return { ok: false, errors: cfg.errors.map((e) => (e.startsWith('(config)') ? `config${e.slice('(config)'.length)}` : `config.${e}`)) };
  const insane = sanityErrors(r.data as unknown as SaneInput, cfg.config);
  if (insane.length) return { ok: false, errors: insane.slice(0, 6).concat(insane.length > 6 ? [`… and ${insane.length - 6} more`] : []) };
  const names = cfg.config.arms.map((a) => a.name);
  const missing = names.filter((n) => !r.data.arms.some((a) => a.name === n));
  const extra = r.data.arms.filter((a) => !names.includes(a.name)).map((a) => a.name);
  if (missing.length || extra.length) {
    return {
      ok: false,
      errors: [
        ...(missing.length ? [`arms: no records for ${missing.map((n) => `'${n}'`).join(', ')} of the config`] : []),
        ...(extra.length ? [`arms: ${extra.map((n) => `'${n}'`).join(', ')} not in the config`] : []),
      ],
    };
  }
  const records: ExpUpdateRecord[] = [];
  const checkpoints: ExpCheckpointRecord[] = [];
  const halted: { arm: string; message: string }[] = [];
  let update = r.data.updatesDone ?? 0;
  for (const a of r.data.arms) {
    for (const u of a.updates) {
      records.push({
        mL: null, rW: null, rL: null, rewardW: null, rewardL: null, margin: null, insideHist: null,
        accByTBucket: null, flippedShare: null, refK: null, ms: 0, refMs: 0,
        ...(u as Partial<ExpUpdateRecord>),
        arm: a.name,
      } as ExpUpdateRecord);
      update = Math.max(update, u.update);
    }
    for (const c of a.checkpoints) {
      checkpoints.push({ savedK: null, poolCheckpoints: 0, poolBytes: 0, ms: 0, ...(c as Partial<ExpCheckpointRecord>), arm: a.name } as ExpCheckpointRecord);
    }
    if (a.halted) halted.push({ arm: a.name, message: a.halted });
  }
  return {
    ok: true,
    backend: r.data.meta?.backend ?? r.data.backend ?? 'unknown',
    finals: finalSummaries(r.data.arms),
    snapshot: {
      run: -1,
      config: cfg.config,
      evalPrompts: [],
      base: r.data.base ? { metrics: r.data.base.metrics, perImage: [], images: [] } : null,
      update,
      records,
      checkpoints,
      evals: [],
      halted,
      status: 'done',
      resumedFrom: null,
    },
  };
}

interface SaneInput {
  updatesDone?: number;
  base?: { metrics: Record<string, number> } | null;
  arms: { name: string; updates: Record<string, unknown>[]; checkpoints: { update: number; metrics: Record<string, number> | null; winRate: Record<string, number> | null }[] }[];
}

const NON_NEGATIVE = ['mW', 'mL', 'rW', 'rL', 'ms', 'refMs'] as const;
const SHARES = ['implicitAcc', 'aafRate', 'flippedShare'] as const;

/**
 * Values checked for sense, not only shape: finite numbers, errors and times non-negative,
 * shares in [0, 1], update numbers within the config and increasing. Messages name the path.
 */
export function sanityErrors(d: SaneInput, config: ExperimentConfig): string[] {
  const out: string[] = [];
  const add = (path: (string | number)[], msg: string) => out.length < 50 && out.push(`${pathText(path)}: ${msg}`);
  const finite = (path: (string | number)[], v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) add(path, `must be a finite number, got ${shortValue(v)}`);
  };
  if (d.updatesDone !== undefined && d.updatesDone > config.updates) add(['updatesDone'], `${d.updatesDone} is more than the config's ${config.updates} updates`);
  for (const [k, v] of Object.entries(d.base?.metrics ?? {})) finite(['base', 'metrics', k], v);
  d.arms.forEach((a, i) => {
    if (a.updates.length > config.updates) add(['arms', i, 'updates'], `${a.updates.length} records for an experiment of ${config.updates} updates`);
    let prev = 0;
    a.updates.forEach((u, j) => {
      const p = ['arms', i, 'updates', j];
      const n = u.update as number;
      if (n > config.updates) add([...p, 'update'], `update ${n} is beyond the config's ${config.updates} updates`);
      else if (n <= prev) add([...p, 'update'], `updates must increase, got ${n} after ${prev}`);
      prev = Math.max(prev, n);
      for (const [k, v] of Object.entries(u)) {
        if (typeof v === 'number') finite([...p, k], v);
        else if (Array.isArray(v)) v.forEach((x, m) => finite([...p, k, m], x));
      }
      for (const k of NON_NEGATIVE) {
        const v = u[k];
        if (typeof v === 'number' && Number.isFinite(v) && v < 0) add([...p, k], `must be ≥ 0, got ${shortValue(v)}`);
      }
      for (const k of SHARES) {
        const v = u[k];
        if (typeof v === 'number' && Number.isFinite(v) && (v < 0 || v > 1)) add([...p, k], `must be between 0 and 1, got ${shortValue(v)}`);
      }
      const hist = u.insideHist;
      if (Array.isArray(hist) && hist.some((x) => typeof x === 'number' && x < 0)) add([...p, 'insideHist'], 'counts must be ≥ 0');
    });
    a.checkpoints.forEach((c, j) => {
      const p = ['arms', i, 'checkpoints', j];
      if (c.update > config.updates) add([...p, 'update'], `update ${c.update} is beyond the config's ${config.updates} updates`);
      for (const [k, v] of Object.entries(c.metrics ?? {})) finite([...p, 'metrics', k], v);
      for (const [k, v] of Object.entries(c.winRate ?? {})) {
        finite([...p, 'winRate', k], v);
        if (Number.isFinite(v) && (v < 0 || v > 1)) add([...p, 'winRate', k], `must be between 0 and 1, got ${shortValue(v)}`);
      }
    });
  });
  return out;
}
