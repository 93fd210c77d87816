/**
 * Handles the Data and Model views' requests inside the worker: dataset figures and pages of
 * pairs, the base model's loading, step-by-step DDIM sampling with decoded previews (core's
 * diffusion/sample.ts `sampleWithPreviews`; here only its events and cancellation), and the five
 * metrics of the final image. Replies are plain data; their wording for people (split names,
 * defect descriptions) is the page's (src/ui/data/wording.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { sampleWithPreviews } from '../core/diffusion/sample';
import { aesthetic } from '../core/eval/aesthetic';
import { alignment } from '../core/eval/alignment';
import { evaluate } from '../core/eval/evaluate';
import { analyse } from '../core/eval/pixels';
import { describeScorer } from '../core/eval/scorer';
import {
  GENERATORS, PromptError, UTILITY_WEIGHTS, parsePrompt, promptText, tokenize, trueUtility,
  type Defect, type Pair, type Prompt,
} from '../core/world';
import { getDataset, loadBaseModel, loadScorers, type Emit } from './assets';
import type { WorkerEvent } from './protocol';
import type { DataSummary, ImageView, ModelInfo, PairFilter, PairsPage, PairView, SampleResult, ViewsReplyMap, ViewsRequest } from './protocol-views';

/** Most pairs one `data:pairs` request returns (each pair is ~24 KB of images). */
export const MAX_PAGE = 50;
/** Highest DDIM step count the Model view accepts (T = 1000). */
export const MAX_STEPS = 1000;

function dataSummary(seed: number | undefined, emit: Emit): DataSummary {
  const { dataset: ds, buildMs } = getDataset(seed === undefined ? {} : { seed }, emit);
  const s = ds.stats;
  return {
    seed: ds.seed,
    buildMs,
    splits: (Object.keys(s.pairs) as (keyof typeof s.pairs)[]).map((k) => ({
      name: k,
      pairs: s.pairs[k],
      uniquePrompts: s.uniquePrompts[k],
      tiesDropped: s.tiesDropped[k],
    })),
    agreement: (['A', 'B'] as const).map((pool) => ({ pool, ...s.raterAgreement[pool] })),
    generators: s.generators.map((g, i) => ({ ...g, description: GENERATORS[i]?.description ?? '' })),
    utilityWeights: { ...UTILITY_WEIGHTS },
    heldOutCombos: s.heldOutCombos,
    promptCounts: { ...s.promptCounts },
    validationPrompts: ds.validationUnique.slice(0, 6).map(promptText),
    oodCompositionPrompts: ds.oodComposition.slice(0, 6).map(promptText),
  };
}

function imageView(image: Float32Array, gen: number, u: number, parts: ImageView['parts'], defects: Defect[]): ImageView {
  return { image, generator: GENERATORS[gen]?.name ?? `generator ${gen}`, utility: u, parts: { ...parts }, defects: defects.slice() };
}

function pairView(p: Pair, index: number): PairView {
  return {
    index,
    text: p.text,
    pool: p.pool,
    winner: imageView(p.winner, p.winnerGen, p.uWinner, p.partsWinner, p.defectsWinner),
    loser: imageView(p.loser, p.loserGen, p.uLoser, p.partsLoser, p.defectsLoser),
  };
}

const FILTERS: Record<PairFilter, (p: Pair) => boolean> = {
  all: () => true,
  upset: (p) => p.uWinner < p.uLoser,
  close: (p) => Math.abs(p.uWinner - p.uLoser) < 0.1,
};
const filtered = new WeakMap<Pair[], Map<PairFilter, number[]>>();

/** Indices (into `train`) of the pairs matching a filter, cached per dataset. */
function matching(train: Pair[], filter: PairFilter): number[] {
  let byFilter = filtered.get(train);
  if (!byFilter) filtered.set(train, (byFilter = new Map()));
  let idx = byFilter.get(filter);
  if (!idx) {
    idx = [];
    for (let i = 0; i < train.length; i++) if (FILTERS[filter](train[i])) idx.push(i);
    byFilter.set(filter, idx);
  }
  return idx;
}

