/**
 * Pixel analysis shared by the Alignment and Aesthetic metrics: find the background, the main
 * object and everything else in a 32×32 image, with no knowledge of the prompt.
 *
 *   1. 5-point plus-shaped median filter per channel (removes much pixel noise, keeps corners).
 *   2. Background colour = per-channel median of the 1-px border ring of the filtered image.
 *   3. Distance map d = ‖filtered − background‖ (RGB, [0,1] units).
 *   4. Object = largest 4-connected component of {d > ≈½ · (its own typical d)}: a half-maximum
 *      contour, so blur and low contrast shift the boundary little (two passes: rough, refined).
 *
 * Everything is plain JS over Float32Arrays (no tensors): a few hundred microseconds per image.
 */
import { IMAGE_LEN, IMAGE_SIZE } from '../world';

const S = IMAGE_SIZE;
const NPIX = S * S;

/** Below this distance from the background nothing counts as an object (blank images). */
const MIN_CONTRAST = 0.08;
/**
 * The mask keeps pixels beyond this fraction of the object's contrast. Just under ½, so that a pixel
 * half covered by the object (coverage 8/16 in the world's 4×4 supersampling) is in, robustly
 * against rounding — as in the templates, which keep coverage ≥ ½.
 */
const HALF = 0.47;

export interface PixelAnalysis {
  /** Median-filtered image in [0,1] units, HWC. */
  smooth: Float32Array;
  /** Background colour in [0,1]. */
  bg: [number, number, number];
  /** Distance of each smoothed pixel from the background. */
  dist: Float32Array;
  /** The main object's pixels (largest component), 0/1. */
  object: Uint8Array;
  objectArea: number;
  /** Pixels above threshold that are not the main object (clutter, stray blobs). */
  strayArea: number;
  /** Number of above-threshold components other than the main one. */
  strayComponents: number;
  /**
   * Soft object coverage in [0,1]: d / contrast on the object and the 1-px ring around it (where
   * anti-aliased edge pixels below the threshold live), 0 elsewhere.
   */
  soft: Float32Array;
  softArea: number;
  /** Coverage-weighted centroid of the soft object (pixel units, pixel centres at +½; NaN if none). */
  centroid: [number, number];
  /** Mean colour of the object's core (pixels with d ≥ the object's median d), [0,1]; null if none. */
  objectColour: [number, number, number] | null;
  /** Median distance of the object's pixels from the background (its contrast). */
  contrast: number;
  /** Threshold used for the mask. */
  threshold: number;
}

/** Checks the contract: Float32Array of 32·32·3 finite-or-not values. */
export function checkImage(image: Float32Array, what: string): void {
  if (!(image instanceof Float32Array) || image.length !== IMAGE_LEN) {
    const len = image && typeof (image as { length?: unknown }).length === 'number' ? image.length : 'no';
    throw new Error(`${what}: expected a Float32Array of ${IMAGE_LEN} values (32×32×3 HWC in [-1,1]), got length ${len}`);
  }
}

/** [-1,1] → [0,1], clamped; NaN becomes 0.5 (so broken images stay finite and score low). */
function to01(v: number): number {
  if (!(v === v)) return 0.5;
  const u = (v + 1) * 0.5;
  return u < 0 ? 0 : u > 1 ? 1 : u;
}

/** Median of a short list (sorts it in place; upper median for even lengths). */
function medianOfSmall(a: number[]): number {
  a.sort((x, y) => x - y);
  return a[a.length >> 1];
}

/**
 * 5-point "plus" median per channel (the pixel and its 4 neighbours; edges use those that exist),
 * input [-1,1] → output [0,1]. Unlike a 3×3 box median it keeps square corners and 2-px-wide
 * strokes (a cross's arms), while still removing isolated noisy pixels.
 */
export function medianFilter01(image: Float32Array): Float32Array {
  const out = new Float32Array(IMAGE_LEN);
  const win: number[] = [];
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const j = y * S + x;
      for (let c = 0; c < 3; c++) {
        win.length = 0;
        win.push(to01(image[3 * j + c]));
        if (x > 0) win.push(to01(image[3 * (j - 1) + c]));
        if (x < S - 1) win.push(to01(image[3 * (j + 1) + c]));
        if (y > 0) win.push(to01(image[3 * (j - S) + c]));
        if (y < S - 1) win.push(to01(image[3 * (j + S) + c]));
        out[3 * j + c] = medianOfSmall(win);
      }
    }
  }
  return out;
}

