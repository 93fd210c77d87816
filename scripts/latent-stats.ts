/**
 * `npx tsx scripts/latent-stats.ts DIR`: statistics of the latents a base samples (32 validation
 * prompts, DDIM 20, guidance 1 and 5, noise seed 1234) against those of 32 encoded alignment
 * winners: mean, std, max |z| and the high-frequency std (z minus its 2×2 average), and the true
 * utility of each decoded as is and low-passed. A sampler that leaves noise in the latents shows
 * a high-frequency std above the data's (src/core/model/README.md, "Second round").
 */
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../src/core/backend';
import { buildDataset, tokenize } from '../src/core/world';
import { loadReducedSD } from '../src/core/model/checkpoint';
import { decodeLatents, encodeImages, encodeText, tokensTensor, uncondContext, unetForward } from '../src/core/model/sd';
import { meanUtility } from '../src/core/model/reconstruction';
import { ddimSample } from '../src/core/diffusion/ddim';
import { scheduleFor } from '../src/core/diffusion/schedule';
import { initialNoise } from '../src/core/diffusion/sample';
(async () => {
  await initNodeBackend('wasm');
  const dir = process.argv[2];
  const cfg = JSON.parse(fs.readFileSync(dir + '/config.json', 'utf8'));
  const m = loadReducedSD(new Uint8Array(fs.readFileSync(dir + '/model.safetensors')), cfg, 'x');
  const ds = buildDataset({ seed: 0, nScorerTrain: 0, nScorerTest: 0, nHpsTrain: 0, nHpsTest: 0, nOodRaterPairs: 0 });
  const n = 32; const pr = ds.validationUnique.slice(0, n); const u = m.config.unet; const S = u.latentSize, C = u.latentChannels;
  const read = (x: tf.Tensor4D) => { const d = tf.tidy(() => tf.clipByValue(decodeLatents(m, x), -1, 1)).dataSync() as Float32Array; return Array.from({ length: n }, (_, i) => d.slice(i * 3072, (i + 1) * 3072)); };
  const lp = (z: tf.Tensor4D) => tf.tidy(() => tf.image.resizeNearestNeighbor(tf.avgPool(z, 2, 2, 'valid'), [S, S])) as tf.Tensor4D;
  const st = (z: tf.Tensor) => tf.tidy(() => { const mo = tf.moments(z); const hp = tf.sub(z, lp(z as tf.Tensor4D)); return `mean ${mo.mean.dataSync()[0].toFixed(3)} std ${mo.variance.sqrt().dataSync()[0].toFixed(3)} max|z| ${tf.max(tf.abs(z)).dataSync()[0].toFixed(2)} high-freq std ${tf.moments(hp).variance.sqrt().dataSync()[0].toFixed(3)}`; });
  const ctx = encodeText(m.text, m.config.text, tokensTensor(pr.map((p) => tokenize(p)), m.config.text.maxTokens));
  const unc = uncondContext(m.text, m.config.text, 1);
  for (const w of [1, 5]) {
    const z = ddimSample({ eps: (a, t, c) => unetForward(m.unet, u, a, t, c), ctx, uncondCtx: unc, noise: tf.tensor4d(initialNoise(1234, n, S * S * C), [n, S, S, C]), steps: 20, guidance: w, schedule: scheduleFor(u) });
    console.log(`w=${w} sampled: ${st(z)}; utility ${meanUtility(pr, read(z)).total.toFixed(3)}, low-passed ${meanUtility(pr, read(lp(z))).total.toFixed(3)}`);
  }
  // true latents of winners of those prompts: use train pairs
  const pairs = ds.train.slice(0, n);
  const zt = encodeImages(m, tf.tensor4d(Float32Array.from(pairs.flatMap((p) => Array.from(p.winner))), [n, 32, 32, 3]));
  const prw = pairs.map((p) => p.prompt);
  const read2 = (x: tf.Tensor4D) => { const d = tf.tidy(() => tf.clipByValue(decodeLatents(m, x), -1, 1)).dataSync() as Float32Array; return Array.from({ length: n }, (_, i) => d.slice(i * 3072, (i + 1) * 3072)); };
  console.log(`true winners: ${st(zt)}; utility ${meanUtility(prw, read2(zt)).total.toFixed(3)}, low-passed ${meanUtility(prw, read2(lp(zt))).total.toFixed(3)}`);
})();
