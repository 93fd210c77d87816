/**
 * `npx tsx scripts/memorisation-probe.ts [--models DIR,DIR…] [--n 256] [--ts 100,300,500,700,900]`
 *
 * Has a base memorised its pretraining images? For each model, the conditional ε-MSE at fixed
 * timesteps and fixed noise on n winners and n losers of (a) the first n alignment pairs of
 * dataset seed 0 — the pairs the alignment runs train on — and (b) n pairs of a dataset seed no
 * base was pretrained on (seed 7), same generators, same prompt distribution. A model that
 * generalises has (a) ≈ (b); a large gap means SFT on (a)'s winners asks the model for images it
 * already reproduces, so it can only reweight winners against losers.
 * Prints the mean error per set and t, and the gap with a paired-by-noise 95 % t-interval over images.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../src/core/backend';
import { alignmentOnlyDataset, tokenize, type Pair } from '../src/core/world';
import { loadReducedSD } from '../src/core/model/checkpoint';
import { disposeReducedSD, encodeImages, encodeText, tokensTensor, unetForward, type ReducedSD } from '../src/core/model/sd';
import { qSample, scheduleFor } from '../src/core/diffusion/schedule';
import { Rng } from '../src/core/rng';
import { pairedDelta } from '../src/core/eval/intervals';

const { values: args } = parseArgs({ options: { models: { type: 'string', default: 'runs/base-v1,public/models/base' }, n: { type: 'string', default: '256' }, ts: { type: 'string', default: '100,300,500,700,900' } } });
const n = Number(args.n);
const ts = args.ts!.split(',').map(Number);

/** Per-image conditional ε-MSE of `images` at timestep t with the noise of Rng(seed).fork(t). */
function errors(m: ReducedSD, pairs: Pair[], which: 'winner' | 'loser', t: number): Float64Array {
  const u = m.config.unet;
  const out = new Float64Array(pairs.length);
  const chunk = 64;
  for (let s = 0; s < pairs.length; s += chunk) {
    const part = pairs.slice(s, s + chunk);
    const B = part.length;
    const e = tf.tidy(() => {
      const x = tf.tensor4d(Float32Array.from(part.flatMap((p) => Array.from(p[which]))), [B, 32, 32, 3]);
      const z0 = encodeImages(m, x);
      const eps = tf.tensor4d(new Rng(1000 + t).fork(String(s)).normals(B * u.latentSize * u.latentSize * u.latentChannels), [B, u.latentSize, u.latentSize, u.latentChannels]);
      const tt = tf.tensor1d(new Array(B).fill(t), 'int32');
      const zt = qSample(z0, tt, eps, scheduleFor(u));
      const ctx = encodeText(m.text, m.config.text, tokensTensor(part.map((p) => tokenize(p.prompt)), m.config.text.maxTokens));
      return tf.mean(tf.square(tf.sub(unetForward(m.unet, u, zt, tt, ctx), eps)), [1, 2, 3]).dataSync();
    });
    out.set(Array.from(e), s);
  }
  return out;
}

async function main(): Promise<void> {
  await initNodeBackend('wasm');
  const seen = alignmentOnlyDataset(0, n, 8).train.slice(0, n);
  const fresh = alignmentOnlyDataset(7, n, 8).train.slice(0, n);
  for (const dir of args.models!.split(',')) {
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { dataset?: { seed?: number } };
    const m = loadReducedSD(new Uint8Array(fs.readFileSync(path.join(dir, 'model.safetensors'))), cfg as Record<string, unknown>, 'mem');
    console.log(`\n## ${dir} (pretrained on dataset seed ${cfg.dataset?.seed})\n`);
    console.log(`| t | winners, seed 0 (alignment pairs) | winners, seed 7 (fresh) | gap seed 0 − seed 7 [95 %] | losers, seed 0 | losers, seed 7 |`);
    console.log('|---|---|---|---|---|---|');
    for (const t of ts) {
      const w0 = errors(m, seen, 'winner', t), w7 = errors(m, fresh, 'winner', t);
      const l0 = errors(m, seen, 'loser', t), l7 = errors(m, fresh, 'loser', t);
      const mean = (a: Float64Array) => a.reduce((x, y) => x + y, 0) / a.length;
      const g = pairedDelta(w0, w7); // paired by noise index (the same ε for image i of each set)
      console.log(`| ${t} | ${mean(w0).toFixed(4)} | ${mean(w7).toFixed(4)} | ${g.mean >= 0 ? '+' : ''}${g.mean.toFixed(4)} [${g.lo.toFixed(4)}, ${g.hi.toFixed(4)}] | ${mean(l0).toFixed(4)} | ${mean(l7).toFixed(4)} |`);
    }
    disposeReducedSD(m);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
