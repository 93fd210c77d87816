/**
 * `npx tsx scripts/denoise-probe.ts --models DIR[,DIR…] [--n 64] [--data-seed 0]`
 *
 * Where does a base's sampler lose quality? For n alignment winners (encoded by each model's own
 * autoencoder), at several timesteps t: noise the latent with q(z_t | z_0), predict x̂_0 from one
 * UNet call (conditional, and guided at w = 5), decode, and measure the true utility and the
 * latent error; then run guided DDIM from z_t down to 0 (SDEdit) and measure again.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../src/core/backend';
import { buildDataset, tokenize } from '../src/core/world';
import { loadReducedSD } from '../src/core/model/checkpoint';
import { decodeLatents, disposeReducedSD, encodeImages, encodeText, tokensTensor, uncondContext, unetForward } from '../src/core/model/sd';
import { meanUtility } from '../src/core/model/reconstruction';
import { guidedEps, ddimStep } from '../src/core/diffusion/ddim';
import { makeSchedule } from '../src/core/diffusion/schedule';
import { Rng } from '../src/core/rng';

const { values: args } = parseArgs({ options: { models: { type: 'string' }, n: { type: 'string', default: '64' }, 'data-seed': { type: 'string', default: '0' }, ts: { type: 'string', default: '50,200,400,600,800,950' } } });

async function main(): Promise<void> {
  await initNodeBackend('wasm');
  const ds = buildDataset({ seed: Number(args['data-seed']), nScorerTrain: 0, nScorerTest: 0, nHpsTrain: 0, nHpsTest: 0, nOodRaterPairs: 0 });
  const n = Number(args.n);
  const pairs = ds.train.slice(0, n);
  const prompts = pairs.map((p) => p.prompt);
  const sched = makeSchedule();
  const read = (x: tf.Tensor4D): Float32Array[] => { const d = x.dataSync() as Float32Array; const per = d.length / n; return Array.from({ length: n }, (_, i) => d.slice(i * per, (i + 1) * per)); };
  for (const dir of args.models!.split(',')) {
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    const m = loadReducedSD(new Uint8Array(fs.readFileSync(path.join(dir, 'model.safetensors'))), cfg, 'probe');
    const u = m.config.unet;
    const x = tf.tensor4d(Float32Array.from(pairs.flatMap((p) => Array.from(p.winner))), [n, 32, 32, 3]);
    const z0 = encodeImages(m, x);
    const ctx = encodeText(m.text, m.config.text, tokensTensor(prompts.map((p) => tokenize(p)), m.config.text.maxTokens));
    const unc = uncondContext(m.text, m.config.text, 1);
    const rec = meanUtility(prompts, read(tf.tidy(() => tf.clipByValue(decodeLatents(m, z0), -1, 1)) as tf.Tensor4D)).total;
    console.log(`${dir}: latent ${u.latentSize}×${u.latentSize}×${u.latentChannels}, winners through AE ${rec.toFixed(3)}; z0 std ${tf.moments(z0).variance.sqrt().dataSync()[0].toFixed(3)}`);
    console.log('t | x̂0 cond: utility, latent MSE | x̂0 w=5: utility, latent MSE | SDEdit w=5 (DDIM 20-step grid from t): utility');
    const len = u.latentSize * u.latentSize * u.latentChannels;
    for (const t of args.ts!.split(',').map(Number)) {
      const noise = tf.tensor4d(new Rng(7 + t).normals(n * len), [n, u.latentSize, u.latentSize, u.latentChannels]);
      const ab = sched.alphasCumprod[t];
      const zt = tf.tidy(() => z0.mul(Math.sqrt(ab)).add(noise.mul(Math.sqrt(1 - ab)))) as tf.Tensor4D;
      const row: string[] = [String(t)];
      for (const w of [1, 5]) {
        const x0 = tf.tidy(() => tf.div(tf.sub(zt, tf.mul(Math.sqrt(1 - ab), guidedEps({ eps: (z, tt, c) => unetForward(m.unet, u, z, tt, c), ctx, uncondCtx: unc, guidance: w }, zt, t))), Math.sqrt(ab))) as tf.Tensor4D;
        const mse = tf.tidy(() => tf.mean(tf.square(tf.sub(x0, z0))).dataSync()[0]);
        const util = meanUtility(prompts, read(tf.tidy(() => tf.clipByValue(decodeLatents(m, x0), -1, 1)) as tf.Tensor4D)).total;
        row.push(`${util.toFixed(3)}, ${mse.toFixed(4)}`);
        x0.dispose();
      }
      // SDEdit: DDIM from t with 20-step spacing
      let z = tf.clone(zt);
      const grid: number[] = [];
      for (let s = t; s >= 0; s -= 50) grid.push(s);
      for (let i = 0; i < grid.length; i++) {
        const next = ddimStep({ eps: (zz, tt, c) => unetForward(m.unet, u, zz, tt, c), ctx, uncondCtx: unc, guidance: 5 }, z, grid[i], i + 1 < grid.length ? grid[i + 1] : -1, sched);
        z.dispose(); z = next as tf.Tensor4D;
      }
      row.push(meanUtility(prompts, read(tf.tidy(() => tf.clipByValue(decodeLatents(m, z), -1, 1)) as tf.Tensor4D)).total.toFixed(3));
      z.dispose(); zt.dispose(); noise.dispose();
      console.log(row.join(' | '));
    }
    tf.dispose([x, z0, ctx, unc]);
    disposeReducedSD(m);
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