function dataPairs(seed: number | undefined, offset: number, limit: number, filter: PairFilter, emit: Emit): PairsPage {
  if (!(filter in FILTERS)) throw new Error(`data:pairs: filter must be one of ${Object.keys(FILTERS).join(', ')}, got ${String(filter)}`);
  if (!Number.isInteger(offset) || offset < 0) throw new Error(`data:pairs: offset must be a non-negative integer, got ${offset}`);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new Error(`data:pairs: limit must be an integer in 1…${MAX_PAGE}, got ${limit}`);
  const { dataset } = getDataset(seed === undefined ? {} : { seed }, emit);
  const idx = matching(dataset.train, filter);
  const total = idx.length;
  const start = Math.min(offset, Math.max(0, total - 1));
  return {
    total,
    totalAll: dataset.train.length,
    offset: start,
    pairs: idx.slice(start, start + limit).map((i) => pairView(dataset.train[i], i)),
  };
}

async function modelLoad(emit: Emit): Promise<ModelInfo> {
  const m = await loadBaseModel(emit);
  const record: Record<string, string | number> = {};
  const flat = (obj: Record<string, unknown>, pre: string) => {
    for (const [k, v] of Object.entries(obj)) {
      if (k === 'sd' || k === 'format') continue;
      if (typeof v === 'number' || typeof v === 'string') record[pre + k] = v;
      else if (v && typeof v === 'object' && !Array.isArray(v) && pre === '') flat(v as Record<string, unknown>, `${k}.`);
    }
  };
  flat(m.config as Record<string, unknown>, '');
  const q = (m.config as { baseQuality?: Record<string, unknown> }).baseQuality;
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const quality: ModelInfo['quality'] =
    q && n(q.meanTrueUtility) !== undefined
      ? {
          meanTrueUtility: n(q.meanTrueUtility)!,
          generatorsMeanTrueUtility: n(q.generatorsMeanTrueUtility),
          ratioToGenerators: n(q.ratioToGenerators),
          nPrompts: n(q.nPrompts),
          ddimSteps: n(q.ddimSteps),
          guidance: n(q.guidance),
          decoderCeiling: n((q.decoderCeiling as { winnersReconstructed?: { total?: unknown } } | undefined)?.winnersReconstructed?.total),
          headroom: n(q.headroom),
          headroomInterval: headroomInterval(q.headroomInterval),
        }
      : undefined;
  return { params: m.params, bytes: m.bytes, loadMs: m.loadMs, record, quality, reconstruction: reconstructionView(m.config) };
}

function headroomInterval(v: unknown): { lo: number; hi: number } | undefined {
  const o = v as { lo?: unknown; hi?: unknown } | undefined;
  return o && typeof o.lo === 'number' && typeof o.hi === 'number' && Number.isFinite(o.lo) && Number.isFinite(o.hi) ? { lo: o.lo, hi: o.hi } : undefined;
}

/** config.json's reconstruction rows (and the held-out ideal row) as the view's plain rows; undefined when not recorded or malformed. */
function reconstructionView(config: unknown): ModelInfo['reconstruction'] {
  const rec = (config as { reconstruction?: { rows?: unknown; heldOutIdeal?: { row?: unknown } } }).reconstruction;
  if (!rec || !Array.isArray(rec.rows)) return undefined;
  const rows = [...rec.rows, ...(rec.heldOutIdeal?.row ? [rec.heldOutIdeal.row] : [])] as Array<{ set?: unknown; images?: unknown; original?: { total?: unknown }; reconstructed?: { total?: unknown }; kept?: { total?: unknown; parts?: Record<string, unknown> } }>;
  const out: NonNullable<ModelInfo['reconstruction']> = [];
  for (const r of rows) {
    if (typeof r.set !== 'string' || typeof r.images !== 'number' || typeof r.original?.total !== 'number' || typeof r.reconstructed?.total !== 'number' || typeof r.kept?.total !== 'number') return undefined;
    const kept: Record<string, number> = { total: r.kept.total };
    for (const [k, v] of Object.entries(r.kept.parts ?? {})) if (typeof v === 'number') kept[k] = v;
    out.push({ set: r.set, images: r.images, original: r.original.total, reconstructed: r.reconstructed.total, kept });
  }
  return out;
}

