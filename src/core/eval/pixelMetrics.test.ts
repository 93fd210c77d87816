import { describe, expect, it } from 'vitest';
import { Rng } from '../rng';
import { IMAGE_LEN, allPrompts, renderIdeal, renderWithDefects, trueUtility, type Defect, type Prompt } from '../world';
import { aesthetic } from './aesthetic';
import { alignment, detectAttributes } from './alignment';
import { pearson, ranks, spearman } from './stats';

const sample = (n: number, seed: number): Prompt[] => new Rng(seed).shuffle(allPrompts()).slice(0, n);

/** Images no generator makes, on which every metric must stay finite. */
function oddImages(): Record<string, Float32Array> {
  const rng = new Rng(9);
  const withNaN = renderIdeal(allPrompts()[0]);
  withNaN[5] = NaN;
  withNaN[100] = Infinity;
  return {
    black: new Float32Array(IMAGE_LEN).fill(-1),
    white: new Float32Array(IMAGE_LEN).fill(1),
    grey: new Float32Array(IMAGE_LEN),
    saturated: Float32Array.from({ length: IMAGE_LEN }, () => (rng.bool() ? 1 : -1)),
    outOfRange: Float32Array.from({ length: IMAGE_LEN }, () => rng.uniform(-5, 5)),
    uniformNoise: Float32Array.from({ length: IMAGE_LEN }, () => rng.uniform(-1, 1)),
    withNaN,
  };
}

describe('Alignment (share of the 5 attributes right, from pixels)', () => {
  it('reads every attribute of ideal renders correctly (every 3rd of the 1440 prompts: every shape, colour, size, position and background)', () => {
    for (const p of allPrompts().filter((_, i) => i % 3 === 0)) {
      const { detected } = detectAttributes(renderIdeal(p));
      expect(detected).toEqual(p);
    }
  });

  it('sees each attribute defect, and only that attribute', () => {
    const cases: Array<[string, (p: Prompt) => Defect, keyof ReturnType<typeof alignment>['correct']]> = [
      ['wrong colour', (p) => ({ kind: 'wrongColour', colour: p.colour === 'red' ? 'blue' : 'red' }), 'colour'],
      ['wrong shape', (p) => ({ kind: 'wrongShape', shape: p.shape === 'circle' ? 'cross' : 'circle' }), 'shape'],
      // 7 px sideways: nearer another named position (they are 6 px apart) than its own.
      ['misplaced', (p) => ({ kind: 'offset', dx: p.position === 'right' || p.position === 'center' ? -7 : 7, dy: 0 }), 'position'],
      ['wrong size', (p) => ({ kind: 'size', scale: p.size === 'large' ? 1 / 1.7 : 1.7 }), 'size'],
    ];
    for (const [what, defect, attr] of cases) {
      for (const p of sample(40, 1)) {
        const r = alignment(p, renderWithDefects(p, [defect(p)]));
        expect(r.correct[attr], `${what}: ${JSON.stringify(p)}`).toBe(false);
        expect(r.score, what).toBeLessThan(1);
      }
    }
  });

  it('a blank canvas gets at most the background right', () => {
    for (const p of sample(10, 2)) {
      const blank = new Float32Array(IMAGE_LEN).fill(p.background === 'dark' ? -0.9 : 0.9);
      expect(alignment(p, blank).score).toBeLessThanOrEqual(0.2);
    }
  });
});

