/**
 * Compare samples (issue 16): two models of one run — two arms, or two checkpoints of one arm, or an
 * arm against the base θ₀ — on the same evaluation prompt and the same starting noise. Pure: which
 * (arm, checkpoint) sides a run holds per-image data for, the (prompt, noise) pairs two sides have in
 * common, and the comparison in the URL (`?cmpA=<arm>@<update>&cmpB=…&cmpMode=side|flicker&cmpRate=<Hz>`)
 * with a readable message for every bad value. No tensors and no DOM: images are the worker's pixel
 * arrays, passed through.
 *
 * Image i of every evaluation of a run is evaluation prompt i from evaluation noise i (the trainer
 * samples every model from the same seeded noise), so index i is the common (prompt, noise) pair.
 */
import type { ExperimentConfig } from '../../core/config';
import type { Metrics } from '../../core/align/records';
import { fromColumns } from '../../core/eval/intervals';
import { evalKey, type RunState } from './runState';

/** One side of a comparison: an arm at a checkpoint; arm '' is the base model θ₀ (update 0). */
export interface CompareSide {
  arm: string;
  update: number;
}

/** What a run holds for one side: per-image metrics, and the images when the run kept them (live runs). */
export interface SideData {
  images: Float32Array[] | null;
  perImage: Metrics[];
}

export interface CompareOption {
  arm: string;
  label: string;
  /** Checkpoint updates with per-image data, ascending. */
  updates: number[];
}

export interface CompareItem {
  /** Evaluation image index: prompt i, noise i. */
  index: number;
  /** The prompt's text (null when the run does not list its prompts, as recorded files do not). */
  prompt: string | null;
  a: { image: Float32Array | null; metrics: Metrics };
  b: { image: Float32Array | null; metrics: Metrics };
}

export type CompareMode = 'side' | 'flicker';
/** Switches per second; at most 3, the flash threshold of WCAG 2.3.1 (Three Flashes or Below). */
export const FLICKER_RATES = [0.5, 1, 2, 3] as const;
export const DEFAULT_RATE = 1;

/** An arm at update 0 is the base model: every arm starts from θ₀. */
export function normaliseSide(side: CompareSide): CompareSide {
  return side.update === 0 ? { arm: '', update: 0 } : side;
}

export function sideLabel(side: CompareSide): string {
  const s = normaliseSide(side);
  return s.arm === '' ? 'Base θ₀ (update 0)' : `${s.arm} @ update ${s.update}`;
}

/** The per-image data a run holds for a side, or null (not evaluated there, not reached yet, or stripped). */
export function sideData(s: RunState, side: CompareSide): SideData | null {
  const { arm, update } = normaliseSide(side);
  const ev = s.evals[evalKey(arm, update)];
  if (ev && ev.perImage.length > 0) return { images: ev.images.length === ev.perImage.length ? ev.images : null, perImage: ev.perImage };
  if (arm === '') return s.base && s.base.perImage.length > 0 ? { images: s.base.images.length === s.base.perImage.length ? s.base.images : null, perImage: s.base.perImage } : null;
  const cp = (s.checkpoints[arm] ?? []).find((c) => c.update === update);
  if (!cp?.perImage) return null;
  const rows = fromColumns(cp.perImage);
  return rows.length ? { images: null, perImage: rows } : null;
}

/** Every side of the run with per-image data: the base (when it has any), then each arm's checkpoints. */
export function compareOptions(s: RunState): CompareOption[] {
  const out: CompareOption[] = [];
  if (sideData(s, { arm: '', update: 0 })) out.push({ arm: '', label: 'Base θ₀', updates: [0] });
  for (const a of s.config.arms) {
    const ups = new Set<number>();
    for (const c of s.checkpoints[a.name] ?? []) if (c.update > 0) ups.add(c.update);
    for (const key of Object.keys(s.evals)) {
      const ev = s.evals[key];
      if (ev.arm === a.name && ev.update > 0) ups.add(ev.update);
    }
    const updates = [...ups].filter((u) => sideData(s, { arm: a.name, update: u })).sort((x, y) => x - y);
    if (updates.length) out.push({ arm: a.name, label: a.name, updates });
  }
  return out;
}

/**
 * The (prompt, noise) pairs both sides hold, in index order: image i of both. When the two evaluations
 * differ in length (they should not within one run) only the shared prefix is compared.
 */
export function commonPairs(s: RunState, a: CompareSide, b: CompareSide): CompareItem[] {
  const da = sideData(s, a);
  const db = sideData(s, b);
  if (!da || !db) return [];
  const n = Math.min(da.perImage.length, db.perImage.length);
  const out: CompareItem[] = [];
  for (let i = 0; i < n; i++) {
    out.push({
      index: i,
      prompt: s.evalPrompts[i] ?? null,
      a: { image: da.images?.[i] ?? null, metrics: da.perImage[i] },
      b: { image: db.images?.[i] ?? null, metrics: db.perImage[i] },
    });
  }
  return out;
}

