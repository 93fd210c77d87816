import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend';
import { Rng } from '../rng';
import { defaultScorerConfig, disposeScorer, initScorer, describeScorer, pairAccuracy, scoreImages, type ScorerPair } from './scorer';
import { loadScorer, serializeScorer } from './scorerFile';
import { bradleyTerryLoss, trainScorer } from './scorerTraining';

/**
 * A toy preference task that needs both towers: the prompt names a colour (token 1 = red,
 * 2 = green, 3 = blue) and a side (4 = left, 5 = right); the winner is a square of that colour on
 * that side, the loser gets one of the two wrong. Pixel noise on both.
 */
function toyPairs(n: number, seed: number): ScorerPair[] {
  const rng = new Rng(seed);
  const rgb = [[1, -1, -1], [-1, 1, -1], [-1, -1, 1]];
  const draw = (colour: number, side: number) => {
    const im = new Float32Array(32 * 32 * 3).fill(-0.8);
    const x0 = side === 0 ? 3 : 19;
    for (let y = 10; y < 20; y++) for (let x = x0; x < x0 + 10; x++) for (let c = 0; c < 3; c++) im[(y * 32 + x) * 3 + c] = rgb[colour][c];
    for (let i = 0; i < im.length; i++) im[i] += 0.1 * rng.normal();
    return im;
  };
  return Array.from({ length: n }, () => {
    const colour = rng.int(3);
    const side = rng.int(2);
    const tokens = new Int32Array(8);
    tokens[0] = 1 + colour;
    tokens[1] = 4 + side;
    const wrongColour = rng.bool();
    const loser = wrongColour ? draw((colour + 1 + rng.int(2)) % 3, side) : draw(colour, 1 - side);
    return { tokens, winner: draw(colour, side), loser };
  });
}

describe('PickScore-mini dual encoder', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });

  it('Bradley–Terry loss equals softplus(s_l − s_w) computed by hand', () => {
    const loss = tf.tidy(() => bradleyTerryLoss(tf.tensor1d([2, 0]), tf.tensor1d([1, 3])).dataSync()[0]);
    const expected = (Math.log1p(Math.exp(-1)) + Math.log1p(Math.exp(3))) / 2;
    expect(loss).toBeCloseTo(expected, 5);
  });

  it('scores lie on the ±logitScale (≈100 × cosine) scale, deterministically from the seed', async () => {
    const cfg = { ...defaultScorerConfig(8, 8), channels: [4, 8, 8] };
    const pairs = toyPairs(10, 1);
    const a = initScorer('a', 'test-a', cfg, 7);
    const b = initScorer('b', 'test-b', cfg, 7);
    const sa = await scoreImages(a, pairs.map((p) => p.tokens), pairs.map((p) => p.winner), 4);
    const sb = await scoreImages(b, pairs.map((p) => p.tokens), pairs.map((p) => p.winner), 4);
    expect(Array.from(sa)).toEqual(Array.from(sb));
    for (const v of sa) expect(Math.abs(v)).toBeLessThanOrEqual(100 + 1e-3);
    disposeScorer(a);
    disposeScorer(b);
  });

  it('training is reproducible: the same seed gives the same weights (and scores)', async () => {
    const cfg = { ...defaultScorerConfig(8, 8), channels: [4, 4, 4], imageHidden: 16, textHidden: 8, embedDim: 8 };
    const train = toyPairs(64, 13);
    const run = async (prefix: string) => {
      const s = initScorer('det', prefix, cfg, 4);
      await trainScorer(s, train, { epochs: 1, batchSize: 16, lr: 3e-3, seed: 9, mirrorTokens: Int32Array.from([0, 1, 2, 3, 5, 4, 6, 7]) });
      const out = await scoreImages(s, train.map((p) => p.tokens), train.map((p) => p.loser), 32);
      disposeScorer(s);
      return Array.from(out);
    };
    expect(await run('test-det-b')).toEqual(await run('test-det-a'));
  });

  it('training on a toy task converges far above chance on held-out pairs, without leaking tensors', async () => {
    const cfg = { ...defaultScorerConfig(8, 8), channels: [4, 8, 8], imageHidden: 32, textHidden: 16, embedDim: 16 };
    const s = initScorer('toy', 'test-toy', cfg, 3);
    const train = toyPairs(192, 11);
    const test = toyPairs(96, 12);
    const before = await pairAccuracy(s, test);
    // Warm-up epoch, then the tensor count must stay flat over further epochs.
    await trainScorer(s, train, { epochs: 1, batchSize: 32, lr: 5e-3, seed: 5 });
    const n0 = tf.memory().numTensors;
    const res = await trainScorer(s, train, { epochs: 3, batchSize: 32, lr: 5e-3, seed: 6, augmentNoise: 0.05 });
    expect(tf.memory().numTensors).toBe(n0);
    const after = await pairAccuracy(s, test);
    expect(tf.memory().numTensors).toBe(n0);
    expect(res.steps).toBe(18);
    expect(Number.isFinite(res.finalLoss)).toBe(true);
    expect(after).toBeGreaterThan(0.9);
    expect(after).toBeGreaterThan(before);
    disposeScorer(s);
  });
});

