/**
 * `npx tsx scripts/rpo-tau-probe.ts [--batches 50]`
 *
 * What Diffusion-RPO's temperature τ does on the shipped base: the prompt similarity S (cosine of the
 * frozen text encoder's mean-pooled contexts, rpoLoss.ts's promptSimilarity) over batches of 16 of the
 * page's training prompts (dataSeed 0), and for several τ the mean weight ω_ii a winner keeps on its own
 * loser (1: Diffusion-DPO; 1/B: every loser alike). Text encoder only: a few seconds.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../src/core/backend';
import { encodeText, tokensTensor } from '../src/core/model/sd';
import { promptSimilarity } from '../src/core/align/rpoLoss';
import { Rng } from '../src/core/rng';
import { tokenize } from '../src/core/world';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { getDataset, loadBaseModel, setAssetFetch } from '../src/worker/assets';

const { values } = parseArgs({ options: { batches: { type: 'string', default: '50' } } });
const nb = Number(values.batches);

async function main() {
  await initNodeBackend('wasm');
  setAssetFetch(async (url) => new Response(await readFile(path.join('public', url)), { headers: { 'content-type': 'application/octet-stream' } }));
  const { model } = await loadBaseModel(() => {});
  const { dataset } = getDataset({ seed: 0 });
  const prompts = dataset.train.slice(0, 1000).map((p) => p.prompt);
  const rng = new Rng(7);
  const B = 16;
  const taus = [1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1];
  const diag = taus.map(() => 0);
  const off: number[] = [];
  for (let b = 0; b < nb; b++) {
    const idx = rng.shuffle(Array.from({ length: prompts.length }, (_, i) => i)).slice(0, B);
    const S = tf.tidy(() => promptSimilarity(encodeText(model.text, model.config.text, tokensTensor(idx.map((i) => tokenize(prompts[i])), model.config.text.maxTokens))));
    const s = S.dataSync();
    for (let i = 0; i < B; i++) for (let j = 0; j < B; j++) if (i !== j) off.push(s[i * B + j]);
    taus.forEach((tau, k) => {
      const w = tf.tidy(() => tf.softmax(tf.div(S, tau)));
      const wd = w.dataSync();
      let d = 0;
      for (let i = 0; i < B; i++) d += wd[i * B + i] / B;
      diag[k] += d / nb;
      w.dispose();
    });
    S.dispose();
  }
  off.sort((a, b) => a - b);
  const q = (p: number) => off[Math.floor(p * (off.length - 1))].toFixed(4);
  console.log(`off-diagonal S over ${nb} batches of ${B}: min ${q(0)}, 10 % ${q(0.1)}, median ${q(0.5)}, 90 % ${q(0.9)}, max ${q(1)}`);
  console.log('| τ | mean ω_ii (own loser) |\n|---|---|');
  taus.forEach((t, k) => console.log(`| ${t} | ${diag[k].toFixed(3)} |`));
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
