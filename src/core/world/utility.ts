/**
 * True preference U(prompt, image) (DESIGN §2), from pixels only, so it scores the diffusion
 * model's samples too. Each part is in [0, 1]; the total is their weighted sum, on a 0..1 scale.
 *
 *   colour     1 − ‖mean colour of foreground − ideal's mean foreground colour‖ / 0.6   (clamped)
 *   shape      IoU(foreground mask, ideal render's foreground mask)
 *   sharpness  min(1, gradient energy / ideal's gradient energy)
 *   background 1 − mean ‖pixel − background‖ / 0.2 over pixels the ideal leaves empty (clamped)
 *
 * Foreground = pixels whose RGB distance (in [0,1] units) from the prompt's background colour
 * exceeds 0.3. The ideal render scores 1 on every part, hence the maximum total.
 */
import type { Prompt } from './prompt';
import { promptKey } from './prompt';
import { BACKGROUND_RGB, IMAGE_LEN, IMAGE_SIZE, renderIdeal } from './render';

export interface UtilityParts {
  colour: number;
  shape: number;
  sharpness: number;
  background: number;
}
export interface Utility {
  total: number;
  parts: UtilityParts;
}

/** Weights of the true preference (rater pool A). They sum to 1. */
export const UTILITY_WEIGHTS: Readonly<UtilityParts> = Object.freeze({
  shape: 0.35,
  colour: 0.3,
  sharpness: 0.15,
  background: 0.2,
});

const NPIX = IMAGE_SIZE * IMAGE_SIZE;
const FG_THRESHOLD = 0.3; // RGB distance from the background, [0,1] units
const COLOUR_SCALE = 0.6;
const BACKGROUND_SCALE = 0.2;

export interface IdealInfo {
  image: Float32Array; // the ideal render, [-1,1]
  bg: [number, number, number]; // its flat background, [0,1]
  mask: Uint8Array; // foreground of the ideal render
  empty: Uint8Array; // pixels the ideal render leaves exactly at the background
  meanColour: [number, number, number]; // [0,1] units
  edgeEnergy: number;
  maskCount: number;
}
const idealInfoCache = new Map<string, IdealInfo>();

/** Foreground mask of an image in [-1,1] against a background colour in [0,1]. Returns the count. */
function foreground(img: Float32Array, bg: readonly number[], out: Uint8Array): number {
  const t2 = FG_THRESHOLD * FG_THRESHOLD;
  let n = 0;
  for (let i = 0; i < NPIX; i++) {
    const dr = (img[3 * i] + 1) * 0.5 - bg[0];
    const dg = (img[3 * i + 1] + 1) * 0.5 - bg[1];
    const db = (img[3 * i + 2] + 1) * 0.5 - bg[2];
    const f = dr * dr + dg * dg + db * db > t2 ? 1 : 0;
    out[i] = f;
    n += f;
  }
  return n;
}

function meanColour(img: Float32Array, mask: Uint8Array): [number, number, number] | null {
  let r = 0, g = 0, b = 0, n = 0;
  for (let i = 0; i < NPIX; i++) {
    if (!mask[i]) continue;
    r += img[3 * i];
    g += img[3 * i + 1];
    b += img[3 * i + 2];
    n++;
  }
  if (n === 0) return null;
  return [(r / n + 1) * 0.5, (g / n + 1) * 0.5, (b / n + 1) * 0.5];
}

/** Sum of squared horizontal and vertical finite differences over all channels. */
export function edgeEnergy(img: Float32Array): number {
  let e = 0;
  const S = IMAGE_SIZE;
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      const j = (y * S + x) * 3;
      for (let c = 0; c < 3; c++) {
        const v = img[j + c];
        if (x + 1 < S) {
          const d = img[j + 3 + c] - v;
          e += d * d;
        }
        if (y + 1 < S) {
          const d = img[j + 3 * S + c] - v;
          e += d * d;
        }
      }
    }
  }
  return e;
}

function idealInfo(p: Prompt): IdealInfo {
  const key = promptKey(p);
  const hit = idealInfoCache.get(key);
  if (hit) return hit;
  const info = idealInfoOf(renderIdeal(p), BACKGROUND_RGB[p.background]);
  idealInfoCache.set(key, info);
  return info;
}

/**
 * What the utility needs to know about an ideal image on a flat background `bg` ([0,1] RGB): its
 * foreground mask, empty pixels, mean foreground colour and edge energy. The prompt version above
 * caches it per prompt; the time-lapse world (src/core/video) builds one per ideal frame, whose
 * object may sit between two prompts' sizes, colours or places.
 */
