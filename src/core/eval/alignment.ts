/**
 * Alignment (the ImageReward role in the paper's tables): the share of the prompt's five
 * attributes — shape, colour, size, position, background — that the image gets right, read from
 * pixels only (so it scores the diffusion model's samples as well as the generators').
 *
 *   background  the border's brightness, nearest of the two named backgrounds
 *   colour      the object's core colour, with a low-contrast wash-out undone (estimated from the
 *               background: a washed-out red is still red), nearest of the eight named colours
 *   shape/size  the (shape, radius) template, drawn with the world's own renderer at the object's
 *               centroid, with the best soft IoU (Σmin/Σmax of coverages) against the object (6 shapes × 19 radii); the
 *               size is the named size nearest to that radius
 *   position    the nearest named position to the object's centre (centroid minus the chosen
 *               template's centroid offset, so a triangle's low centroid does not count)
 *
 * No object at all (blank image) gets only the background right, at most.
 */
import {
  BACKGROUND_RGB, BACKGROUNDS, COLOUR_RGB, COLOURS, POSITION_CENTRE, POSITIONS, SHAPES, SIZE_RADIUS, SIZES,
  IMAGE_SIZE, coverage,
  type Background, type Colour, type Position, type Prompt, type Shape, type Size,
} from '../world';
import { analyse, type PixelAnalysis } from './pixels';

const S = IMAGE_SIZE;

export const ATTRIBUTES = ['shape', 'colour', 'size', 'position', 'background'] as const;
export type Attribute = (typeof ATTRIBUTES)[number];

export interface Detected {
  shape: Shape | null;
  colour: Colour | null;
  size: Size | null;
  position: Position | null;
  background: Background;
}

export interface AlignmentResult {
  /** Share of the five attributes that match the prompt, in [0, 1]. */
  score: number;
  correct: Record<Attribute, boolean>;
  detected: Detected;
  /** IoU of the best template (0 when there is no object). */
  templateIoU: number;
}

interface Template {
  shape: Shape;
  radius: number;
  /** Anti-aliased coverage of the shape centred at (16, 16) + each sub-pixel phase. */
  covs: Float32Array[]; // 4 phases: (0,0), (½,0), (0,½), (½,½)
  sums: number[];
  /** Coverage-weighted centroid of phase (0,0) minus the shape's centre. */
  offset: [number, number];
}

let templates: Template[] | null = null;
const PHASES: Array<[number, number]> = [[0, 0], [0.5, 0], [0, 0.5], [0.5, 0.5]];

/**
 * Template radii: the three named sizes plus a geometric grid (×1.12) from 2.5 to 15 px, so an
 * object drawn at a wrong scale still finds its shape, and its size is read off the best radius.
 */
function templateRadii(): number[] {
  const rs = new Set<number>(SIZES.map((z) => SIZE_RADIUS[z]));
  for (let r = 2.5; r <= 15; r *= 1.12) rs.add(Math.round(r * 8) / 8);
  return [...rs].sort((x, y) => x - y);
}

/** Coverage of every shape at every template radius, centred, from the world's renderer (built once). */
function getTemplates(): Template[] {
  if (templates) return templates;
  templates = [];
  for (const shape of SHAPES) {
    for (const radius of templateRadii()) {
      const covs = PHASES.map(([px, py]) => coverage(shape, 16 + px, 16 + py, radius).cov.slice());
      let sx = 0, sy = 0, n = 0;
      covs[0].forEach((v, i) => {
        sx += v * ((i % S) + 0.5);
        sy += v * (((i / S) | 0) + 0.5);
        n += v;
      });
      const sums = covs.map((c) => c.reduce((acc, v) => acc + v, 0));
      templates.push({ shape, radius, covs, sums, offset: n ? [sx / n - 16, sy / n - 16] : [0, 0] });
    }
  }
  return templates;
}

/**
 * Soft IoU Σmin / Σmax of the soft object `obj` (sum `objSum`) with template coverage `cov` (sum
 * `covSum`, centred at 16,16) shifted by integer (dx, dy). Template coverage shifted off the
 * canvas still counts (it is missing from the image). Uses Σmax = Σa + Σb − Σmin.
 */
