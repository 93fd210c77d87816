/**
 * The time-lapse Pick-a-Shape world (issue 17; DESIGN §9): prompts that describe one change over
 * time in the image world's vocabulary, rendered as F frames (default 8) of 32×32 RGB by the image
 * world's renderer, with generators that add temporal defects beside the per-frame ones, a true
 * utility from pixels exposed part by part, the image world's rater model, and seeded splits.
 *
 * A video is a Float32Array of F·32·32·3 values in [-1, 1], frame-major, each frame HWC as in the
 * image world ([f, y, x, c]).
 *
 * Changes (the object's start state is an image-world prompt; `to…` names the end state):
 *   grow / shrink   size small → medium → large (either way), `a small red circle grows into a large one on the left, dark background`
 *   recolour        `a medium square turns from blue to yellow in the center, dark background`
 *   move            `a small red triangle moves from left to right, dark background`
 * and, with any change, a light background may darken to the dark one (`…, light background that darkens`).
 * The ideal video interpolates the state linearly: frame f shows progress s_f = f / (F − 1).
 */
import { Rng } from '../rng';
import type { Background, Colour, Position, Prompt, Shape, Size } from '../world/prompt';
import { BACKGROUNDS, COLOURS, POSITIONS, POSITION_PHRASE, PromptError, SHAPES, SIZES, VOCAB } from '../world/prompt';
import { BACKGROUND_RGB, COLOUR_RGB, IMAGE_LEN, IMAGE_SIZE, POSITION_CENTRE, SIZE_RADIUS, compose, to11, type RGB, type SceneObject } from '../world/render';
import { DEFECT_KINDS, GENERATORS, drawDefect, renderObjectWithDefects, type Defect } from '../world/generators';
import { UTILITY_WEIGHTS, idealInfoOf, utilityPartsAgainst, weightedTotal, type IdealInfo, type UtilityParts } from '../world/utility';
import { RATER_POOLS, ratePair } from '../world/raters';
import type { RatedPair } from '../world/dataset';

export const DEFAULT_FRAMES = 8;
export const CHANGE_KINDS = ['grow', 'shrink', 'recolour', 'move'] as const;
export type ChangeKind = (typeof CHANGE_KINDS)[number];

/** A time-lapse prompt: the start state (an image-world prompt), the change, and whether the background darkens. */
export interface VideoPrompt {
  start: Prompt;
  change: ChangeKind;
  /** grow / shrink: the end size. */
  toSize?: Size;
  /** recolour: the end colour. */
  toColour?: Colour;
  /** move: the end position. */
  toPosition?: Position;
  /** The background goes from light (start.background must be 'light') to dark. */
  darkens: boolean;
}


/** The image-world prompt of the last frame of the ideal video. */
export function endPrompt(v: VideoPrompt): Prompt {
  const s = v.start;
  return {
    shape: s.shape,
    colour: v.change === 'recolour' ? v.toColour! : s.colour,
    size: v.change === 'grow' || v.change === 'shrink' ? v.toSize! : s.size,
    position: v.change === 'move' ? v.toPosition! : s.position,
    background: v.darkens ? 'dark' : s.background,
  };
}

