/**
 * Generators (DESIGN §2): stand-ins for Pick-a-Pic's SDXL-beta, Dreamlike, …  Each renders a
 * prompt with random defects at its own rates. `renderWithDefects` applies an explicit defect
 * list (tests, the Data view); `renderWithGenerator` draws the list from the generator's rates.
 */
import type { Rng } from '../rng';
import type { Prompt } from './prompt';
import { COLOURS, SHAPES } from './prompt';
import {
  BACKGROUND_RGB,
  COLOUR_RGB,
  IMAGE_LEN,
  IMAGE_SIZE,
  compose,
  idealObject,
  to11,
  type RGB,
  type SceneObject,
} from './render';

export const DEFECT_KINDS = [
  'hue', // hue drift: colour mixed towards another palette colour
  'wrongColour', // a different palette colour
  'wrongShape', // a different shape
  'offset', // position error
  'size', // size error
  'blur', // Gaussian blur
  'noise', // Gaussian pixel noise
  'lowContrast', // contrast pulled towards mid-grey
  'clutter', // small distractor blobs
] as const;
export type DefectKind = (typeof DEFECT_KINDS)[number];

/** One applied defect, with its concrete parameters (so the Data view can explain an image). */
export type Defect =
  | { kind: 'hue'; towards: (typeof COLOURS)[number]; amount: number }
  | { kind: 'wrongColour'; colour: (typeof COLOURS)[number] }
  | { kind: 'wrongShape'; shape: (typeof SHAPES)[number] }
  | { kind: 'offset'; dx: number; dy: number }
  | { kind: 'size'; scale: number }
  | { kind: 'blur'; sigma: number }
  | { kind: 'noise'; sigma: number; seed: number }
  | { kind: 'lowContrast'; factor: number }
  | { kind: 'clutter'; blobs: { cx: number; cy: number; radius: number; colour: (typeof COLOURS)[number] }[] };

export interface GeneratorSpec {
  name: string;
  description: string;
  /** Probability that each defect is applied (independently). */
  rates: Record<DefectKind, number>;
  /** 0..1: how strong the drawn defects are (magnitudes interpolate between mild and severe). */
  severity: number;
}

const r = (o: Partial<Record<DefectKind, number>>): Record<DefectKind, number> =>
  Object.fromEntries(DEFECT_KINDS.map((k) => [k, o[k] ?? 0])) as Record<DefectKind, number>;

export const GENERATORS: readonly GeneratorSpec[] = Object.freeze([
  {
    name: 'sharp-pro',
    description: 'careful and sharp; rare, mild defects',
    rates: r({ hue: 0.12, wrongColour: 0.03, wrongShape: 0.04, offset: 0.1, size: 0.1, blur: 0.06, noise: 0.06, lowContrast: 0.05, clutter: 0.06 }),
    severity: 0.3,
  },
  {
    name: 'fast-draft',
    description: 'quick sketches: blurry, misplaced and mis-sized',
    rates: r({ hue: 0.2, wrongColour: 0.05, wrongShape: 0.1, offset: 0.35, size: 0.35, blur: 0.6, noise: 0.1, lowContrast: 0.15, clutter: 0.1 }),
    severity: 0.6,
  },
  {
    name: 'noisy-cheap',
    description: 'grainy, washed-out, cluttered, sometimes the wrong colour',
    rates: r({ hue: 0.2, wrongColour: 0.15, wrongShape: 0.08, offset: 0.15, size: 0.15, blur: 0.15, noise: 0.6, lowContrast: 0.35, clutter: 0.5 }),
    severity: 0.7,
  },
  {
    name: 'drift',
    description: 'sharp but unfaithful: drifting hues, wrong shapes and colours',
    rates: r({ hue: 0.55, wrongColour: 0.2, wrongShape: 0.25, offset: 0.3, size: 0.2, blur: 0.05, noise: 0.05, lowContrast: 0.1, clutter: 0.15 }),
    severity: 0.5,
  },
]);

const lerp = (a: number, b: number, t: number) => a + (b - a) * t;

/** Draw the concrete parameters of one defect; magnitude grows with severity. */
export function drawDefect(kind: DefectKind, p: Prompt, severity: number, rng: Rng): Defect {
  const s = Math.min(1, Math.max(0, severity));
  const mag = (mild: number, severe: number) => lerp(mild, severe, s) * lerp(0.75, 1.25, rng.next());
  switch (kind) {
    case 'hue':
      return { kind, towards: rng.pick(COLOURS.filter((c) => c !== p.colour)), amount: Math.min(0.8, mag(0.3, 0.6)) };
    case 'wrongColour':
      return { kind, colour: rng.pick(COLOURS.filter((c) => c !== p.colour)) };
    case 'wrongShape':
      return { kind, shape: rng.pick(SHAPES.filter((c) => c !== p.shape)) };
    case 'offset': {
      const d = mag(2, 5);
      const a = rng.uniform(0, 2 * Math.PI);
      return { kind, dx: d * Math.cos(a), dy: d * Math.sin(a) };
    }
    case 'size': {
      const f = mag(0.3, 0.5);
      return { kind, scale: rng.bool() ? 1 + f : 1 / (1 + f) };
    }
    case 'blur':
      return { kind, sigma: mag(0.8, 1.5) };
    case 'noise':
      return { kind, sigma: mag(0.05, 0.14), seed: rng.int(2 ** 31) };
    case 'lowContrast':
      return { kind, factor: 1 - Math.min(0.8, mag(0.35, 0.6)) };
    case 'clutter': {
      const n = 1 + rng.int(s > 0.5 ? 4 : 2);
      const blobs = [];
      for (let i = 0; i < n; i++) {
        blobs.push({ cx: rng.uniform(2, 30), cy: rng.uniform(2, 30), radius: rng.uniform(1.2, 2.4), colour: rng.pick(COLOURS) });
      }
      return { kind, blobs };
    }
  }
}