/** The latest sample run; an older run stops at its next step. */
let currentSample = 0;
/** Whether a sample run is in progress (for model:stop's answer). */
let sampling = false;

function checkSampleArgs(req: Extract<ViewsRequest, { type: 'model:sample' }>): Prompt {
  let prompt: Prompt;
  try {
    prompt = parsePrompt(req.prompt);
  } catch (e) {
    if (e instanceof PromptError) throw new Error(e.message);
    throw e;
  }
  if (!Number.isInteger(req.seed) || req.seed < 0 || req.seed > 2 ** 31 - 1) throw new Error(`Seed must be a whole number from 0 to ${2 ** 31 - 1}, got ${req.seed}`);
  if (!Number.isInteger(req.steps) || req.steps < 1 || req.steps > MAX_STEPS) throw new Error(`DDIM steps must be a whole number from 1 to ${MAX_STEPS}, got ${req.steps}`);
  if (!Number.isFinite(req.guidance) || req.guidance < 0 || req.guidance > 30) throw new Error(`Guidance scale must be a number from 0 to 30, got ${req.guidance}`);
  return prompt;
}

const nextTick = () => new Promise<void>((r) => setTimeout(r, 0));

async function modelSample(req: Extract<ViewsRequest, { type: 'model:sample' }>, emit: Emit): Promise<SampleResult> {
  const prompt = checkSampleArgs(req);
  const t0 = performance.now();
  const { model } = await loadBaseModel(emit);
  const runId = ++currentSample;
  sampling = true;
  let image: Float32Array;
  try {
    image = await sampleWithPreviews(model, tokenize(prompt), req, async ({ step, total, preview }) => {
      if (step < total) emit({ type: 'model:step', sampleId: req.sampleId, step, total, image: preview } as WorkerEvent);
      await nextTick(); // let the step event go out and a newer request come in
      if (runId !== currentSample) throw new Error('Sampling stopped');
    });
  } finally {
    if (runId === currentSample) sampling = false;
  }
  emit({ type: 'model:step', sampleId: req.sampleId, step: req.steps, total: req.steps, image } as WorkerEvent);

  const a = analyse(image);
  const partialMetrics = {
    alignment: alignment(prompt, image, a).score,
    aesthetic: aesthetic(image, a).score,
    trueUtility: trueUtility(prompt, image).total,
  };
  let metrics: SampleResult['metrics'] = null;
  let metricsError: string | undefined;
  let scorerNotes: SampleResult['scorerNotes'];
  try {
    const scorers = await loadScorers(emit);
    metrics = (await evaluate([prompt], [image], scorers)).perImage[0];
    scorerNotes = { pickScore: describeScorer(scorers.pickScore), hps: describeScorer(scorers.hps) };
  } catch (e) {
    metricsError = `PickScore-mini and HPS-mini are unavailable: ${e instanceof Error ? e.message : String(e)}`;
  }
  return {
    sampleId: req.sampleId,
    prompt: promptText(prompt),
    image,
    metrics,
    partialMetrics,
    metricsError,
    scorerNotes,
    ms: performance.now() - t0,
    backend: tf.getBackend(),
  };
}

/** Handles the Data and Model views' requests inside the worker. */
export async function handleViews(req: ViewsRequest, emit: (e: WorkerEvent) => void): Promise<ViewsReplyMap[keyof ViewsReplyMap]> {
  switch (req.type) {
    case 'data:summary':
      return dataSummary(req.seed, emit);
    case 'data:pairs':
      return dataPairs(req.seed, req.offset, req.limit, req.filter ?? 'all', emit);
    case 'model:load':
      return modelLoad(emit);
    case 'model:sample':
      return modelSample(req, emit);
    case 'model:stop': {
      const stopped = sampling;
      currentSample++;
      sampling = false;
      return { stopped };
    }
    default:
      throw new Error(`unknown views request ${JSON.stringify(req)}`);
  }
}