describe('Aesthetic (prompt-free quality, 0–10)', () => {
  it('ideal renders score near 10; blur, noise, low contrast and clutter each score lower, image by image', () => {
    const rng = new Rng(3);
    const defects: Array<[string, () => Defect]> = [
      ['blur', () => ({ kind: 'blur', sigma: 1.2 })],
      ['noise', () => ({ kind: 'noise', sigma: 0.1, seed: rng.int(1e9) })],
      ['lowContrast', () => ({ kind: 'lowContrast', factor: 0.5 })],
      ['clutter', () => ({ kind: 'clutter', blobs: [{ cx: 3, cy: 3, radius: 2, colour: 'yellow' }, { cx: 28, cy: 28, radius: 2, colour: 'cyan' }] })],
    ];
    for (const p of sample(30, 4)) {
      const ideal = aesthetic(renderIdeal(p)).score;
      expect(ideal).toBeGreaterThan(9.5);
      for (const [what, d] of defects) {
        const worse = aesthetic(renderWithDefects(p, [d()])).score;
        expect(worse, `${what} on ${JSON.stringify(p)}`).toBeLessThan(ideal - 0.3);
      }
    }
  });

  it('ignores what the prompt asks: a wrong colour or shape does not change it much', () => {
    for (const p of sample(20, 5)) {
      const ideal = aesthetic(renderIdeal(p)).score;
      const wrong = aesthetic(renderWithDefects(p, [{ kind: 'wrongShape', shape: p.shape === 'ring' ? 'square' : 'ring' }])).score;
      expect(Math.abs(ideal - wrong)).toBeLessThan(0.5);
    }
  });
});

describe('pixel metrics on odd images', () => {
  it('stay finite and in range for blank, saturated, out-of-range, noise and NaN images', () => {
    const p = allPrompts()[7];
    for (const [name, im] of Object.entries(oddImages())) {
      const al = alignment(p, im).score;
      const ae = aesthetic(im).score;
      expect(Number.isFinite(al), name).toBe(true);
      expect(Number.isFinite(ae), name).toBe(true);
      expect(al).toBeGreaterThanOrEqual(0);
      expect(al).toBeLessThanOrEqual(1);
      expect(ae).toBeGreaterThanOrEqual(0);
      expect(ae).toBeLessThanOrEqual(10);
    }
  });

  it('reject images of the wrong length with a clear message', () => {
    expect(() => aesthetic(new Float32Array(10))).toThrow(/expected a Float32Array of 3072 values/);
    expect(() => alignment(allPrompts()[0], new Float32Array(3073))).toThrow(/3072/);
  });
});

describe('ideal ≥ defective on every metric that should see the defect', () => {
  it('alignment, aesthetic and true utility each rank the ideal above its defective versions on average', () => {
    const rng = new Rng(6);
    const prompts = sample(30, 7);
    const sums = { align: [0, 0], aes: [0, 0], u: [0, 0] };
    for (const p of prompts) {
      const ideal = renderIdeal(p);
      const bad = renderWithDefects(p, [
        { kind: 'wrongColour', colour: p.colour === 'green' ? 'pink' : 'green' },
        { kind: 'blur', sigma: 1 },
        { kind: 'noise', sigma: 0.08, seed: rng.int(1e9) },
      ]);
      sums.align[0] += alignment(p, ideal).score;
      sums.align[1] += alignment(p, bad).score;
      sums.aes[0] += aesthetic(ideal).score;
      sums.aes[1] += aesthetic(bad).score;
      sums.u[0] += trueUtility(p, ideal).total;
      sums.u[1] += trueUtility(p, bad).total;
    }
    for (const [k, [good, bad]] of Object.entries(sums)) expect(good, k).toBeGreaterThan(bad);
  });
});

describe('rank statistics', () => {
  it('ranks average ties; Spearman is ±1 for monotone data and handles ties', () => {
    expect(Array.from(ranks([10, 20, 20, 5]))).toEqual([2, 3.5, 3.5, 1]);
    expect(spearman([1, 2, 3, 4], [10, 100, 1000, 1e4])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // Hand-computed: ranks x = [1,2,3,4], y = [1,2.5,2.5,4] → ρ = 4.5/√(5·4.5) = 0.9487
    expect(spearman([1, 2, 3, 4], [0, 1, 1, 2])).toBeCloseTo(4.5 / Math.sqrt(5 * 4.5), 10);
    expect(Number.isNaN(pearson([1, 1, 1], [1, 2, 3]))).toBe(true);
  });
});
