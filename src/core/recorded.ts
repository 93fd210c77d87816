/**
 * Recorded runs (issue 16): full-size runs the headless runner recorded (`runs/<dir>/results.json`),
 * shipped with the page in `public/recorded/` and listed by a manifest (`public/recorded/index.json`),
 * so a gallery opens them at once, without training. Pure data: the selection, the stripping of the
 * fields the page does not read, the manifest entry and the manifest's validation. No tfjs, no DOM:
 * `scripts/recorded-runs.ts` writes the files, the page reads them.
 *
 * What is stripped (and why the page loses nothing it shows):
 *  - per-image columns of the final evaluation (base and arms) and the base's per-image metrics of its
 *    checkpoint evaluation: the page shows the final evaluation's summary (win rate with its Wilson
 *    interval, Δ with its paired t-interval, per metric), which is kept;
 *  - `aafSkill` and `skillMs` per update (the arm's summed confusion is kept);
 *  - update records' floats are rounded to 6 significant digits (the charts draw them; no table reads them).
 * Checkpoint records (metrics, win rates, per-image columns, the displacement probe) are kept exactly.
 */
import { z } from 'zod';
import { safeParseExperimentConfig, type ExperimentConfig } from './config';

/** One run chosen for shipping: where it is in `runs/` and how to describe it. */
export interface RecordedSelection {
  /** File name stem and URL id (`?recorded=<id>`). */
  id: string;
  /** Directory under the repository root holding results.json (and summary.md). */
  dir: string;
  title: string;
  /** The command that recorded it (as the README and run notes give it). */
  command: string;
  /** Which issue / paper table it belongs to. */
  belongsTo: string;
}

/** The runs the README cites on the shipped base. One file per seed. */
export const RECORDED_SELECTION: readonly RecordedSelection[] = [
  {
    id: 'first-look-chromium-wasm',
    dir: 'runs/first-look-chromium-wasm',
    title: 'first-look: SePPOʷ, SFTʷ, SFT on losers (Chromium, WASM)',
    command: 'npm run experiment -- --preset first-look --engine browser --backend wasm --out runs/first-look-chromium-wasm',
    belongsTo: 'issue 13 point 6: time to visible separation',
  },
  ...[0, 1, 2].map((n) => ({
    id: `aaf-ablation-v3-seed${n}`,
    dir: `runs/aaf-ablation-v3-seed${n}`,
    title: `aaf-ablation: AAF sign / indicator / off, seed ${n}`,
    command: `npm run experiment -- --preset aaf-ablation --engine node --seed ${n} --eval-seed ${1013 + n} --out runs/aaf-ablation-v3-seed${n}`,
    belongsTo: 'issue 13: paper Table 4 (top), AAF ablation; pooled in runs/aaf-ablation-v3-seeds.md',
  })),
  ...[0, 1, 2, 3, 4].map((n) => ({
    id: `reference-strategies-v3-seed${n}`,
    dir: `runs/reference-strategies-v3-seed${n}`,
    title: `reference-strategies: ref = init / latest / random, seed ${n}`,
    command: `npm run experiment -- --preset reference-strategies --engine node --seed ${n} --eval-seed ${1013 + n} --out runs/reference-strategies-v3-seed${n}`,
    belongsTo: 'issue 13: paper Fig. 2 / Table 4 (bottom), reference strategies; pooled in runs/reference-strategies-v3-seeds.md',
  })),
  ...[0, 1, 2].map((n) => ({
    id: `table2-v3-seed${n}`,
    dir: `runs/table2-v3-seed${n}`,
    title: `Tables 1 and 2: SFTʷ, Diffusion-DPO, SPIN-like, SePPOʷ, seed ${n}`,
    command: `npm run experiment -- --config runs/table2-v3-seed0/config.json${n ? ` --seed ${n}` : ''} --engine node --final-eval 64x8 --final-eval-ood --eval-seed ${1013 + n} --out runs/table2-v3-seed${n}`,
    belongsTo: 'issue 13 point 5: paper Tables 1 and 2 (validation and out-of-distribution sets); pooled in runs/table2-v3-seeds.md',
  })),
  ...[0, 1, 2].map((n) => ({
    id: `table1-v3-extra-seed${n}`,
    dir: `runs/table1-v3-extra-seed${n}`,
    title: `Table 1: SePPOʳ, DDPO, D3PO (PickScore-mini), seed ${n}`,
    command: `npm run experiment -- --config runs/table1-v3-extra-seed0/config.json --seed ${n} --engine node --final-eval 64x8 --final-eval-ood --eval-seed ${1013 + n} --out runs/table1-v3-extra-seed${n}`,
    belongsTo: 'issues 13 and 15: paper Table 1, the remaining arms; pooled in runs/table1-v3-extra-seeds.md',
  })),
  ...[0, 1, 2].map((n) => ({
    id: `table2-rpo-spo-seed${n}`,
    dir: `runs/table2-rpo-spo-seed${n}`,
    title: `Tables 1 and 2: Diffusion-RPO, SPO (PickScore-mini), seed ${n}`,
    command: `npm run experiment -- --config runs/table2-rpo-spo-seed0/config.json --seed ${n} --engine node --final-eval 64x8 --final-eval-ood --eval-seed ${1013 + n} --out runs/table2-rpo-spo-seed${n}`,
    belongsTo: 'issues 13 and 15: paper Tables 1 and 2, Diffusion-RPO and SPO; pooled in runs/table2-rpo-spo-seeds.md',
  })),
  {
    id: 'reward-hacking-v3-seed0',
    dir: 'runs/reward-hacking-v3-seed0',
    title: 'reward-hacking: DDPO on Aesthetic and on PickScore-mini, 90 updates',
    command: 'npm run experiment -- --config runs/reward-hacking-v3-seed0/config.json --engine node --out runs/reward-hacking-v3-seed0',
    belongsTo: 'issue 15: reward hacking made visible (training reward up, true preference down)',
  },
  {
    id: 'beta-sweep-v3-seed0',
    dir: 'runs/beta-sweep-v3-seed0',
    title: 'beta-sweep: SePPOʷ at β = 100 … 10,000, seed 0',
    command: 'npm run experiment -- --preset beta-sweep --seed 0 --engine node --final-eval 64x8 --eval-seed 1013 --out runs/beta-sweep-v3-seed0',
    belongsTo: 'issue 16: the “What β does” lesson (sigmoid saturation against β)',
  },
  ...[0, 1, 2].map((n) => ({
    id: `gates-seed${n}`,
    dir: `runs/gates/seed-${n}`,
    title: `Sanity gates: base vs itself, SFTʷ, SFT on losers, Diffusion-DPO, seed ${n}`,
    command: 'npm run gates -- --seeds 0,1,2 --out-dir runs/gates',
    belongsTo: 'issue 13 point 4: the sanity gates; pooled with verdicts in runs/gates/gates.md',
  })),
];

