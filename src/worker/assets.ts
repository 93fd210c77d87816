/**
 * The worker's shared assets: the pretrained base model, the two learned scorers and the
 * Pick-a-Shape dataset. Each is loaded once and cached; later calls return the same objects.
 * Downloads report progress as `{ type: 'progress', stage, done, total }` events (bytes).
 * A failed load is not cached, so calling again retries it.
 *
 * Errors name the file and the problem: a missing file (HTTP 404, or the HTML page a dev server
 * answers for unknown paths), a network failure, or a corrupt file (the model engineer's
 * checkpoint loader and the scorer loader explain which tensor or byte is wrong).
 *
 * Runs in the worker (and in Node for tests, through `setAssetFetch`); no DOM, no React.
 */
import { loadReducedSD, type ModelConfigJson } from '../core/model/checkpoint';
import { disposeReducedSD, paramCounts, type ReducedSD } from '../core/model/sd';
import { VOCAB, buildDataset, type Dataset, type DatasetOptions } from '../core/world';
import { disposeScorer, type Scorer } from '../core/eval/scorer';
import { loadScorer } from '../core/eval/scorerFile';
import type { Scorers } from '../core/eval/evaluate';
import { fileIdentity } from '../core/eval/baseEvalCache';
import type { WorkerEvent } from './protocol';

export type { Scorers };
export type Emit = (e: WorkerEvent) => void;

/** URLs of the shipped weights (served from `public/`). */
export const ASSET_URLS = {
  baseConfig: '/models/base/config.json',
  baseWeights: '/models/base/model.safetensors',
  pickscore: '/models/pickscore-mini/',
  hps: '/models/hps-mini/',
} as const;

/** An asset could not be loaded; `message` says which file and why. */
export class AssetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssetError';
  }
}

type Fetch = (url: string) => Promise<Response>;
let fetcher: Fetch = (url) => fetch(url);
let baseUrl = '';

/** Tests (Node) route fetches elsewhere, e.g. to files on disk. */
export function setAssetFetch(f: Fetch, base = ''): void {
  fetcher = f;
  baseUrl = base;
}

/** Fetches a file as bytes, reporting download progress for `stage`. */
export async function fetchBytes(url: string, what: string, emit: Emit, stage: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetcher(baseUrl + url);
  } catch (e) {
    throw new AssetError(`${what}: could not fetch ${url} (${e instanceof Error ? e.message : String(e)})`);
  }
  if (res.status === 404) throw new AssetError(`${what} is missing: ${url} was not found (HTTP 404)`);
  if (!res.ok) throw new AssetError(`${what}: ${url} answered HTTP ${res.status} ${res.statusText}`);
  // Dev servers answer an unknown path with the app's index.html (status 200).
  if ((res.headers.get('content-type') ?? '').includes('text/html')) {
    throw new AssetError(`${what} is missing: ${url} was not found (the server answered with an HTML page)`);
  }
  const total = Number(res.headers.get('content-length')) || 0;
  emit({ type: 'progress', stage, done: 0, total, message: `downloading ${what}` });
  if (!res.body) {
    const buf = new Uint8Array(await res.arrayBuffer());
    emit({ type: 'progress', stage, done: buf.length, total: buf.length, message: `downloaded ${what}` });
    return buf;
  }
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let done = 0;
  let lastEmit = 0;
  try {
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      chunks.push(r.value);
      done += r.value.length;
      if (done - lastEmit >= 256 * 1024) {
        lastEmit = done;
        emit({ type: 'progress', stage, done, total: Math.max(total, done), message: `downloading ${what}` });
      }
    }
  } catch (e) {
    throw new AssetError(`${what}: download of ${url} failed after ${done} bytes (${e instanceof Error ? e.message : String(e)})`);
  }
  const out = new Uint8Array(done);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  emit({ type: 'progress', stage, done, total: Math.max(total, done), message: `downloaded ${what}` });
  return out;
}