function shiftedSoftIoU(obj: Float32Array, objSum: number, cov: Float32Array, covSum: number, dx: number, dy: number): number {
  let inter = 0;
  const y0 = Math.max(0, dy), y1 = Math.min(S, S + dy);
  const x0 = Math.max(0, dx), x1 = Math.min(S, S + dx);
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const a = obj[y * S + x], b = cov[(y - dy) * S + (x - dx)];
      inter += a < b ? a : b;
    }
  }
  const union = objSum + covSum - inter;
  return union <= 0 ? 0 : inter / union;
}

/** Best (shape, radius) template for the object, placed so its centroid sits on the object's. */
function matchTemplate(a: PixelAnalysis): { t: Template; iou: number; centre: [number, number] } | null {
  if (a.objectArea === 0 || a.softArea <= 0) return null;
  let best: { t: Template; iou: number; centre: [number, number] } | null = null;
  for (const t of getTemplates()) {
    // The template's own centre, split into an integer shift and a half-pixel phase.
    const cx = a.centroid[0] - t.offset[0];
    const cy = a.centroid[1] - t.offset[1];
    const hx = Math.round(2 * (cx - 16)) / 2, hy = Math.round(2 * (cy - 16)) / 2;
    const dx = Math.floor(hx), dy = Math.floor(hy);
    const phase = (hx - dx === 0.5 ? 1 : 0) + (hy - dy === 0.5 ? 2 : 0);
    const iou = shiftedSoftIoU(a.soft, a.softArea, t.covs[phase], t.sums[phase], dx, dy);
    if (!best || iou > best.iou) best = { t, iou, centre: [cx, cy] };
  }
  return best;
}

const brightness = (c: readonly number[]) => (c[0] + c[1] + c[2]) / 3;

function nearest<K extends string>(keys: readonly K[], dist: (k: K) => number): K {
  let best = keys[0];
  let bestD = Infinity;
  for (const k of keys) {
    const d = dist(k);
    if (d < bestD) (bestD = d), (best = k);
  }
  return best;
}

/** What the image shows, attribute by attribute (prompt-free). */
export function detectAttributes(image: Float32Array, analysis?: PixelAnalysis): { detected: Detected; templateIoU: number } {
  const a = analysis ?? analyse(image);
  const background = nearest(BACKGROUNDS, (b) => Math.abs(brightness(BACKGROUND_RGB[b]) - brightness(a.bg)));
  const match = matchTemplate(a);
  let colour: Colour | null = null;
  if (a.objectColour) {
    // Undo a contrast wash-out towards mid-grey, estimated from how far the background moved.
    const ideal = BACKGROUND_RGB[background];
    const f = Math.min(1.5, Math.max(0.15, (brightness(a.bg) - 0.5) / (brightness(ideal) - 0.5)));
    const c = a.objectColour.map((v) => Math.min(1, Math.max(0, 0.5 + (v - 0.5) / f)));
    colour = nearest(COLOURS, (k) => {
      const r = COLOUR_RGB[k];
      return Math.hypot(c[0] - r[0], c[1] - r[1], c[2] - r[2]);
    });
  }
  let position: Position | null = null;
  if (match) {
    const [cx, cy] = match.centre;
    position = nearest(POSITIONS, (k) => Math.hypot(cx - POSITION_CENTRE[k][0], cy - POSITION_CENTRE[k][1]));
  }
  return {
    // Size: the named size nearest to the best template's radius (in log scale).
    detected: {
      shape: match?.t.shape ?? null,
      colour,
      size: match ? nearest(SIZES, (z) => Math.abs(Math.log(match.t.radius / SIZE_RADIUS[z]))) : null,
      position,
      background,
    },
    templateIoU: match?.iou ?? 0,
  };
}

/** Alignment of an image with its prompt: share of attributes right (see the file comment). */
export function alignment(p: Prompt, image: Float32Array, analysis?: PixelAnalysis): AlignmentResult {
  const { detected, templateIoU } = detectAttributes(image, analysis);
  const correct = {
    shape: detected.shape === p.shape,
    colour: detected.colour === p.colour,
    size: detected.size === p.size,
    position: detected.position === p.position,
    background: detected.background === p.background,
  };
  const score = ATTRIBUTES.reduce((s, k) => s + (correct[k] ? 1 : 0), 0) / ATTRIBUTES.length;
  return { score, correct, detected, templateIoU };
}