/** Throws a PromptError unless `v` is a consistent time-lapse prompt. */
export function checkVideoPrompt(v: VideoPrompt): void {
  const s = v.start;
  if (!s || !SHAPES.includes(s.shape) || !COLOURS.includes(s.colour) || !SIZES.includes(s.size) || !POSITIONS.includes(s.position) || !BACKGROUNDS.includes(s.background)) {
    throw new PromptError(`video prompt: bad start state ${JSON.stringify(s)}`);
  }
  if (!CHANGE_KINDS.includes(v.change)) throw new PromptError(`video prompt: unknown change ${String(v.change)} (one of ${CHANGE_KINDS.join(', ')})`);
  if (v.darkens && s.background !== 'light') throw new PromptError('video prompt: only a light background can darken');
  // A colour half way between two palette colours can come within the foreground threshold of a
  // half-dark background (red → blue on mid-grey: 0.29 < 0.3), so the object would vanish from
  // its own ideal frame; a darkening background goes with a fixed colour only.
  if (v.darkens && v.change === 'recolour') throw new PromptError('video prompt: a recolouring object cannot sit on a darkening background');
  const si = SIZES.indexOf(s.size);
  if (v.change === 'grow' && !(v.toSize && SIZES.indexOf(v.toSize) > si)) throw new PromptError(`video prompt: 'grow' needs a size larger than ${s.size}, got ${String(v.toSize)}`);
  if (v.change === 'shrink' && !(v.toSize && SIZES.indexOf(v.toSize) >= 0 && SIZES.indexOf(v.toSize) < si)) throw new PromptError(`video prompt: 'shrink' needs a size smaller than ${s.size}, got ${String(v.toSize)}`);
  if (v.change === 'recolour' && !(v.toColour && COLOURS.includes(v.toColour) && v.toColour !== s.colour)) throw new PromptError(`video prompt: 'recolour' needs a colour other than ${s.colour}, got ${String(v.toColour)}`);
  if (v.change === 'move' && !(v.toPosition && POSITIONS.includes(v.toPosition) && v.toPosition !== s.position)) throw new PromptError(`video prompt: 'move' needs a position other than ${s.position}, got ${String(v.toPosition)}`);
}

/** Canonical text. */
export function videoPromptText(v: VideoPrompt): string {
  checkVideoPrompt(v);
  const s = v.start;
  const bg = v.darkens ? 'light background that darkens' : `${s.background} background`;
  switch (v.change) {
    case 'grow':
      return `a ${s.size} ${s.colour} ${s.shape} grows into a ${v.toSize} one ${POSITION_PHRASE[s.position]}, ${bg}`;
    case 'shrink':
      return `a ${s.size} ${s.colour} ${s.shape} shrinks into a ${v.toSize} one ${POSITION_PHRASE[s.position]}, ${bg}`;
    case 'recolour':
      return `a ${s.size} ${s.shape} turns from ${s.colour} to ${v.toColour} ${POSITION_PHRASE[s.position]}, ${bg}`;
    case 'move':
      return `a ${s.size} ${s.colour} ${s.shape} moves from ${s.position} to ${v.toPosition}, ${bg}`;
  }
}

/** A compact unique key. */
export function videoPromptKey(v: VideoPrompt): string {
  const s = v.start;
  return `${s.shape}|${s.colour}|${s.size}|${s.position}|${s.background}|${v.change}|${v.toSize ?? ''}|${v.toColour ?? ''}|${v.toPosition ?? ''}|${v.darkens ? 1 : 0}`;
}

/**
 * The video vocabulary: the image world's VOCAB (same ids, so the frozen text encoder's rows stay
 * valid) followed by the words only time-lapse prompts use. A text encoder for video prompts needs
 * embedding rows for the new ids (not built yet; see README.md).
 */
export const VIDEO_WORDS = ['grows', 'shrinks', 'into', 'one', 'turns', 'from', 'to', 'moves', 'that', 'darkens'] as const;
export const VIDEO_VOCAB: readonly string[] = Object.freeze([...VOCAB, ...VIDEO_WORDS]);
const VIDEO_WORD_ID = new Map(VIDEO_VOCAB.map((w, i) => [w, i]));
/** Longest text: `a medium purple diamond shrinks into a small one in the center light background that darkens` (16 words). */
export const VIDEO_MAX_TOKENS = 16;

/** Token ids of the canonical text in VIDEO_VOCAB, padded with 0 to VIDEO_MAX_TOKENS. */
export function videoTokenize(v: VideoPrompt): Int32Array {
  const ws = videoPromptText(v).replace(/,/g, ' ').split(/\s+/).filter((w) => w.length > 0);
  if (ws.length > VIDEO_MAX_TOKENS) throw new PromptError(`video prompt has ${ws.length} tokens > ${VIDEO_MAX_TOKENS}`);
  const ids = new Int32Array(VIDEO_MAX_TOKENS);
  ws.forEach((w, i) => {
    const id = VIDEO_WORD_ID.get(w);
    if (id === undefined) throw new PromptError(`videoTokenize: word "${w}" is not in VIDEO_VOCAB`);
    ids[i] = id;
  });
  return ids;
}

