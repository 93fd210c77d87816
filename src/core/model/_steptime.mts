import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend';
import { defaultSDConfig, initReducedSD, paramCounts } from '../model/sd';
import { makeAETrainer, makeDiffusionTrainer } from '../diffusion/train';
import { makeSchedule } from '../diffusion/schedule';
import { Rng } from '../rng';
await initNodeBackend('wasm');
const cfg = defaultSDConfig(40, 8);
const ch = process.argv[2]; if (ch) cfg.unet.channels = JSON.parse(ch);
const aech = process.argv[3]; if (aech) cfg.ae.channels = JSON.parse(aech);
const m = initReducedSD('base', cfg, 1);
console.log(paramCounts(m));
const rng = new Rng(1);
for (const B of [32]) {
  const ae = makeAETrainer(m, 1e-3);
  const b = { images: rng.normals(B * 3072).map((v) => Math.tanh(v)), batch: B };
  ae.step(b).dispose();
  let t0 = performance.now();
  for (let i = 0; i < 3; i++) ae.step(b).dispose();
  console.log('AE B', B, ((performance.now() - t0) / 3).toFixed(0), 'ms/step');
  ae.dispose();
}
const sched = makeSchedule();
for (const B of [32, 64, 128]) {
  const tr = makeDiffusionTrainer(m, sched, 1e-3);
  const tokens = new Int32Array(B * 8).map(() => rng.int(40));
  const b = { latents: rng.normals(B * 256), eps: rng.normals(B * 256), tokens, t: new Int32Array(B).map(() => rng.int(1000)), batch: B };
  tr.step(b).dispose();
  let t0 = performance.now();
  for (let i = 0; i < 3; i++) tr.step(b).dispose();
  console.log('UNet B', B, ((performance.now() - t0) / 3).toFixed(0), 'ms/step', tf.memory().numTensors);
  tr.dispose();
}
