/**
 * Export and import of a run's metrics in the headless runner's format (src/core/align/report.ts:
 * `results.json` = Experiment.results() + meta {engine, backend, …}; `metrics.csv` = one row per
 * arm and update, written by report.ts's metricsCsv in the worker, since that module loads tfjs
 * and the page must not). Pure functions, no DOM. Import validates the config through config.ts
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

export type ImportResult = { ok: true; snapshot: ExpSnapshot; backend: string } | { ok: false; errors: string[] };

/** Reads an exported results JSON (text) into a view-only snapshot, or says what is wrong with it. */
export function importResults(text: string): ImportResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, errors: [`the file is not JSON (${e instanceof Error ? e.message : String(e)})`] };
  }
  const r = resultsSchema.safeParse(value);
  if (!r.success) {
    return {
      ok: false,
      errors: r.error.issues.slice(0, 6).map((i) => `${i.path.length ? i.path.join('.') : '(file)'}: ${i.message}`),
    };
  }
  const cfg = safeParseExperimentConfig(r.data.config);
  if (!cfg.ok) return { ok: false, errors: cfg.errors.map((e) => `config.${e}`) };
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
