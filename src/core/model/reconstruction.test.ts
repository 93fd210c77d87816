import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend';
import { BACKGROUND_RGB, IMAGE_LEN, buildDataset, parsePrompt, renderIdeal, trueUtility, type Prompt } from '../world';
import { disposeReducedSD, initReducedSD, tinySDConfig, type ReducedSD } from './sd';
import { aeRoundTrip, alignmentImageSets, meanUtility, measureReconstruction, reconstructionMarkdown, reconstructionTargets } from './reconstruction';

let m: ReducedSD;
beforeAll(async () => {
  await initNodeBackend('wasm');
  m = initReducedSD('rec', tinySDConfig(), 3);
});
afterAll(() => disposeReducedSD(m));

/** An image of only the prompt's background colour, in [-1, 1]. */
function blank(p: Prompt): Float32Array {
  const bg = BACKGROUND_RGB[p.background];
  return new Float32Array(IMAGE_LEN).map((_, i) => 2 * bg[i % 3] - 1);
}

describe('the decoder-ceiling table', () => {
  const prompts = ['a large red circle on the left, dark background', 'a small blue square at the top, light background'].map(parsePrompt);
  const ideal = prompts.map(renderIdeal);

  it('hand-computed case: ideal renders "reconstructed" as blank backgrounds keep exactly the background part', () => {
    // An ideal render scores 1 on every part. A blank background image has no foreground
    // (shape IoU 0, colour 0), no edges (sharpness 0) and a perfectly clean background (1), so its
    // utility is the background weight 0.2: kept 20 %, every part 0 % except background 100 %.
    const [row] = measureReconstruction([{ name: 'ideal', prompts, images: ideal }], () => prompts.map(blank));
    expect(row.images).toBe(2);
    expect(row.original.total).toBeCloseTo(1, 10);
    // (to float32 rounding: the blank image's pixels are float32, the ideal's background too)
    expect(row.reconstructed.total).toBeCloseTo(0.2, 6);
    expect(row.kept.total).toBeCloseTo(0.2, 6);
    expect(row.kept.parts.colour).toBe(0);
    expect(row.kept.parts.shape).toBe(0);
    expect(row.kept.parts.sharpness).toBe(0);
    expect(row.kept.parts.background).toBeCloseTo(1, 6);
    // pixel MSE by hand: mean over both images of (ideal − blank)².
    let se = 0;
    prompts.forEach((p, i) => blank(p).forEach((v, j) => (se += (v - ideal[i][j]) ** 2)));
    expect(row.mse).toBeCloseTo(se / (2 * IMAGE_LEN), 12);
    const checks = reconstructionTargets([row]);
    expect(checks).toEqual([{ what: 'ideal: reconstructed utility', value: row.reconstructed.total, target: 0.95, met: false }]);
  });

  it('an identity round trip keeps everything and meets every target', () => {
    const ds = buildDataset({ seed: 5, nTrainPairs: 6, nScorerTrain: 0, nScorerTest: 0, nHpsTrain: 0, nHpsTest: 0, nOodRaterPairs: 0, nValidation: 4 });
    const rows = measureReconstruction(alignmentImageSets(ds.train), (ims) => ims.map((x) => x.slice()));
    expect(rows.map((r) => r.set)).toEqual(['winners', 'losers', 'ideal']);
    for (const r of rows) {
      expect(r.mse).toBe(0);
      expect(r.kept.total).toBe(1);
    }
    // The winners' mean utility equals the dataset's own record of it.
    expect(rows[0].original.total).toBeCloseTo(ds.train.reduce((a, p) => a + p.uWinner, 0) / ds.train.length, 10);
    expect(reconstructionTargets(rows).every((c) => c.met)).toBe(true);
    expect(reconstructionMarkdown(rows).split('\n')).toHaveLength(5);
  });

  it('a tiny autoencoder: the table equals the per-image utilities of its own round trip, leak-free', () => {
    const n0 = tf.memory().numTensors;
    const rec = aeRoundTrip(m, ideal, 1); // chunk of 1: the chunking must not change the result
    expect(tf.memory().numTensors).toBe(n0);
    expect(aeRoundTrip(m, ideal, 2)).toEqual(rec);
    const [row] = measureReconstruction([{ name: 'ideal', prompts, images: ideal }], (ims) => aeRoundTrip(m, ims));
    const byHand = (trueUtility(prompts[0], rec[0]).total + trueUtility(prompts[1], rec[1]).total) / 2;
    expect(row.reconstructed.total).toBeCloseTo(byHand, 12);
    expect(row.kept.total).toBeCloseTo(byHand / 1, 12);
    expect(meanUtility(prompts, rec).parts.sharpness).toBeCloseTo((trueUtility(prompts[0], rec[0]).parts.sharpness + trueUtility(prompts[1], rec[1]).parts.sharpness) / 2, 12);
  });

  it('refuses mismatched counts', () => {
    expect(() => measureReconstruction([{ name: 'x', prompts, images: ideal }], () => [ideal[0]])).toThrow(/gave 1 reconstructions for 2 images/);
    expect(() => meanUtility(prompts, [])).toThrow(/2 prompts for 0 images/);
  });
});
