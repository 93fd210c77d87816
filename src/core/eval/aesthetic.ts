/**
 * Aesthetic (the LAION aesthetic-predictor role): a prompt-free quality score on a 0–10 scale,
 * from pixels. Four parts, each in [0, 1]:
 *
 *   sharpness  edge steepness around the object: Σ‖∇‖² / Σ‖∇‖ over the edge band, divided by the
 *              object's contrast (≈ 1 / edge width: blur widens edges without changing contrast)
 *   noise      1 − σ̂ / NOISE_SCALE, σ̂ a robust estimate (MAD) of the residual image − median filter
 *   clean      1 − stray area / CLUTTER_SCALE: pixels off the background that are not the object
 *   contrast   min(1, object-to-background distance / CONTRAST_SCALE) × how far the background is
 *              from mid-grey (1 for a deep dark or bright light background): washed-out images,
 *              pulled towards grey, score lower
 *
 * aesthetic = 10 · (0.3 sharpness + 0.2 noise + 0.2 clean + 0.3 contrast). A blank canvas has no
 * object, so no edges and no object contrast: it scores at most 4 (clean and noiseless only).
 * The scales are calibrated on the world's ideal renders and defect magnitudes (see eval README).
 */
import { IMAGE_SIZE } from '../world';
import { analyse, type PixelAnalysis } from './pixels';

const S = IMAGE_SIZE;

export const AESTHETIC_WEIGHTS = Object.freeze({ sharpness: 0.3, noise: 0.2, clean: 0.2, contrast: 0.3 });
/** Edge-steepness ratio of a blur-free, anti-aliased render (measured ≈ this or above → 1). */
const SHARP_HI = 0.55;
/** Ratio at which an edge counts as fully blurred (→ 0). */
const SHARP_LO = 0.2;
/** Residual σ̂ (in [0,1] units) at which the noise part reaches 0. */
const NOISE_SCALE = 0.08;
/** Stray pixels at which the clean part reaches 0. */
const CLUTTER_SCALE = 30;
/** Object-background distance ([0,1] RGB) at which contrast reaches 1 (the world's colours are ≥ 0.5 from either background). */
const CONTRAST_SCALE = 0.5;
/** Distance of the world's backgrounds from mid-grey (brightness 0.067 or 0.933): a full-contrast background. */
const BG_DEPTH = 0.43;

export interface AestheticParts {
  sharpness: number;
  noise: number;
  clean: number;
  contrast: number;
}
export interface AestheticResult {
  /** 0–10. */
  score: number;
  parts: AestheticParts;
  /** Raw measurements behind the parts (for explanations and calibration). */
  raw: { edgeRatio: number; sigma: number; strayArea: number; contrast: number };
}

const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);

/** Σ‖∇‖² / Σ‖∇‖ over pixels within 2 px of the object's boundary, on the median-filtered image. */
function edgeRatio(a: PixelAnalysis): number {
  if (a.objectArea === 0 || a.contrast <= 0) return 0;
  // Edge band: pixels whose 5×5 neighbourhood contains both object and non-object pixels.
  let g2 = 0, g1 = 0;
  for (let y = 0; y < S - 1; y++) {
    for (let x = 0; x < S - 1; x++) {
      const i = y * S + x;
      let inObj = false, outObj = false;
      for (let dy = -2; dy <= 2 && !(inObj && outObj); dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= S) continue;
        for (let dx = -2; dx <= 2; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= S) continue;
          if (a.object[yy * S + xx]) inObj = true;
          else outObj = true;
        }
      }
      if (!(inObj && outObj)) continue;
      let gx = 0, gy = 0;
      for (let c = 0; c < 3; c++) {
        const v = a.smooth[3 * i + c];
        const dx = a.smooth[3 * (i + 1) + c] - v;
        const dy = a.smooth[3 * (i + S) + c] - v;
        gx += dx * dx;
        gy += dy * dy;
      }
      const g = Math.sqrt(gx + gy);
      g2 += g * g;
      g1 += g;
    }
  }
  return g1 > 0 ? g2 / g1 / a.contrast : 0;
}

/** Robust noise level: 1.4826 · 1.4 · median |image − median-filtered image| (all channels), [0,1] units. */
function noiseSigma(image: Float32Array, a: PixelAnalysis): number {
  const r = new Float32Array(image.length);
  for (let i = 0; i < image.length; i++) {
    const v = image[i];
    const u = v === v ? Math.min(1, Math.max(0, (v + 1) / 2)) : 0.5;
    r[i] = Math.abs(u - a.smooth[i]);
  }
  r.sort();
  // Against a 5-point median the residual MAD underestimates σ; the factor 1.4 (measured on the
  // world's noise defect) recovers σ for mild noise. Strong noise is still underestimated, since
  // pixels clip at the ends of [-1, 1] (measured: σ 0.03 → 0.029, 0.06 → 0.054, 0.1 → 0.073).
  return 1.4826 * 1.4 * r[r.length >> 1];
}

export function aesthetic(image: Float32Array, analysis?: PixelAnalysis): AestheticResult {
  const a = analysis ?? analyse(image);
  const ratio = edgeRatio(a);
  const sigma = noiseSigma(image, a);
  const parts: AestheticParts = {
    sharpness: clamp01((ratio - SHARP_LO) / (SHARP_HI - SHARP_LO)),
    noise: clamp01(1 - sigma / NOISE_SCALE),
    clean: clamp01(1 - a.strayArea / CLUTTER_SCALE),
    contrast: clamp01(a.contrast / CONTRAST_SCALE) * clamp01(Math.abs((a.bg[0] + a.bg[1] + a.bg[2]) / 3 - 0.5) / BG_DEPTH),
  };
  const w = AESTHETIC_WEIGHTS;
  const score = 10 * (w.sharpness * parts.sharpness + w.noise * parts.noise + w.clean * parts.clean + w.contrast * parts.contrast);
  return { score, parts, raw: { edgeRatio: ratio, sigma, strayArea: a.strayArea, contrast: a.contrast } };
}