/** Every time-lapse prompt, in a fixed order (grow/shrink 4320, recolour 10080, move 8640: 23,040). */
export function allVideoPrompts(): VideoPrompt[] {
  const out: VideoPrompt[] = [];
  const bgs: [Background, boolean][] = [['dark', false], ['light', false], ['light', true]];
  for (const shape of SHAPES as readonly Shape[])
    for (const colour of COLOURS)
      for (const size of SIZES)
        for (const position of POSITIONS)
          for (const [background, darkens] of bgs) {
            const start: Prompt = { shape, colour, size, position, background };
            for (const toSize of SIZES) {
              const d = SIZES.indexOf(toSize) - SIZES.indexOf(size);
              if (d > 0) out.push({ start, change: 'grow', toSize, darkens });
              if (d < 0) out.push({ start, change: 'shrink', toSize, darkens });
            }
            if (!darkens) for (const toColour of COLOURS) if (toColour !== colour) out.push({ start, change: 'recolour', toColour, darkens });
            for (const toPosition of POSITIONS) if (toPosition !== position) out.push({ start, change: 'move', toPosition, darkens });
          }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Rendering

const lerp = (a: number, b: number, t: number) => a + (b - a) * t;
const lerp3 = (a: RGB, b: RGB, t: number): RGB => [lerp(a[0], b[0], t), lerp(a[1], b[1], t), lerp(a[2], b[2], t)];

/** The object and background at progress s ∈ [0, 1] of the change (s outside [0, 1] extrapolates). */
export function sceneAt(v: VideoPrompt, s: number): { obj: SceneObject; bg: RGB } {
  const a = v.start, b = endPrompt(v);
  const [ax, ay] = POSITION_CENTRE[a.position], [bx, by] = POSITION_CENTRE[b.position];
  return {
    obj: {
      shape: a.shape,
      rgb: lerp3(COLOUR_RGB[a.colour], COLOUR_RGB[b.colour], s),
      cx: lerp(ax, bx, s),
      cy: lerp(ay, by, s),
      radius: lerp(SIZE_RADIUS[a.size], SIZE_RADIUS[b.size], s),
    },
    bg: lerp3(BACKGROUND_RGB[a.background], BACKGROUND_RGB[b.background], s),
  };
}

/** The ideal progress of frame f of F: f / (F − 1). */
export function idealProgress(frames: number): number[] {
  if (!Number.isInteger(frames) || frames < 2) throw new Error(`video: frames must be an integer ≥ 2, got ${frames}`);
  return Array.from({ length: frames }, (_, f) => f / (frames - 1));
}

/** The perfect video of a prompt: F frames, each the ideal render of its scene. */
export function renderIdealVideo(v: VideoPrompt, frames = DEFAULT_FRAMES): Float32Array {
  checkVideoPrompt(v);
  const out = new Float32Array(frames * IMAGE_LEN);
  const img = new Float32Array(IMAGE_LEN);
  idealProgress(frames).forEach((s, f) => {
    const { obj, bg } = sceneAt(v, s);
    out.set(to11(compose(bg, [obj], img)), f * IMAGE_LEN);
  });
  return out;
}

/** Frame f of a video (a view, not a copy). */
export function frameOf(video: Float32Array, f: number): Float32Array {
  return video.subarray(f * IMAGE_LEN, (f + 1) * IMAGE_LEN);
}

// ---------------------------------------------------------------------------------------------
// Temporal defects and generators

export const TEMPORAL_DEFECT_KINDS = [
  'flicker', // per-frame brightness jumps
  'reversed', // the change runs backwards (end state first)
  'speed', // the change runs at the wrong speed (too slow: never completes; too fast: completes early, then freezes)
  'halfway', // the change stops part-way and the rest of the clip is frozen
  'jitter', // the object shakes: a random offset per frame
] as const;
export type TemporalDefectKind = (typeof TEMPORAL_DEFECT_KINDS)[number];

export type TemporalDefect =
  | { kind: 'flicker'; offsets: number[] } // added to every channel of frame f, [0,1] units
  | { kind: 'reversed' }
  | { kind: 'speed'; factor: number } // progress min(1, factor · s)
  | { kind: 'halfway'; stop: number } // progress min(s, stop)
  | { kind: 'jitter'; offsets: [number, number][] }; // (dx, dy) px per frame

/** The progress each frame shows, under the timing defects (reversed, speed, halfway). */
export function defectiveProgress(frames: number, defects: readonly TemporalDefect[]): number[] {
  return idealProgress(frames).map((s0) => {
    let s = s0;
    for (const d of defects) {
      if (d.kind === 'speed') s = Math.min(1, d.factor * s);
      else if (d.kind === 'halfway') s = Math.min(s, d.stop);
    }
    for (const d of defects) if (d.kind === 'reversed') s = 1 - s;
    return s;
  });
}

/** Draw one temporal defect's parameters; magnitude grows with severity (0..1). */
export function drawTemporalDefect(kind: TemporalDefectKind, frames: number, severity: number, rng: Rng): TemporalDefect {
  const sv = Math.min(1, Math.max(0, severity));
  const mag = (mild: number, severe: number) => lerp(mild, severe, sv) * lerp(0.75, 1.25, rng.next());
  switch (kind) {
    case 'flicker': {
      const a = mag(0.06, 0.16);
      // alternating sign with a random phase and random amplitude per frame: visible frame-to-frame jumps
      const phase = rng.bool() ? 1 : -1;
      return { kind, offsets: Array.from({ length: frames }, (_, f) => (f % 2 === 0 ? phase : -phase) * a * rng.uniform(0.5, 1)) };
    }
    case 'reversed':
      return { kind };
    case 'speed':
      return { kind, factor: rng.bool() ? 1 / (1 + mag(0.6, 1.2)) : 1 + mag(0.8, 1.6) };
    case 'halfway':
      return { kind, stop: rng.uniform(0.3, 0.6) };
    case 'jitter': {
      const sigma = mag(0.8, 2);
      return { kind, offsets: Array.from({ length: frames }, () => [sigma * rng.normal(), sigma * rng.normal()] as [number, number]) };
    }
  }
}

/**
 * Render a video with explicit per-frame defects (the image world's, applied to every frame; a noise
 * defect draws fresh noise per frame) and temporal defects.
 */
export function renderVideoWithDefects(v: VideoPrompt, frameDefects: readonly Defect[], temporal: readonly TemporalDefect[], frames = DEFAULT_FRAMES): Float32Array {
  checkVideoPrompt(v);
  const progress = defectiveProgress(frames, temporal);
  const out = new Float32Array(frames * IMAGE_LEN);
  for (let f = 0; f < frames; f++) {
    const { obj, bg } = sceneAt(v, progress[f]);
    const o = { ...obj };
    for (const d of temporal) {
      if (d.kind === 'jitter') {
        o.cx += d.offsets[f][0];
        o.cy += d.offsets[f][1];
      }
    }
    const defs = frameDefects.map((d) => (d.kind === 'noise' ? { ...d, seed: (d.seed + 7919 * f) >>> 0 } : d));
    const img = renderObjectWithDefects(o, bg, defs);
    for (const d of temporal) {
      if (d.kind !== 'flicker') continue;
      const off = 2 * d.offsets[f]; // [0,1] units → [-1,1]
      for (let i = 0; i < IMAGE_LEN; i++) img[i] = Math.min(1, Math.max(-1, img[i] + off));
    }
    out.set(img, f * IMAGE_LEN);
  }
  return out;
}

export interface VideoGeneratorSpec {
  name: string;
  description: string;
  /** Index into the image world's GENERATORS: its per-frame defect rates and severity. */
  imageGenerator: number;
  /** Probability of each temporal defect (independently). */
  temporalRates: Record<TemporalDefectKind, number>;
  temporalSeverity: number;
}

const tr = (o: Partial<Record<TemporalDefectKind, number>>) =>
  Object.fromEntries(TEMPORAL_DEFECT_KINDS.map((k) => [k, o[k] ?? 0])) as Record<TemporalDefectKind, number>;

export const VIDEO_GENERATORS: readonly VideoGeneratorSpec[] = Object.freeze([
  { name: 'steady-pro', description: 'sharp frames, smooth and faithful motion; rare defects', imageGenerator: 0, temporalRates: tr({ flicker: 0.05, reversed: 0.03, speed: 0.08, halfway: 0.05, jitter: 0.05 }), temporalSeverity: 0.3 },
  { name: 'flickery', description: 'grainy frames that flicker and shake', imageGenerator: 2, temporalRates: tr({ flicker: 0.6, jitter: 0.4, speed: 0.1, halfway: 0.05, reversed: 0.05 }), temporalSeverity: 0.7 },
  { name: 'lazy', description: 'quick drafts whose change is too slow, too fast or stops half way', imageGenerator: 1, temporalRates: tr({ speed: 0.45, halfway: 0.4, flicker: 0.1, jitter: 0.1, reversed: 0.05 }), temporalSeverity: 0.6 },
  { name: 'confused', description: 'drifting frames, often the change backwards', imageGenerator: 3, temporalRates: tr({ reversed: 0.4, speed: 0.2, jitter: 0.2, flicker: 0.1, halfway: 0.1 }), temporalSeverity: 0.5 },
]);

export interface GeneratedVideo {
  video: Float32Array;
  frameDefects: Defect[];
  temporalDefects: TemporalDefect[];
}

/** Draw defect lists from video generator `index`'s rates and render. */
export function renderWithVideoGenerator(v: VideoPrompt, index: number, rng: Rng, frames = DEFAULT_FRAMES): GeneratedVideo {
  const gen = VIDEO_GENERATORS[index];
  if (!gen) throw new Error(`renderWithVideoGenerator: generator index ${index} out of range 0..${VIDEO_GENERATORS.length - 1}`);
  const img = GENERATORS[gen.imageGenerator];
  const frameDefects: Defect[] = [];
  // The per-frame defects are drawn against the start prompt (a wrong colour is "not the start colour").
  for (const kind of DEFECT_KINDS) if (rng.next() < img.rates[kind]) frameDefects.push(drawDefect(kind, v.start, img.severity, rng));
  const temporalDefects: TemporalDefect[] = [];
  for (const kind of TEMPORAL_DEFECT_KINDS) if (rng.next() < gen.temporalRates[kind]) temporalDefects.push(drawTemporalDefect(kind, frames, gen.temporalSeverity, rng));
  return { video: renderVideoWithDefects(v, frameDefects, temporalDefects, frames), frameDefects, temporalDefects };
}

// ---------------------------------------------------------------------------------------------
// True utility

/**
 * The true preference of a video, in [0, 1], from pixels and the prompt:
 *
 *   frame     mean over frames of the image world's utility of frame f against the ideal frame f
 *             (utilityPartsAgainst, same parts and weights); `frameParts` averages each part
 *   temporal  temporal consistency: 1 − mean_f max(0, rms(x_{f+1} − x_f) − rms(x*_{f+1} − x*_f)) / 0.1,
 *             clamped: frame-to-frame change beyond what the ideal video has (flicker, jitter,
 *             per-frame noise, a jump) costs; x* is the ideal video, values in [-1,1]
 *   follow    how well the change follows the prompt: the changing attribute (foreground area for
 *             grow/shrink, foreground centroid along the motion for move, mean foreground colour
 *             along the from→to colour axis for recolour, and, when the background darkens, the
 *             mean brightness of the pixels the ideal leaves empty) is measured in every frame,
 *             turned into a progress p_f = (a_f − a*_0)/(a*_{F−1} − a*_0) with a* measured the same
 *             way on the ideal video, and follow = 1 − mean_f min(1, |p_f − p*_f|) / 0.5, clamped,
 *             p*_f the ideal video's own measured progress (close to f/(F−1), but the measures are
 *             not exactly linear in the state: thresholded masks, a square root of the area);
 *             with a darkening background the two attributes' errors are averaged. A frame with no
 *             foreground counts as error 1.
 *   total     0.5 · frame + 0.25 · temporal + 0.25 · follow
 *
 * The ideal video scores 1 on every part.
 */
export interface VideoUtilityParts {
  frame: number;
  frameParts: UtilityParts;
  temporal: number;
  follow: number;
}
export interface VideoUtility {
  total: number;
  parts: VideoUtilityParts;
}
export interface VideoWeights {
  frame: number;
  temporal: number;
  follow: number;
}
export const VIDEO_UTILITY_WEIGHTS: Readonly<VideoWeights> = Object.freeze({ frame: 0.5, temporal: 0.25, follow: 0.25 });
const TEMPORAL_SCALE = 0.1;
const FOLLOW_SCALE = 0.5;
const FG_THRESHOLD = 0.3; // as the image world's utility
const NPIX = IMAGE_SIZE * IMAGE_SIZE;

interface IdealVideoInfo {
  video: Float32Array;
  frames: IdealInfo[];
  rmsDiff: number[]; // rms(x*_{f+1} − x*_f), f = 0..F−2
  attr: number[][]; // per attribute, per frame
}
const idealVideoCache = new Map<string, IdealVideoInfo>();
const MAX_IDEAL_CACHED = 512;

function rmsDiff(video: Float32Array, f: number): number {
  let s = 0;
  const a = f * IMAGE_LEN, b = (f + 1) * IMAGE_LEN;
  for (let i = 0; i < IMAGE_LEN; i++) {
    const d = video[b + i] - video[a + i];
    s += d * d;
  }
  return Math.sqrt(s / IMAGE_LEN);
}

/** The attributes the prompt's change moves, measured from frame pixels (NaN when there is no foreground). */
function attributes(v: VideoPrompt, frame: Float32Array, info: IdealInfo): number[] {
  const bg = info.bg;
  let n = 0, sx = 0, sy = 0, sr = 0, sg = 0, sb = 0;
  for (let i = 0; i < NPIX; i++) {
    const r = (frame[3 * i] + 1) * 0.5, g = (frame[3 * i + 1] + 1) * 0.5, b = (frame[3 * i + 2] + 1) * 0.5;
    const dr = r - bg[0], dg = g - bg[1], db = b - bg[2];
    if (dr * dr + dg * dg + db * db <= FG_THRESHOLD * FG_THRESHOLD) continue;
    n++;
    sx += i % IMAGE_SIZE;
    sy += Math.floor(i / IMAGE_SIZE);
    sr += r; sg += g; sb += b;
  }
  const out: number[] = [];
  const a = v.start, e = endPrompt(v);
  switch (v.change) {
    case 'grow':
    case 'shrink':
      out.push(n === 0 ? NaN : Math.sqrt(n));
      break;
    case 'move': {
      const [ax, ay] = POSITION_CENTRE[a.position], [bx, by] = POSITION_CENTRE[e.position];
      const ux = bx - ax, uy = by - ay, len = Math.hypot(ux, uy);
      out.push(n === 0 ? NaN : ((sx / n + 0.5) * ux + (sy / n + 0.5) * uy) / len);
      break;
    }
    case 'recolour': {
      const c0 = COLOUR_RGB[a.colour], c1 = COLOUR_RGB[e.colour];
      const u = [c1[0] - c0[0], c1[1] - c0[1], c1[2] - c0[2]];
      out.push(n === 0 ? NaN : (sr / n) * u[0] + (sg / n) * u[1] + (sb / n) * u[2]);
      break;
    }
  }
  if (v.darkens) {
    // brightness of the pixels the ideal frame leaves empty (the background)
    let s = 0, m = 0;
    for (let i = 0; i < NPIX; i++) {
      if (!info.empty[i]) continue;
      s += frame[3 * i] + frame[3 * i + 1] + frame[3 * i + 2];
      m++;
    }
    out.push(m === 0 ? NaN : s / (3 * m));
  }
  return out;
}

function idealVideoInfo(v: VideoPrompt, frames: number): IdealVideoInfo {
  const key = `${videoPromptKey(v)}#${frames}`;
  const hit = idealVideoCache.get(key);
  if (hit) return hit;
  const video = renderIdealVideo(v, frames);
  const s = idealProgress(frames);
  const infos = s.map((sf, f) => idealInfoOf(video.slice(f * IMAGE_LEN, (f + 1) * IMAGE_LEN), sceneAt(v, sf).bg));
  const perFrame = infos.map((info, f) => attributes(v, frameOf(video, f), info));
  const attr = perFrame[0].map((_, k) => perFrame.map((a) => a[k]));
  const info: IdealVideoInfo = { video, frames: infos, rmsDiff: s.slice(1).map((_, f) => rmsDiff(video, f)), attr };
  if (idealVideoCache.size < MAX_IDEAL_CACHED) idealVideoCache.set(key, info);
  return info;
}

const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);