export function idealInfoOf(ideal: Float32Array, bg: readonly number[]): IdealInfo {
  const mask = new Uint8Array(NPIX);
  const maskCount = foreground(ideal, bg, mask);
  const empty = new Uint8Array(NPIX);
  for (let i = 0; i < NPIX; i++) {
    const d =
      Math.abs((ideal[3 * i] + 1) * 0.5 - bg[0]) +
      Math.abs((ideal[3 * i + 1] + 1) * 0.5 - bg[1]) +
      Math.abs((ideal[3 * i + 2] + 1) * 0.5 - bg[2]);
    empty[i] = d < 1e-5 ? 1 : 0;
  }
  const mc = meanColour(ideal, mask);
  if (!mc) throw new Error('idealInfoOf: the ideal image has no foreground pixel (no pixel is 0.3 or more from the background colour)');
  return {
    image: ideal,
    bg: [bg[0], bg[1], bg[2]],
    mask,
    empty,
    meanColour: mc,
    edgeEnergy: edgeEnergy(ideal),
    maskCount,
  };
}

const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);
const scratchMask = new Uint8Array(NPIX);

/** The parts of U; see the file comment for their definitions. */
export function utilityParts(p: Prompt, image: Float32Array): UtilityParts {
  if (!(image instanceof Float32Array) || image.length !== IMAGE_LEN) {
    const len = image && typeof (image as { length?: unknown }).length === 'number' ? image.length : 'no';
    throw new Error(
      `trueUtility: expected a Float32Array of ${IMAGE_LEN} values (32×32×3 HWC in [-1,1]), got ${
        image instanceof Float32Array ? '' : 'a non-Float32Array with '
      }length ${len}`,
    );
  }
  for (let i = 0; i < IMAGE_LEN; i++) {
    if (!Number.isFinite(image[i])) {
      throw new Error(`trueUtility: image value ${i} is ${image[i]} (pixel ${Math.floor(i / 3)}, channel ${i % 3}); expected finite values in [-1,1]`);
    }
  }
  return utilityPartsAgainst(idealInfo(p), image);
}

/** The parts of U for `image` against an ideal described by `idealInfoOf` (the prompt's, or a video frame's). */
export function utilityPartsAgainst(info: IdealInfo, image: Float32Array): UtilityParts {
  const bg = info.bg;
  const mask = scratchMask;
  foreground(image, bg, mask);

  // shape: IoU with the ideal's mask
  let inter = 0, union = 0;
  const idealMask = info.mask, empty = info.empty;
  for (let i = 0; i < NPIX; i++) {
    const a = mask[i], b = idealMask[i];
    inter += a & b;
    union += a | b;
  }
  const shape = union === 0 ? 0 : inter / union;

  // colour: mean foreground colour vs the ideal's
  const mc = meanColour(image, mask);
  let colour = 0;
  if (mc) {
    const [r, g, b] = info.meanColour;
    const d = Math.hypot(mc[0] - r, mc[1] - g, mc[2] - b);
    colour = clamp01(1 - d / COLOUR_SCALE);
  }

  // sharpness: edge energy relative to the ideal's, capped at 1
  const sharpness = clamp01(edgeEnergy(image) / info.edgeEnergy);

  // background: mean distance from the clean background (the ideal's own pixels, so the ideal
  // scores exactly 1) where the ideal is empty; [-1,1] differences halved to [0,1] units
  const ideal = info.image;
  let dist = 0, n = 0;
  for (let i = 0; i < NPIX; i++) {
    if (!empty[i]) continue;
    const dr = image[3 * i] - ideal[3 * i];
    const dg = image[3 * i + 1] - ideal[3 * i + 1];
    const db = image[3 * i + 2] - ideal[3 * i + 2];
    dist += 0.5 * Math.sqrt(dr * dr + dg * dg + db * db); // (Math.hypot is several times slower)
    n++;
  }
  const background = n === 0 ? 1 : clamp01(1 - dist / n / BACKGROUND_SCALE);

  return { colour, shape, sharpness, background };
}

/** Weighted sum of parts. */
export function weightedTotal(parts: UtilityParts, w: Readonly<UtilityParts>): number {
  return w.colour * parts.colour + w.shape * parts.shape + w.sharpness * parts.sharpness + w.background * parts.background;
}

/** The true preference U(prompt, image): total in [0, 1] and its parts. */
export function trueUtility(p: Prompt, image: Float32Array): Utility {
  const parts = utilityParts(p, image);
  return { total: weightedTotal(parts, UTILITY_WEIGHTS), parts };
}