/** One manifest line: what the gallery shows before opening a run. */
export interface RecordedEntry {
  id: string;
  title: string;
  /** File name inside the recorded folder. */
  file: string;
  command: string;
  /** meta.startedAt of the run (ISO). */
  date: string;
  engine: string;
  backend: string;
  /** Training seed(s) of the file (one file = one seed). */
  seeds: number[];
  belongsTo: string;
  /** Where it came from in the repository. */
  source: string;
  arms: string[];
  updates: number;
  /** Paired images per arm of the final evaluation (0 when the run had none). */
  finalImages: number;
  bytes: number;
}

export interface RecordedManifest {
  version: 1;
  generatedBy: string;
  note: string;
  runs: RecordedEntry[];
}

const MANIFEST_NOTE =
  'Recorded by the headless runner; stripped of per-image final-evaluation columns and per-update AAF-skill records, update floats rounded to 6 significant digits (src/core/recorded.ts).';

type Json = Record<string, unknown>;

const round6 = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v) ? +v.toPrecision(6) : v);

function stripFinal(f: unknown): unknown {
  if (!f || typeof f !== 'object') return f;
  const { perImage: _drop, ...rest } = f as Json;
  return rest;
}

/** The results file as shipped: what the page reads, without the bulk it does not (see the file's comment). */
export function stripResults(results: unknown): Json {
  const r = structuredClone(results) as Json;
  if (!r || typeof r !== 'object' || !Array.isArray(r.arms)) throw new Error('results: no arms array');
  if (r.base && typeof r.base === 'object') {
    const b = r.base as Json;
    r.base = { metrics: b.metrics, ...(b.finalEval ? { finalEval: stripFinal(b.finalEval) } : {}), ...(b.finalEvalOod ? { finalEvalOod: mapValues(b.finalEvalOod as Json, stripFinal) } : {}) };
  }
  r.arms = (r.arms as Json[]).map((a) => {
    const out: Json = { ...a };
    out.updates = ((a.updates as Json[]) ?? []).map((u) => {
      const { aafSkill: _s, skillMs: _m, ...rest } = u;
      const o: Json = {};
      for (const [k, v] of Object.entries(rest)) o[k] = Array.isArray(v) ? v.map(round6) : round6(v);
      return o;
    });
    if (a.finalEval) out.finalEval = stripFinal(a.finalEval);
    if (a.finalEvalOod) out.finalEvalOod = mapValues(a.finalEvalOod as Json, stripFinal);
    return out;
  });
  return r;
}

function mapValues(o: Json, f: (v: unknown) => unknown): Json {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
}