/** Labels the 4-connected components of `mask`; returns labels (0 = none) and component sizes (index = label). */
export function components(mask: Uint8Array): { labels: Int32Array; sizes: number[] } {
  const labels = new Int32Array(NPIX);
  const sizes = [0];
  const stack: number[] = [];
  for (let i = 0; i < NPIX; i++) {
    if (!mask[i] || labels[i]) continue;
    const lab = sizes.length;
    let n = 0;
    labels[i] = lab;
    stack.push(i);
    while (stack.length) {
      const j = stack.pop()!;
      n++;
      const x = j % S, y = (j / S) | 0;
      const nb = [x > 0 ? j - 1 : -1, x < S - 1 ? j + 1 : -1, y > 0 ? j - S : -1, y < S - 1 ? j + S : -1];
      for (const k of nb) {
        if (k >= 0 && mask[k] && !labels[k]) {
          labels[k] = lab;
          stack.push(k);
        }
      }
    }
    sizes.push(n);
  }
  return { labels, sizes };
}

function medianOf(values: number[]): number {
  if (values.length === 0) return 0;
  const a = values.slice().sort((x, y) => x - y);
  return a[a.length >> 1];
}

/** Largest component of {dist > t}, plus what lies outside it. */
function segment(dist: Float32Array, t: number) {
  const mask = new Uint8Array(NPIX);
  for (let i = 0; i < NPIX; i++) mask[i] = dist[i] > t ? 1 : 0;
  const { labels, sizes } = components(mask);
  let best = 0;
  for (let l = 1; l < sizes.length; l++) if (sizes[l] > sizes[best]) best = l;
  const object = new Uint8Array(NPIX);
  let area = 0;
  if (best > 0) for (let i = 0; i < NPIX; i++) if (labels[i] === best) (object[i] = 1), area++;
  let stray = 0;
  for (let l = 1; l < sizes.length; l++) if (l !== best) stray += sizes[l];
  return { object, area, stray, strayComponents: Math.max(0, sizes.length - 1 - (best > 0 ? 1 : 0)) };
}

export function analyse(image: Float32Array): PixelAnalysis {
  checkImage(image, 'analyse');
  const smooth = medianFilter01(image);

  // Background: per-channel median of the border ring.
  const ring: number[][] = [[], [], []];
  for (let i = 0; i < S; i++) {
    for (const [x, y] of [[i, 0], [i, S - 1], [0, i], [S - 1, i]]) {
      const j = (y * S + x) * 3;
      for (let c = 0; c < 3; c++) ring[c].push(smooth[j + c]);
    }
  }
  const bg: [number, number, number] = [medianOf(ring[0]), medianOf(ring[1]), medianOf(ring[2])];

  const dist = new Float32Array(NPIX);
  let dMax = 0;
  for (let i = 0; i < NPIX; i++) {
    const d = Math.hypot(smooth[3 * i] - bg[0], smooth[3 * i + 1] - bg[1], smooth[3 * i + 2] - bg[2]);
    dist[i] = d;
    if (d > dMax) dMax = d;
  }

  const empty = (): PixelAnalysis => ({
    smooth, bg, dist, object: new Uint8Array(NPIX), objectArea: 0, strayArea: 0, strayComponents: 0,
    soft: new Float32Array(NPIX), softArea: 0, centroid: [NaN, NaN], objectColour: null, contrast: 0, threshold: MIN_CONTRAST,
  });
  if (dMax < MIN_CONTRAST) return empty();

  // Pass 1: rough threshold at half the maximum; pass 2: half the object's median distance.
  let seg = segment(dist, Math.max(MIN_CONTRAST / 2, dMax / 2));
  const objD = (o: Uint8Array) => {
    const v: number[] = [];
    for (let i = 0; i < NPIX; i++) if (o[i]) v.push(dist[i]);
    return medianOf(v);
  };
  const threshold = Math.max(MIN_CONTRAST / 2, HALF * objD(seg.object));
  seg = segment(dist, threshold);
  if (seg.area === 0) return empty();
  const contrast = objD(seg.object);

  // Soft coverage on the object dilated by one pixel (4-neighbourhood).
  const soft = new Float32Array(NPIX);
  let softArea = 0, sx = 0, sy = 0;
  for (let i = 0; i < NPIX; i++) {
    const x = i % S, y = (i / S) | 0;
    const near =
      seg.object[i] ||
      (x > 0 && seg.object[i - 1]) || (x < S - 1 && seg.object[i + 1]) ||
      (y > 0 && seg.object[i - S]) || (y < S - 1 && seg.object[i + S]);
    if (!near) continue;
    const v = Math.min(1, dist[i] / contrast);
    soft[i] = v;
    softArea += v;
    sx += v * (x + 0.5);
    sy += v * (y + 0.5);
  }

  const col = [0, 0, 0];
  let nCore = 0;
  for (let i = 0; i < NPIX; i++) {
    if (seg.object[i] && dist[i] >= contrast) {
      for (let c = 0; c < 3; c++) col[c] += smooth[3 * i + c];
      nCore++;
    }
  }
  return {
    smooth, bg, dist,
    object: seg.object,
    objectArea: seg.area,
    strayArea: seg.stray,
    strayComponents: seg.strayComponents,
    soft,
    softArea,
    centroid: [sx / softArea, sy / softArea],
    objectColour: nCore ? [col[0] / nCore, col[1] / nCore, col[2] / nCore] : null,
    contrast,
    threshold,
  };
}
