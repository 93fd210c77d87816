/** The shipped scorers in public/models (made by `npm run train-scorers`) load and behave. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initNodeBackend } from '../backend';
import { Rng } from '../rng';
import { VOCAB, allPrompts, buildDataset, renderIdeal, renderWithDefects, tokenize, type Defect, type Prompt } from '../world';
import { disposeScorer, pairAccuracy, scoreImages, type Scorer } from './scorer';
import { loadScorer } from './scorerFile';
import { raterCeiling, toScorerPairs } from './trainScorers';

const DIR = join(__dirname, '../../../public/models');
const load = (name: string) => {
  const bytes = new Uint8Array(readFileSync(join(DIR, name, 'model.safetensors')));
  const config = JSON.parse(readFileSync(join(DIR, name, 'config.json'), 'utf8'));
  return { scorer: loadScorer(bytes, config, `shipped-${name}`, VOCAB), config };
};

let shipped: Array<{ scorer: Scorer; config: Record<string, unknown> }> = [];
beforeAll(async () => {
  await initNodeBackend('wasm');
  shipped = [load('pickscore-mini'), load('hps-mini')];
});
afterAll(() => shipped.forEach((s) => disposeScorer(s.scorer)));

describe('shipped PickScore-mini and HPS-mini', () => {
  it('record their held-out accuracy, ceiling, seed and steps', () => {
    for (const { config } of shipped) {
      for (const k of ['testAccuracy', 'ceiling', 'seed', 'steps', 'trainWallSeconds']) expect(typeof config[k], k).toBe('number');
      expect(config.testAccuracy as number).toBeGreaterThan(0.7);
    }
  });

  it('PickScore-mini re-measured on its held-out pairs matches its record and is within 5 points of the raters\' ceiling (DESIGN §5)', async () => {
    const { scorer, config } = shipped[0];
    const n = config.testPairs as number;
    expect(Number.isInteger(n)).toBe(true);
    // The held-out pairs exactly as train-scorers built them: seed, held-out prompts, pool A.
    const ds = buildDataset({ seed: config.seed as number, nTrainPairs: 0, nScorerTrain: 0, nHpsTrain: 0, nOodRaterPairs: 0, nScorerTest: n, nHpsTest: 0 });
    const accuracy = await pairAccuracy(scorer, toScorerPairs(ds.scorerTest));
    const ceiling = raterCeiling(ds.scorerTest, 'A');
    expect(accuracy).toBeCloseTo(config.testAccuracy as number, 6);
    expect(ceiling).toBeCloseTo(config.ceiling as number, 10);
    expect(ceiling - accuracy).toBeLessThanOrEqual(0.05);
  });

  it('score ideal renders above defective ones, on average, for every attribute and quality defect', async () => {
    const prompts: Prompt[] = new Rng(8).shuffle(allPrompts()).slice(0, 24);
    const rng = new Rng(9);
    const defects: Array<[string, (p: Prompt) => Defect]> = [
      ['wrong colour', (p) => ({ kind: 'wrongColour', colour: p.colour === 'red' ? 'blue' : 'red' })],
      ['wrong shape', (p) => ({ kind: 'wrongShape', shape: p.shape === 'circle' ? 'cross' : 'circle' })],
      ['noise', () => ({ kind: 'noise', sigma: 0.12, seed: rng.int(1e9) })],
      ['low contrast', () => ({ kind: 'lowContrast', factor: 0.4 })],
    ];
    const tokens = prompts.map((p) => tokenize(p));
    for (const { scorer } of shipped) {
      const ideal = await scoreImages(scorer, tokens, prompts.map(renderIdeal));
      const mean = (xs: Float32Array) => xs.reduce((a, b) => a + b, 0) / xs.length;
      for (const [what, d] of defects) {
        const bad = await scoreImages(scorer, tokens, prompts.map((p) => renderWithDefects(p, [d(p)])));
        expect(mean(ideal), `${scorer.name}: ${what}`).toBeGreaterThan(mean(bad));
      }
    }
  });
});