describe('scorer files (safetensors + config.json)', () => {
  beforeAll(async () => {
    await initNodeBackend('wasm');
  });
  const vocab = ['<pad>', 'red', 'green', 'blue', 'left', 'right', 'a', 'b'];

  it('round-trips: a loaded scorer gives the same scores', async () => {
    const cfg = { ...defaultScorerConfig(8, 8), channels: [4, 8, 8] };
    const s = initScorer('rt', 'test-rt', cfg, 21);
    const { safetensors, config } = serializeScorer(s, vocab, { testAccuracy: 0.5 });
    const json = JSON.parse(JSON.stringify(config));
    const back = loadScorer(safetensors, json, 'test-rt-loaded', vocab);
    const pairs = toyPairs(6, 2);
    const a = await scoreImages(s, pairs.map((p) => p.tokens), pairs.map((p) => p.winner));
    const b = await scoreImages(back, pairs.map((p) => p.tokens), pairs.map((p) => p.winner));
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(json.testAccuracy).toBe(0.5);
    // The training record travels with the loaded scorer, so run metadata can name it.
    expect(back.trained).toEqual({ testAccuracy: 0.5 });
    expect(describeScorer(back)).toBe('rt (held-out 50.0%; ? training pairs, seed ?)');
    expect(describeScorer(s)).toBe('rt (untrained or unrecorded)');
    disposeScorer(s);
    disposeScorer(back);
  });

  it('init, load and dispose leave no tensors behind', () => {
    const cfg = { ...defaultScorerConfig(8, 8), channels: [4, 8, 8] };
    const n0 = tf.memory().numTensors;
    const s = initScorer('lk', 'test-lk', cfg, 23);
    const { safetensors, config } = serializeScorer(s, vocab);
    const back = loadScorer(safetensors, JSON.parse(JSON.stringify(config)), 'test-lk-loaded', vocab);
    disposeScorer(s);
    disposeScorer(back);
    expect(tf.memory().numTensors).toBe(n0);
  });

  it('rejects a mismatched file, a wrong vocabulary, a bad config or a truncated file, with a clear message and no variables left', async () => {
    const cfg = { ...defaultScorerConfig(8, 8), channels: [4, 8, 8] };
    const s = initScorer('mm', 'test-mm', cfg, 22);
    const other = initScorer('mm2', 'test-mm2', { ...cfg, channels: [4, 8, 16] }, 22);
    const good = serializeScorer(s, vocab);
    const wrongWeights = serializeScorer(other, vocab).safetensors;
    const n0 = tf.memory().numTensors;
    expect(() => loadScorer(wrongWeights, good.config, 'test-x1', vocab)).toThrow(/shape mismatch for img\/conv3\/w/);
    expect(() => loadScorer(good.safetensors, good.config, 'test-x2', [...vocab.slice(0, 7), 'purple'])).toThrow(/different vocabulary/);
    expect(() => loadScorer(good.safetensors, { ...good.config, format: 'other' }, 'test-x3', vocab)).toThrow(/config.json invalid at format/);
    expect(() => loadScorer(good.safetensors.slice(0, good.safetensors.length - 4), good.config, 'test-x4', vocab)).toThrow(/length mismatch|truncated/);
    expect(tf.memory().numTensors).toBe(n0);
    disposeScorer(s);
    disposeScorer(other);
  });
});