/** The parts of the video utility (see VideoUtilityParts). */
export function videoUtilityParts(v: VideoPrompt, video: Float32Array, frames = DEFAULT_FRAMES): VideoUtilityParts {
  if (!(video instanceof Float32Array) || video.length !== frames * IMAGE_LEN) {
    throw new Error(`videoUtility: expected a Float32Array of ${frames}·${IMAGE_LEN} values (${frames} frames of 32×32×3 in [-1,1]), got length ${(video as { length?: number })?.length}`);
  }
  for (let i = 0; i < video.length; i++) if (!Number.isFinite(video[i])) throw new Error(`videoUtility: value ${i} is ${video[i]} (frame ${Math.floor(i / IMAGE_LEN)}); expected finite values`);
  const ideal = idealVideoInfo(v, frames);
  const fp: UtilityParts = { colour: 0, shape: 0, sharpness: 0, background: 0 };
  let frame = 0;
  const measured: number[][] = [];
  for (let f = 0; f < frames; f++) {
    const x = frameOf(video, f);
    const parts = utilityPartsAgainst(ideal.frames[f], x);
    fp.colour += parts.colour / frames;
    fp.shape += parts.shape / frames;
    fp.sharpness += parts.sharpness / frames;
    fp.background += parts.background / frames;
    frame += weightedTotal(parts, UTILITY_WEIGHTS) / frames;
    measured.push(attributes(v, x, ideal.frames[f]));
  }

  let excess = 0;
  for (let f = 0; f + 1 < frames; f++) excess += Math.max(0, rmsDiff(video, f) - ideal.rmsDiff[f]);
  const temporal = clamp01(1 - excess / (frames - 1) / TEMPORAL_SCALE);

  let err = 0;
  ideal.attr.forEach((a, k) => {
    const span = a[frames - 1] - a[0];
    let e = 0;
    for (let f = 0; f < frames; f++) {
      const p = (measured[f][k] - a[0]) / span;
      const pIdeal = (a[f] - a[0]) / span;
      e += Number.isFinite(p) ? Math.min(1, Math.abs(p - pIdeal)) : 1;
    }
    err += e / frames / ideal.attr.length;
  });
  const follow = clamp01(1 - err / FOLLOW_SCALE);
  return { frame, frameParts: fp, temporal, follow };
}