/** Fetches and parses a JSON file, with the file named in every error. */
export async function fetchJson(url: string, what: string, emit: Emit, stage: string): Promise<unknown> {
  const bytes = await fetchBytes(url, what, emit, stage);
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new AssetError(`${what} is corrupt: ${url} is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** Caches one async load; a rejected load is forgotten so the next call retries. */
function once<T>(load: () => Promise<T>): { get: () => Promise<T>; peek: () => T | null; reset: () => void } {
  let p: Promise<T> | null = null;
  let value: T | null = null;
  return {
    get: () =>
      (p ??= load().then(
        (v) => (value = v),
        (e) => {
          p = null;
          throw e;
        },
      )),
    peek: () => value,
    reset: () => {
      p = null;
      value = null;
    },
  };
}

// ---- the base model ----

export interface BaseModel {
  model: ReducedSD;
  /** config.json as shipped (SD config, latent scale, training and quality records). */
  config: ModelConfigJson;
  params: { ae: number; text: number; unet: number; total: number };
  bytes: number;
  loadMs: number;
  /** The model's identity for caches: its config and weight files' length and hashes (core/eval/baseEvalCache.ts). */
  id: string;
}

let baseEmit: Emit = () => {};
const base = once<BaseModel>(async () => {
  const emit = baseEmit;
  const t0 = performance.now();
  const config = await fetchJson(ASSET_URLS.baseConfig, 'base model config (config.json)', emit, 'model');
  const bytes = await fetchBytes(ASSET_URLS.baseWeights, 'base model weights (model.safetensors)', emit, 'model');
  emit({ type: 'progress', stage: 'model', done: bytes.length, total: bytes.length, message: 'checking and loading the weights' });
  let model: ReducedSD;
  try {
    model = loadReducedSD(bytes, config, 'base');
  } catch (e) {
    throw new AssetError(`base model in /models/base/ is corrupt or does not match this app's model code: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { model, config: config as ModelConfigJson, params: paramCounts(model), bytes: bytes.length, loadMs: performance.now() - t0, id: `${fileIdentity(JSON.stringify(config))}/${fileIdentity(bytes)}` };
});

/** The pretrained base model from `public/models/base/`, loaded once (progress on stage 'model'). */
export function loadBaseModel(emit: Emit): Promise<BaseModel> {
  baseEmit = emit;
  return base.get();
}

/** The base model if it has loaded, else null (never starts a load). */
export function baseModelIfLoaded(): BaseModel | null {
  return base.peek();
}

// ---- the scorers ----

/** Reads one scorer from `<dir>config.json` + `<dir>model.safetensors` with the eval module's checked loader. */
async function loadScorerFiles(name: string, dir: string, label: string, emit: Emit): Promise<Scorer> {
  const config = await fetchJson(dir + 'config.json', `${label} config (config.json)`, emit, 'scorers');
  const bytes = await fetchBytes(dir + 'model.safetensors', `${label} weights (model.safetensors)`, emit, 'scorers');
  scorerIds[name] = `${fileIdentity(JSON.stringify(config))}/${fileIdentity(bytes)}`;
  try {
    return loadScorer(bytes, config, `assets/${name}`, VOCAB);
  } catch (e) {
    throw new AssetError(`${label} is corrupt (${dir}): ${e instanceof Error ? e.message : String(e)}`);
  }
}

let scorerEmit: Emit = () => {};
const scorers = once<Scorers>(async () => {
  const emit = scorerEmit;
  const pickScore = await loadScorerFiles('pickscore-mini', ASSET_URLS.pickscore, 'PickScore-mini', emit);
  try {
    return { pickScore, hps: await loadScorerFiles('hps-mini', ASSET_URLS.hps, 'HPS-mini', emit) };
  } catch (e) {
    disposeScorer(pickScore);
    throw e;
  }
});

const scorerIds: Record<string, string> = {};
/** The loaded scorers' identity for caches (their files' hashes), '' before they load. */
export function scorersIdentity(): string {
  return Object.keys(scorerIds).sort().map((k) => `${k}=${scorerIds[k]}`).join(';');
}

/** PickScore-mini and HPS-mini from `public/models/`, loaded once (progress on stage 'scorers'). */
export function loadScorers(emit: Emit): Promise<Scorers> {
  scorerEmit = emit;
  return scorers.get();
}

// ---- the dataset ----

// The browser's dataset size lives in a tfjs-free module, so the page can check knob limits before anything loads.
import { BROWSER_DATASET_OPTIONS } from './browser-dataset';
export { BROWSER_DATASET_OPTIONS };

const datasets = new Map<string, { dataset: Dataset; buildMs: number }>();

/** buildDataset once per options (merged over BROWSER_DATASET_OPTIONS), cached. */
export function getDataset(opts: Partial<DatasetOptions> = {}, emit?: Emit): { dataset: Dataset; buildMs: number } {
  const o = { ...BROWSER_DATASET_OPTIONS, ...opts };
  const key = JSON.stringify(Object.keys(o).sort().map((k) => [k, o[k as keyof typeof o]]));
  let hit = datasets.get(key);
  if (!hit) {
    emit?.({ type: 'progress', stage: 'dataset', done: 0, total: 1, message: 'building the Pick-a-Shape dataset' });
    const t0 = performance.now();
    const dataset = buildDataset(o);
    hit = { dataset, buildMs: performance.now() - t0 };
    datasets.set(key, hit);
    emit?.({ type: 'progress', stage: 'dataset', done: 1, total: 1, message: 'dataset ready' });
  }
  return hit;
}

/** Forget every cached asset (tests). Disposes the base model's variables. */
export function resetAssets(): void {
  const m = base.peek();
  if (m) disposeReducedSD(m.model);
  const s = scorers.peek();
  if (s) {
    disposeScorer(s.pickScore);
    disposeScorer(s.hps);
  }
  base.reset();
  scorers.reset();
  datasets.clear();
}