// Scratch buffers: renders are synchronous, so one set is enough (no allocation per pixel).
const tmpA = new Float32Array(IMAGE_LEN);
const tmpB = new Float32Array(IMAGE_LEN);

/** Separable Gaussian blur of a [0,1] HWC image, in place (edge pixels clamp). */
function blur(img: Float32Array, sigma: number): void {
  const rad = Math.min(4, Math.ceil(2.5 * sigma));
  const k = new Float64Array(2 * rad + 1);
  let sum = 0;
  for (let i = -rad; i <= rad; i++) sum += k[i + rad] = Math.exp((-i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  const S = IMAGE_SIZE;
  const tmp = tmpB;
  for (let y = 0; y < S; y++) {
    const row = y * S;
    for (let x = 0; x < S; x++) {
      let r = 0, g = 0, b = 0;
      for (let i = -rad; i <= rad; i++) {
        const xx = x + i < 0 ? 0 : x + i >= S ? S - 1 : x + i;
        const w = k[i + rad], j = (row + xx) * 3;
        r += w * img[j]; g += w * img[j + 1]; b += w * img[j + 2];
      }
      const o = (row + x) * 3;
      tmp[o] = r; tmp[o + 1] = g; tmp[o + 2] = b;
    }
  }
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      let r = 0, g = 0, b = 0;
      for (let i = -rad; i <= rad; i++) {
        const yy = y + i < 0 ? 0 : y + i >= S ? S - 1 : y + i;
        const w = k[i + rad], j = (yy * S + x) * 3;
        r += w * tmp[j]; g += w * tmp[j + 1]; b += w * tmp[j + 2];
      }
      const o = (y * S + x) * 3;
      img[o] = r; img[o + 1] = g; img[o + 2] = b;
    }
  }
}

/** Render a prompt with an explicit list of defects. Returns a new image in [-1, 1]. */
export function renderWithDefects(p: Prompt, defects: readonly Defect[]): Float32Array {
  return renderObjectWithDefects(idealObject(p), BACKGROUND_RGB[p.background], defects);
}

/**
 * Render one object on a flat background `bg` ([0,1] RGB) with an explicit list of defects; a new
 * image in [-1, 1]. `renderWithDefects` is this for a prompt's ideal object; the time-lapse world
 * (src/core/video) calls it per frame, with the object part-way through its change.
 */
export function renderObjectWithDefects(ideal: SceneObject, bg: RGB, defects: readonly Defect[]): Float32Array {
  const obj: { -readonly [K in keyof SceneObject]: SceneObject[K] } = { ...ideal };
  let rgb: [number, number, number] = [...obj.rgb];
  const extras: SceneObject[] = [];
  for (const d of defects) {
    if (d.kind === 'wrongColour') rgb = [...COLOUR_RGB[d.colour]];
  }
  for (const d of defects) {
    switch (d.kind) {
      case 'hue': {
        const t = COLOUR_RGB[d.towards];
        rgb = [lerp(rgb[0], t[0], d.amount), lerp(rgb[1], t[1], d.amount), lerp(rgb[2], t[2], d.amount)];
        break;
      }
      case 'wrongShape':
        obj.shape = d.shape;
        break;
      case 'offset':
        obj.cx += d.dx;
        obj.cy += d.dy;
        break;
      case 'size':
        obj.radius *= d.scale;
        break;
      case 'clutter':
        for (const b of d.blobs) extras.push({ shape: 'circle', rgb: COLOUR_RGB[b.colour], cx: b.cx, cy: b.cy, radius: b.radius });
        break;
      default:
        break;
    }
  }
  obj.rgb = rgb as RGB;
  const img = compose(bg, [...extras, obj], tmpA);
  // Pixel-level defects, in a fixed order: blur, contrast, then noise.
  for (const d of defects) if (d.kind === 'blur') blur(img, d.sigma);
  for (const d of defects) {
    if (d.kind !== 'lowContrast') continue;
    const f = d.factor;
    for (let i = 0, n = img.length; i < n; i++) img[i] = 0.5 + f * (img[i] - 0.5);
  }
  for (const d of defects) {
    if (d.kind !== 'noise') continue;
    // Noise comes from its own stream, seeded by the defect, so a defect list alone reproduces the image.
    const g = new NoiseRng(d.seed);
    const sigma = d.sigma;
    for (let i = 0, n = img.length; i < n; i++) img[i] += sigma * g.normal();
  }
  return to11(img.slice());
}

/** Minimal seeded normal source for noise defects (mulberry32 + Box–Muller), independent of Rng. */
class NoiseRng {
  private s: number;
  private spare: number | null = null;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  private u(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  }
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    const r = Math.sqrt(-2 * Math.log(this.u()));
    const a = 2 * Math.PI * this.u();
    this.spare = r * Math.sin(a);
    return r * Math.cos(a);
  }
}

/** Draw a defect list from generator `generatorIndex`'s rates and render it. */
export function renderWithGenerator(
  p: Prompt,
  generatorIndex: number,
  rng: Rng,
): { image: Float32Array; defects: Defect[] } {
  const gen = GENERATORS[generatorIndex];
  if (!gen) {
    throw new Error(`renderWithGenerator: generator index ${generatorIndex} out of range 0..${GENERATORS.length - 1}`);
  }
  const defects: Defect[] = [];
  for (const kind of DEFECT_KINDS) {
    if (rng.next() < gen.rates[kind]) defects.push(drawDefect(kind, p, gen.severity, rng));
  }
  return { image: renderWithDefects(p, defects), defects };
}