export function videoWeightedTotal(p: VideoUtilityParts, w: Readonly<VideoWeights>): number {
  return w.frame * p.frame + w.temporal * p.temporal + w.follow * p.follow;
}

/** The true preference of a video: total in [0, 1] and its parts. */
export function videoUtility(v: VideoPrompt, video: Float32Array, frames = DEFAULT_FRAMES): VideoUtility {
  const parts = videoUtilityParts(v, video, frames);
  return { total: videoWeightedTotal(parts, VIDEO_UTILITY_WEIGHTS), parts };
}

// ---------------------------------------------------------------------------------------------
// Raters and splits

/**
 * Video rater pools: the image world's Bradley–Terry raters (same τ and tie band as RATER_POOLS),
 * judging the video utility with their own weights. Pool A judges by the true utility; pool B cares
 * more about smooth motion than about faithful change.
 */
export const VIDEO_RATER_POOLS: Readonly<Record<'A' | 'B', { name: 'A' | 'B'; weights: Readonly<VideoWeights> }>> = Object.freeze({
  A: { name: 'A', weights: VIDEO_UTILITY_WEIGHTS },
  B: { name: 'B', weights: Object.freeze({ frame: 0.4, temporal: 0.4, follow: 0.2 }) },
});

export type VideoPair = RatedPair<VideoPrompt, VideoUtilityParts>;

