/**
 * How β (and lr) were chosen: train the beta-sweep arms (SePPOʷ, random reference, sign AAF) on a
 * pretrained base for a few dozen updates without evaluation and look at what the loss sees:
 * implicit accuracy, the spread of `inside` (|inside| ≥ 5 saturates σ), and the per-sample
 * |m_w − r_w| scale. Run: npx tsx runs/beta-probe/probe.ts MODEL_DIR [updates] [lr]
 * (MODEL_DIR holds config.json + model.safetensors; a pretraining checkpoint works too).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { initNodeBackend } from '../../src/core/backend';
import { parseExperimentConfig, PRESETS } from '../../src/core/config';
import { loadReducedSD } from '../../src/core/model/checkpoint';
import { buildDataset } from '../../src/core/world';
import { Experiment } from '../../src/core/align/trainer';

const dir = process.argv[2];
const updates = Number(process.argv[3] ?? 40);
const lr = Number(process.argv[4] ?? 1e-4);
await initNodeBackend('wasm');
const base = loadReducedSD(readFileSync(path.join(dir, 'model.safetensors')), JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')));
const ds = buildDataset({ seed: 0, nTrainPairs: 512, nScorerTrain: 0, nScorerTest: 0, nHpsTrain: 0, nHpsTest: 0, nOodRaterPairs: 0, nValidation: 32, nOodComposition: 0, nOodRaterPrompts: 0, nScorerTestPrompts: 0 });
const betas = [100, 300, 1000, 3000, 10000, 30000];
const cfg = parseExperimentConfig({
  ...PRESETS['beta-sweep'],
  lr,
  updates,
  checkpointEvery: 10,
  refSteps: 10,
  arms: betas.map((b) => ({ name: `β=${b}`, method: 'seppo', data: 'winners', refStrategy: 'random', flip: 'sign', beta: b })),
});
const x = await Experiment.create(cfg, base, ds);
const t0 = performance.now();
await x.run();
console.log(`model ${dir}, ${updates} updates, batch ${cfg.batchSize}, lr ${lr}, refSteps ${cfg.refSteps}, checkpoint every 10 (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
console.log('| β | mean m_w | |mean(m_w − r_w)| (last half) | implicit acc (last half) | |inside| median / 90% (last half) | share |inside| ≥ 5 | AAF rate (last half) | loss (last half) |');
console.log('|---|---|---|---|---|---|---|---|');
for (const b of betas) {
  const us = x.updateRecords(`β=${b}`).slice(Math.floor(updates / 2));
  const mean = (f: (u: (typeof us)[number]) => number) => us.reduce((a, u) => a + f(u), 0) / us.length;
  // |inside| quantiles from the fixed-bin histograms (bin edges −6…6, width 1; by |bin centre|)
  // bins [−6,−5) … [5,6) with the ends clamped: |inside| class k = floor(|centre|) ∈ 0…5, 5 meaning ≥ 5
  const counts = new Array(6).fill(0);
  for (const u of us) u.insideHist!.forEach((c, i) => (counts[Math.floor(Math.abs(i - 5.5))] += c));
  const total = counts.reduce((a, c) => a + c, 0);
  const q = (p: number) => { let acc = 0; for (let i = 0; i < 6; i++) { acc += counts[i]; if (acc >= p * total) return i === 5 ? '≥5' : `${i}–${i + 1}`; } return '≥5'; };
  const sat = counts[5] / total;
  const dW = mean((u) => Math.abs(u.rewardW! / b));
  console.log(`| ${b} | ${mean((u) => u.mW).toFixed(4)} | ${dW.toExponential(2)} | ${mean((u) => u.implicitAcc!).toFixed(2)} | ${q(0.5)} / ${q(0.9)} | ${(100 * sat).toFixed(0)}% | ${mean((u) => u.aafRate!).toFixed(2)} | ${mean((u) => u.loss).toFixed(3)} |`);
}
x.dispose();