/** The manifest entry of a selected run, from its (unstripped or stripped) results and the shipped file's size. */
export function manifestEntry(sel: RecordedSelection, results: unknown, bytes: number): RecordedEntry {
  const r = results as { config?: { seed?: number; updates?: number }; updatesDone?: number; meta?: { startedAt?: string; engine?: string; backend?: string }; arms?: { name: string; finalEval?: { n?: number } }[] };
  if (!r?.config || !Array.isArray(r.arms) || !r.meta) throw new Error(`${sel.dir}/results.json: no config, arms or meta`);
  return {
    id: sel.id,
    title: sel.title,
    file: `${sel.id}.json`,
    command: sel.command,
    date: r.meta.startedAt ?? 'unknown',
    engine: r.meta.engine ?? 'unknown',
    backend: r.meta.backend ?? 'unknown',
    seeds: [r.config.seed ?? 0],
    belongsTo: sel.belongsTo,
    source: sel.dir,
    arms: r.arms.map((a) => a.name),
    updates: r.updatesDone ?? r.config.updates ?? 0,
    finalImages: Math.max(0, ...r.arms.map((a) => a.finalEval?.n ?? 0)),
    bytes,
  };
}

export function buildManifest(entries: RecordedEntry[]): RecordedManifest {
  const ids = new Set<string>();
  for (const e of entries) {
    if (ids.has(e.id)) throw new Error(`recorded runs: id '${e.id}' appears twice`);
    ids.add(e.id);
  }
  return { version: 1, generatedBy: 'npm run recorded-runs (scripts/recorded-runs.ts)', note: MANIFEST_NOTE, runs: entries };
}

const entrySchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
  title: z.string().min(1),
  file: z.string().regex(/^[a-z0-9][a-z0-9-]*\.json$/, 'a .json file name in the recorded folder'),
  command: z.string().min(1),
  date: z.string(),
  engine: z.string(),
  backend: z.string(),
  seeds: z.array(z.number().int()).min(1),
  belongsTo: z.string(),
  source: z.string(),
  arms: z.array(z.string()).min(1),
  updates: z.number().int().min(0),
  finalImages: z.number().int().min(0),
  bytes: z.number().int().min(0),
});

export interface ParsedManifest {
  runs: RecordedEntry[];
  /** One readable line per problem: the whole file, or an entry by index and id (that entry is left out). */
  errors: string[];
}

/** Validates a manifest: good entries are kept, each bad one named with what is wrong. Never throws. */
export function parseManifest(value: unknown): ParsedManifest {
  if (!value || typeof value !== 'object') return { runs: [], errors: ['the manifest is not a JSON object'] };
  const v = value as { version?: unknown; runs?: unknown };
  if (v.version !== 1) return { runs: [], errors: [`the manifest's version is ${JSON.stringify(v.version)}; the page reads version 1`] };
  if (!Array.isArray(v.runs)) return { runs: [], errors: ["the manifest has no 'runs' list"] };
  const runs: RecordedEntry[] = [];
  const errors: string[] = [];
  const seen = new Set<string>();
  v.runs.forEach((raw, i) => {
    const r = entrySchema.safeParse(raw);
    const id = (raw as { id?: unknown } | null)?.id;
    const name = `runs[${i}]${typeof id === 'string' ? ` ('${id}')` : ''}`;
    if (!r.success) {
      errors.push(`${name}: ${r.error.issues.slice(0, 3).map((x) => `${x.path.join('.') || '(entry)'} ${x.message}`).join('; ')}; left out`);
      return;
    }
    if (seen.has(r.data.id)) {
      errors.push(`${name}: id appears twice; left out`);
      return;
    }
    seen.add(r.data.id);
    runs.push(r.data);
  });
  return { runs, errors };
}

/** The presets a small live version of a recorded run can take its size from (fast enough on a laptop without a GPU). */
export const BESIDE_SIZES = ['smoke', 'first-look'] as const;
export type BesideSize = (typeof BESIDE_SIZES)[number];

/**
 * A small live version of a recorded run's experiment, to train beside it (issue 16): the recorded
 * run's arms (method, data, reference, flip, β, lr, colour) and seeds, at the size of a small preset
 * (its data size, updates, checkpoints, sampling steps and evaluation prompts; none of the protocol's
 * final evaluation, probe or AAF-skill extras). Checked by the one experiment schema.
 */
export function smallLiveVersion(recorded: ExperimentConfig, size: ExperimentConfig): { ok: true; config: ExperimentConfig } | { ok: false; errors: string[] } {
  const { arms: _a, seed: _s, dataSeed: _d, ...sizing } = size;
  const r = safeParseExperimentConfig({ ...sizing, seed: recorded.seed, dataSeed: recorded.dataSeed, ...(recorded.evalSeed !== undefined ? { evalSeed: recorded.evalSeed } : {}), arms: recorded.arms });
  return r.ok ? { ok: true, config: r.config } : { ok: false, errors: r.errors };
}