/** `n` rated pairs on random picks of `prompts`, from two random video generators each; ties are dropped and redrawn. */
export function ratedVideoPairs(prompts: readonly VideoPrompt[], n: number, poolName: 'A' | 'B', rng: Rng, frames = DEFAULT_FRAMES): { pairs: VideoPair[]; ties: number } {
  const pool = RATER_POOLS[poolName], w = VIDEO_RATER_POOLS[poolName].weights;
  const pairs: VideoPair[] = [];
  let ties = 0, attempts = 0;
  if (n > 0 && prompts.length === 0) throw new Error('ratedVideoPairs: no prompts');
  while (pairs.length < n) {
    if (++attempts > 50 * n + 100) throw new Error(`ratedVideoPairs: too many ties (${ties}) to build ${n} pairs`);
    const prompt = rng.pick(prompts);
    const ga = rng.int(VIDEO_GENERATORS.length), gb = rng.int(VIDEO_GENERATORS.length);
    const a = renderWithVideoGenerator(prompt, ga, rng, frames), b = renderWithVideoGenerator(prompt, gb, rng, frames);
    const pa = videoUtilityParts(prompt, a.video, frames), pb = videoUtilityParts(prompt, b.video, frames);
    const verdict = ratePair(pool, videoWeightedTotal(pa, w), videoWeightedTotal(pb, w), rng);
    if (verdict === 'tie') {
      ties++;
      continue;
    }
    const [W, L, gw, gl, pw, pl] = verdict === 'a' ? [a, b, ga, gb, pa, pb] : [b, a, gb, ga, pb, pa];
    pairs.push({
      prompt, text: videoPromptText(prompt), winner: W.video, loser: L.video, winnerGen: gw, loserGen: gl,
      uWinner: videoWeightedTotal(pw, VIDEO_UTILITY_WEIGHTS), uLoser: videoWeightedTotal(pl, VIDEO_UTILITY_WEIGHTS),
      partsWinner: pw, partsLoser: pl, pool: poolName,
    });
  }
  return { pairs, ties };
}

