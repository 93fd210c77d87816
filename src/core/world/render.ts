/**
 * The Pick-a-Shape renderer (DESIGN §2): 32×32 RGB, HWC Float32Array in [-1, 1], anti-aliased by
 * 4×4 supersampling. Coverage masks are cached by (shape, centre, radius), quantised finely, and
 * compositing touches only each object's bounding box, so thousands of pairs build in seconds.
 */
import type { Background, Colour, Position, Prompt, Shape, Size } from './prompt';
import { promptKey } from './prompt';

export const IMAGE_SIZE = 32;
export const IMAGE_LEN = IMAGE_SIZE * IMAGE_SIZE * 3;
const NPIX = IMAGE_SIZE * IMAGE_SIZE;

export type RGB = readonly [number, number, number];

/** Object colours in [0, 1] RGB. */
export const COLOUR_RGB: Record<Colour, RGB> = {
  red: [0.9, 0.12, 0.12],
  orange: [1.0, 0.55, 0.05],
  yellow: [0.95, 0.88, 0.1],
  green: [0.12, 0.72, 0.2],
  cyan: [0.1, 0.8, 0.9],
  blue: [0.15, 0.3, 0.95],
  purple: [0.6, 0.2, 0.85],
  pink: [1.0, 0.45, 0.72],
};

/** Background colours in [0, 1] RGB: near-black and near-white. */
export const BACKGROUND_RGB: Record<Background, RGB> = {
  dark: [0.06, 0.06, 0.08],
  light: [0.94, 0.94, 0.92],
};

/** Half-extent of the object in pixels. */
export const SIZE_RADIUS: Record<Size, number> = { small: 4, medium: 6.5, large: 9 };

/** Object centre in pixel coordinates (x right, y down). */
export const POSITION_CENTRE: Record<Position, readonly [number, number]> = {
  center: [16, 16],
  left: [10, 16],
  right: [22, 16],
  top: [16, 10],
  bottom: [16, 22],
};

/** Is (u, v), in units of the radius around the centre, inside the shape? */
function inside(shape: Shape, u: number, v: number): boolean {
  switch (shape) {
    case 'circle':
      return u * u + v * v <= 1;
    case 'square':
      return Math.abs(u) <= 0.85 && Math.abs(v) <= 0.85;
    case 'triangle': // apex up at v = -1, base at v = 0.75
      return v <= 0.75 && v >= -1 && Math.abs(u) <= (0.95 * (v + 1)) / 1.75;
    case 'ring': {
      const r2 = u * u + v * v;
      return r2 <= 1 && r2 >= 0.55 * 0.55;
    }
    case 'cross':
      return (Math.abs(u) <= 0.3 && Math.abs(v) <= 1) || (Math.abs(v) <= 0.3 && Math.abs(u) <= 1);
    case 'diamond':
      return Math.abs(u) + Math.abs(v) <= 1;
  }
}

const SS = 4; // subsamples per axis

/** Anti-aliased coverage (0..1) of one shape, over its bounding box [x0..x1]×[y0..y1]. */
export interface Coverage {
  cov: Float32Array; // length 1024, zero outside the box
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

const coverageCache = new Map<string, Coverage>();
const MAX_CACHED = 4096; // ~16 MB; the ideal geometries (90) and common defect geometries fit
const scratchCoverage = new Float32Array(NPIX);

/**
 * Coverage of a shape by 4×4 supersampling. Centre is quantised to 1/4 px and radius to 1/8 px
 * (invisible at this sampling) so repeated geometries hit the cache; once the cache is full, new
 * geometries are computed into a scratch buffer that the next call overwrites (use it at once).
 */
export function coverage(shape: Shape, cx: number, cy: number, radius: number): Coverage {
  const qx = Math.round(cx * 4) / 4;
  const qy = Math.round(cy * 4) / 4;
  const qr = Math.max(0.5, Math.round(radius * 8) / 8);
  const key = `${shape}|${qx}|${qy}|${qr}`;
  const hit = coverageCache.get(key);
  if (hit) return hit;
  const store = coverageCache.size < MAX_CACHED;
  const cov = store ? new Float32Array(NPIX) : scratchCoverage;
  const x0 = Math.max(0, Math.floor(qx - qr - 1));
  const x1 = Math.min(IMAGE_SIZE - 1, Math.ceil(qx + qr + 1));
  const y0 = Math.max(0, Math.floor(qy - qr - 1));
  const y1 = Math.min(IMAGE_SIZE - 1, Math.ceil(qy + qr + 1));
  if (!store) cov.fill(0);
  const inv = 1 / qr;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      let n = 0;
      for (let sy = 0; sy < SS; sy++) {
        const v = (y + (sy + 0.5) / SS - qy) * inv;
        for (let sx = 0; sx < SS; sx++) {
          const u = (x + (sx + 0.5) / SS - qx) * inv;
          if (inside(shape, u, v)) n++;
        }
      }
      cov[y * IMAGE_SIZE + x] = n / (SS * SS);
    }
  }
  const c: Coverage = { cov, x0, x1, y0, y1 };
  if (store) coverageCache.set(key, c);
  return c;
}

/** One object to draw. */
export interface SceneObject {
  shape: Shape;
  rgb: RGB;
  cx: number;
  cy: number;
  radius: number;
}

/** Draw objects over a flat background, in [0, 1] RGB, into `out01` (length 3072). */
export function compose(bg: RGB, objects: readonly SceneObject[], out01: Float32Array): Float32Array {
  for (let i = 0; i < NPIX; i++) {
    out01[3 * i] = bg[0];
    out01[3 * i + 1] = bg[1];
    out01[3 * i + 2] = bg[2];
  }
  for (const o of objects) {
    const { cov, x0, x1, y0, y1 } = coverage(o.shape, o.cx, o.cy, o.radius);
    const [r, g, b] = o.rgb;
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const i = y * IMAGE_SIZE + x;
        const a = cov[i];
        if (a === 0) continue;
        const j = 3 * i;
        out01[j] += a * (r - out01[j]);
        out01[j + 1] += a * (g - out01[j + 1]);
        out01[j + 2] += a * (b - out01[j + 2]);
      }
    }
  }
  return out01;
}

/** In-place map from [0, 1] to [-1, 1], clamped. */
export function to11(img01: Float32Array): Float32Array {
  for (let i = 0; i < img01.length; i++) {
    const v = img01[i] < 0 ? 0 : img01[i] > 1 ? 1 : img01[i];
    img01[i] = 2 * v - 1;
  }
  return img01;
}

/** The object a prompt asks for. */
export function idealObject(p: Prompt): SceneObject {
  const [cx, cy] = POSITION_CENTRE[p.position];
  return { shape: p.shape, rgb: COLOUR_RGB[p.colour], cx, cy, radius: SIZE_RADIUS[p.size] };
}

const idealCache = new Map<string, Float32Array>();

/** The perfect image of a prompt (cached; a fresh copy is returned so callers may mutate it). */
export function renderIdeal(p: Prompt): Float32Array {
  const key = promptKey(p);
  let img = idealCache.get(key);
  if (!img) {
    img = to11(compose(BACKGROUND_RGB[p.background], [idealObject(p)], new Float32Array(IMAGE_LEN)));
    idealCache.set(key, img);
  }
  return img.slice();
}