/** Default sides: the first two arms at the latest checkpoint both have; with one arm, the base against its latest. */
export function defaultSides(s: RunState): { a: CompareSide; b: CompareSide } | null {
  const opts = compareOptions(s).filter((o) => o.arm !== '');
  const hasBase = !!sideData(s, { arm: '', update: 0 });
  if (opts.length >= 2) {
    const common = opts[0].updates.filter((u) => opts[1].updates.includes(u));
    const u0 = common.length ? common[common.length - 1] : opts[0].updates[opts[0].updates.length - 1];
    const u1 = common.length ? u0 : opts[1].updates[opts[1].updates.length - 1];
    return { a: { arm: opts[0].arm, update: u0 }, b: { arm: opts[1].arm, update: u1 } };
  }
  if (opts.length === 1) {
    const last = opts[0].updates[opts[0].updates.length - 1];
    if (hasBase) return { a: { arm: '', update: 0 }, b: { arm: opts[0].arm, update: last } };
    if (opts[0].updates.length >= 2) return { a: { arm: opts[0].arm, update: opts[0].updates[0] }, b: { arm: opts[0].arm, update: last } };
  }
  return null;
}

/** The checkpoint updates an experiment will have: 0 (the base), every checkpointEvery-th update, and the last. */
export function experimentCheckpoints(c: Pick<ExperimentConfig, 'updates' | 'checkpointEvery'>): number[] {
  const out = [0];
  for (let u = c.checkpointEvery; u <= c.updates; u += c.checkpointEvery) out.push(u);
  if (out[out.length - 1] !== c.updates) out.push(c.updates);
  return out;
}

export const CMP_A = 'cmpA';
export const CMP_B = 'cmpB';
export const CMP_MODE = 'cmpMode';
export const CMP_RATE = 'cmpRate';

/** `base` or `<arm>@<update>` (the arm name may hold '@'; the last one splits), checked against the experiment. */
export function parseSide(text: string, config: Pick<ExperimentConfig, 'arms' | 'updates' | 'checkpointEvery'>, which: 'A' | 'B'): { side: CompareSide } | { error: string } {
  const names = config.arms.map((a) => a.name);
  const t = text.trim();
  if (t === 'base' && !names.includes('base')) return { side: { arm: '', update: 0 } };
  const at = t.lastIndexOf('@');
  if (at <= 0) return { error: `Compare side ${which} '${text}' in the URL is not 'base' or '<arm>@<update>'` };
  const arm = t.slice(0, at);
  const u = t.slice(at + 1);
  if (!names.includes(arm)) return { error: `Compare side ${which}: unknown arm '${arm}' in the URL; this experiment's arms are ${names.map((n) => `'${n}'`).join(', ')}` };
  if (!/^\d+$/.test(u)) return { error: `Compare side ${which}: checkpoint '${u}' of arm '${arm}' in the URL is not a whole number` };
  const update = Number(u);
  const cps = experimentCheckpoints(config);
  if (!cps.includes(update)) return { error: `Compare side ${which}: update ${update} is not a checkpoint of this experiment (checkpoints at ${cps.join(', ')})` };
  return { side: normaliseSide({ arm, update }) };
}

export function formatSide(side: CompareSide): string {
  const s = normaliseSide(side);
  return s.arm === '' ? 'base' : `${s.arm}@${s.update}`;
}

export interface CompareUrl {
  /** The URL asks for the comparison (either side, the mode or the rate given). */
  open: boolean;
  a: CompareSide | null;
  b: CompareSide | null;
  mode: CompareMode;
  rate: number;
  /** One line per bad value: what was wrong, and what is shown instead. */
  messages: string[];
}

export function compareFromUrl(search: string, config: Pick<ExperimentConfig, 'arms' | 'updates' | 'checkpointEvery'>): CompareUrl {
  const p = new URLSearchParams(search);
  const out: CompareUrl = { open: false, a: null, b: null, mode: 'side', rate: DEFAULT_RATE, messages: [] };
  for (const [key, which] of [[CMP_A, 'A'], [CMP_B, 'B']] as const) {
    const v = p.get(key);
    if (v === null) continue;
    out.open = true;
    const r = parseSide(v, config, which);
    if ('error' in r) out.messages.push(`${r.error}. Side ${which} shows the default instead.`);
    else if (which === 'A') out.a = r.side;
    else out.b = r.side;
  }
  const m = p.get(CMP_MODE);
  if (m !== null) {
    out.open = true;
    if (m === 'side' || m === 'flicker') out.mode = m;
    else out.messages.push(`Compare mode '${m}' in the URL is not 'side' or 'flicker'; side by side is shown.`);
  }
  const r = p.get(CMP_RATE);
  if (r !== null) {
    out.open = true;
    const n = Number(r);
    if ((FLICKER_RATES as readonly number[]).includes(n)) out.rate = n;
    else out.messages.push(`Flicker rate '${r}' in the URL is not one of ${FLICKER_RATES.join(', ')} per second; ${DEFAULT_RATE} per second is used.`);
  }
  return out;
}

/** The search string with the comparison written in (or removed with null), other parameters kept. */
export function searchWithCompare(search: string, cmp: { a: CompareSide; b: CompareSide; mode: CompareMode; rate: number } | null): string {
  const p = new URLSearchParams(search);
  for (const k of [CMP_A, CMP_B, CMP_MODE, CMP_RATE]) p.delete(k);
  if (cmp) {
    p.set(CMP_A, formatSide(cmp.a));
    p.set(CMP_B, formatSide(cmp.b));
    p.set(CMP_MODE, cmp.mode);
    if (cmp.mode === 'flicker') p.set(CMP_RATE, String(cmp.rate));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}