export interface VideoDatasetOptions {
  seed: number;
  frames?: number;
  nTrainPairs?: number;
  /** Prompts of the tuning split (choose learning rates, β, … on these). */
  nTuning?: number;
  /** Prompts of the evaluation split (final numbers). */
  nEvaluation?: number;
}
export const DEFAULT_VIDEO_DATASET_OPTIONS: Required<Omit<VideoDatasetOptions, 'seed'>> = Object.freeze({ frames: DEFAULT_FRAMES, nTrainPairs: 256, nTuning: 64, nEvaluation: 128 });

export interface VideoDataset {
  seed: number;
  options: Required<VideoDatasetOptions>;
  train: VideoPair[];
  trainingPrompts: VideoPrompt[];
  tuning: VideoPrompt[];
  evaluation: VideoPrompt[];
  tiesDropped: number;
}

/**
 * Splits of the 23,040 time-lapse prompts, deterministic from the seed: a seeded shuffle gives
 * `evaluation`, then `tuning`, then the training prompts (the rest); the three are disjoint. The
 * `train` pairs are drawn from the training prompts only, rated by pool A. (A video is 8·12 KiB:
 * 256 pairs hold ~50 MB.)
 */
export function buildVideoDataset(options: VideoDatasetOptions): VideoDataset {
  if (!options || typeof options.seed !== 'number' || !Number.isFinite(options.seed)) throw new Error(`buildVideoDataset: seed must be a finite number, got ${String(options?.seed)}`);
  const o = { ...DEFAULT_VIDEO_DATASET_OPTIONS, ...options } as Required<VideoDatasetOptions>;
  for (const k of ['nTrainPairs', 'nTuning', 'nEvaluation'] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 0 || o[k] > 1e5) throw new Error(`buildVideoDataset: ${k} must be an integer in 0..100000, got ${String(o[k])}`);
  }
  idealProgress(o.frames);
  const root = new Rng(o.seed);
  const prompts = root.fork('prompts').shuffle(allVideoPrompts());
  const evaluation = prompts.slice(0, o.nEvaluation);
  const tuning = prompts.slice(o.nEvaluation, o.nEvaluation + o.nTuning);
  const trainingPrompts = prompts.slice(o.nEvaluation + o.nTuning);
  const train = ratedVideoPairs(trainingPrompts, o.nTrainPairs, 'A', root.fork('train'), o.frames);
  return { seed: o.seed, options: o, train: train.pairs, trainingPrompts, tuning, evaluation, tiesDropped: train.ties };
}
