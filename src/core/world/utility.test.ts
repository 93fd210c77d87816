import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import {
  DEFECT_KINDS, GENERATORS, IMAGE_LEN, UTILITY_WEIGHTS, allPrompts, drawDefect, parsePrompt, renderIdeal,
  renderWithDefects, renderWithGenerator, trueUtility, type DefectKind, type UtilityParts,
} from './index';

const samplePrompts = (n: number, seed: number) => new Rng(seed).shuffle(allPrompts()).slice(0, n);

describe('renderer', () => {
  it('renders 32×32×3 in [-1, 1] with anti-aliased edges and the right background', () => {
    const p = parsePrompt('a large red circle on the left, dark background');
    const img = renderIdeal(p);
    expect(img.length).toBe(IMAGE_LEN);
    let partial = 0;
    for (let i = 0; i < img.length; i++) {
      expect(img[i]).toBeGreaterThanOrEqual(-1);
      expect(img[i]).toBeLessThanOrEqual(1);
    }
    // red channel: fully covered pixels at +0.8, edge pixels strictly between background and object
    for (let i = 0; i < 1024; i++) if (img[3 * i] > -0.85 && img[3 * i] < 0.75) partial++;
    expect(partial).toBeGreaterThan(10);
    expect(img[0]).toBeCloseTo(2 * 0.06 - 1, 5); // top-left pixel is dark background
    const centre = (16 * 32 + 10) * 3; // object centre (x=10, y=16)
    expect(img[centre]).toBeCloseTo(0.8, 5);
    expect(renderIdeal(parsePrompt('a large red circle on the left, light background'))[0]).toBeCloseTo(2 * 0.94 - 1, 5);
  });

  it('a render is deterministic from its defect list', () => {
    const p = parsePrompt('a medium cyan ring at the top, light background');
    const a = renderWithGenerator(p, 2, new Rng(5));
    const b = renderWithGenerator(p, 2, new Rng(5));
    expect(a.defects).toEqual(b.defects);
    expect(a.image).toEqual(b.image);
    expect(renderWithDefects(p, a.defects)).toEqual(a.image);
    expect(() => renderWithGenerator(p, GENERATORS.length, new Rng(1))).toThrow(/generator index/);
  });
});

describe('true utility', () => {
  it('scores the ideal render 1 and rejects images of the wrong size', () => {
    const p = parsePrompt('a small blue diamond at the bottom, dark background');
    expect(trueUtility(p, renderIdeal(p))).toEqual({ total: 1, parts: { colour: 1, shape: 1, sharpness: 1, background: 1 } });
    expect(UTILITY_WEIGHTS.shape + UTILITY_WEIGHTS.colour + UTILITY_WEIGHTS.sharpness + UTILITY_WEIGHTS.background).toBeCloseTo(1, 12);
    expect(() => trueUtility(p, new Float32Array(100))).toThrow(/3072.*length 100/);
    expect(() => trueUtility(p, Array(3072).fill(0) as unknown as Float32Array)).toThrow(/Float32Array/);
    const bad = renderIdeal(p);
    bad[5] = NaN;
    expect(() => trueUtility(p, bad)).toThrow(/value 5 is NaN \(pixel 1, channel 2\)/);
  });

  it('scores a blank image or the wrong background low', () => {
    const p = parsePrompt('a large green square in the center, dark background');
    expect(trueUtility(p, new Float32Array(IMAGE_LEN).fill(2 * 0.06 - 1)).total).toBeLessThan(0.3);
    const wrongBg = renderIdeal({ ...p, background: 'light' });
    expect(trueUtility(p, wrongBg).total).toBeLessThan(0.4);
  });

  it('the ideal render scores at least as high as every generator render (large sample)', () => {
    const rng = new Rng(11);
    let n = 0, lower = 0;
    for (const p of samplePrompts(300, 3)) {
      const ideal = trueUtility(p, renderIdeal(p)).total;
      for (let g = 0; g < GENERATORS.length; g++) {
        const { image, defects } = renderWithGenerator(p, g, rng);
        const u = trueUtility(p, image).total;
        expect(u).toBeLessThanOrEqual(ideal + 1e-9);
        n++;
        if (defects.length > 0 && u < ideal - 1e-3) lower++;
      }
    }
    expect(n).toBe(300 * GENERATORS.length);
    expect(lower).toBeGreaterThan(n / 3);
  });

  it('orders generators by quality: sharp-pro best on average', () => {
    const rng = new Rng(2);
    const mean = GENERATORS.map((_, g) => {
      let s = 0;
      for (const p of samplePrompts(150, 4)) s += trueUtility(p, renderWithGenerator(p, g, rng).image).total;
      return s / 150;
    });
    const best = mean.indexOf(Math.max(...mean));
    expect(GENERATORS[best].name).toBe('sharp-pro');
    expect(Math.max(...mean) - Math.min(...mean)).toBeGreaterThan(0.2);
  });

  // Which part each defect must lower (DESIGN §2: the parts explain the preference).
  const EXPECT: Record<DefectKind, (keyof UtilityParts)[]> = {
    hue: ['colour'],
    wrongColour: ['colour'],
    wrongShape: ['shape'],
    offset: ['shape'],
    size: ['shape'],
    blur: ['sharpness'],
    noise: ['background'],
    lowContrast: ['colour', 'background'],
    clutter: ['background'],
  };

  it.each(DEFECT_KINDS)('defect "%s" lowers the part it should, and the total', (kind) => {
    const rng = new Rng(100 + DEFECT_KINDS.indexOf(kind));
    const prompts = samplePrompts(120, 7);
    for (const part of EXPECT[kind]) {
      let lowered = 0, drop = 0;
      for (const p of prompts) {
        const defect = drawDefect(kind, p, rng.next(), rng);
        const u = trueUtility(p, renderWithDefects(p, [defect]));
        expect(u.parts[part]).toBeLessThanOrEqual(1 + 1e-9);
        expect(u.total).toBeLessThanOrEqual(1 + 1e-9);
        if (u.parts[part] < 1 - 1e-3) lowered++;
        drop += 1 - u.parts[part];
      }
      // clutter blobs may land on the object itself; every other defect always lowers its part
      const need = kind === 'clutter' ? 0.85 : 1;
      expect(lowered / prompts.length, `${kind} lowers ${part}`).toBeGreaterThanOrEqual(need);
      expect(drop / prompts.length, `${kind} mean drop of ${part}`).toBeGreaterThan(0.05);
    }
  });
});
