/**
 * npm run train-video-features -- [--seed 1] [--clips 3000] [--heldout-clips 768] [--frames 8]
 *                                 [--clip-clips 16000] [--frame-steps 2000] [--clip-steps 6000] [--batch 64] [--lr 0.003]
 *                                 [--out public/models/video-features] [--dry]
 *
 * Trains the video feature nets (src/core/video/features.ts; labels and loops in featuresTraining.ts):
 *   1. labelled clips: `--clips` from the training prompts of buildVideoDataset({ seed }) and
 *      `--heldout-clips` from its evaluation + tuning prompts (disjoint), each the ideal video (20 %)
 *      or a uniformly drawn video generator's render (with its per-frame and temporal defects);
 *   2. the frame net on random batches of frames (summed cross-entropies of its five heads);
 *   3. the clip net on the frozen frame net's features of `--clip-clips` training clips: the frame
 *      net's clips plus more from the same training prompts, rendered in chunks of 1000 of which only
 *      the frame features and labels are kept (on 4000 clips alone the clip net over-fitted: train
 *      accuracy 95–97 % on speed / halfway, held-out at the majority rate);
 * prints the held-out accuracy of every head next to its majority-class rate and writes
 * `<out>/model.safetensors` and `<out>/config.json` (architecture + the training record).
 * Deterministic for a given seed and options on the WASM backend. `--dry` writes nothing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../src/core/backend';
import { Rng } from '../src/core/rng';
import { initVideoFeatureNets, serializeVideoFeatureNets } from '../src/core/video/features';
import { clipHeadAccuracy, frameFeatureMatrix, frameHeadAccuracy, labelledClips, setClipNormalisation, trainClipNet, trainFrameNet, type FeatureClip, type HeadAccuracy } from '../src/core/video/featuresTraining';
import { buildVideoDataset } from '../src/core/video/world';

function parseArgs(argv: string[]) {
  const o = { seed: 1, clips: 4000, clipClips: 16000, heldoutClips: 768, frames: 8, frameSteps: 2000, clipSteps: 6000, batch: 64, lr: 3e-3, out: 'public/models/video-features', dry: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${a} needs a positive number, got ${argv[i]}`);
      return v;
    };
    if (a === '--seed') o.seed = Math.round(num());
    else if (a === '--clips') o.clips = Math.round(num());
    else if (a === '--clip-clips') o.clipClips = Math.round(num());
    else if (a === '--heldout-clips') o.heldoutClips = Math.round(num());
    else if (a === '--frames') o.frames = Math.round(num());
    else if (a === '--frame-steps') o.frameSteps = Math.round(num());
    else if (a === '--clip-steps') o.clipSteps = Math.round(num());
    else if (a === '--batch') o.batch = Math.round(num());
    else if (a === '--lr') o.lr = num();
    else if (a === '--out') o.out = argv[++i];
    else if (a === '--dry') o.dry = true;
    else throw new Error(`unknown option ${a}; usage: train-video-features [--seed N] [--clips N] [--clip-clips N] [--heldout-clips N] [--frames N] [--frame-steps N] [--clip-steps N] [--batch N] [--lr X] [--out DIR] [--dry]`);
  }
  if (o.frames < 2) throw new Error('--frames must be at least 2');
  return o;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
function table(title: string, rows: HeadAccuracy[]) {
  console.log(`\n${title}\n| head | held-out accuracy | majority class | n |\n|---|---|---|---|`);
  for (const r of rows) console.log(`| ${r.head} | ${pct(r.accuracy)} | ${pct(r.majority)} | ${r.n} |`);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  await initNodeBackend('wasm');
  const t0 = Date.now();
  const F = o.frames;
  const ds = buildVideoDataset({ seed: o.seed, nTrainPairs: 0, frames: F });
  const heldPrompts = [...ds.evaluation, ...ds.tuning];
  const rng = new Rng(o.seed).fork('video-features');
  console.log(`rendering ${o.clips} training clips (${ds.trainingPrompts.length} training prompts) and ${o.heldoutClips} held-out clips (${heldPrompts.length} evaluation + tuning prompts of dataset seed ${o.seed}), ${F} frames…`);
  const train = labelledClips(ds.trainingPrompts, o.clips, rng.fork('train'), F);
  const held = labelledClips(heldPrompts, o.heldoutClips, rng.fork('heldout'), F);
  console.log(`  ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const nets = initVideoFeatureNets('vfeat', o.seed);
  const cpu0 = cpuSeconds(), tf0 = Date.now();
  console.log(`frame net: ${o.frameSteps} steps of ${o.batch} frames, Adam lr ${o.lr} (warm-up + cosine)`);
  const frameLoss = await trainFrameNet(nets, train, F, { steps: o.frameSteps, batch: o.batch, lr: o.lr, seed: o.seed, logEvery: 100, onLog: (l) => console.log(`  step ${l.step}: loss ${l.loss.toFixed(4)}, ${l.seconds.toFixed(0)} s`) });
  const frameSeconds = (Date.now() - tf0) / 1000;
  const frameAcc = await frameHeadAccuracy(nets, held, F);
  const frameTrainAcc = await frameHeadAccuracy(nets, train.slice(0, o.heldoutClips), F);
  table('frame heads (all frames of the held-out clips)', frameAcc);

  const tc0 = Date.now();
  const D = nets.config.frameDim;
  const nClip = Math.max(o.clipClips, train.length);
  const trainFeats = new Float32Array(nClip * F * D);
  trainFeats.set(await frameFeatureMatrix(nets, train, F));
  const clipSet: FeatureClip[] = train.map((c) => ({ ...c }));
  for (let s = train.length, k = 0; s < nClip; s += 1000, k++) {
    const part = labelledClips(ds.trainingPrompts, Math.min(1000, nClip - s), rng.fork(`clip-extra-${k}`), F);
    trainFeats.set(await frameFeatureMatrix(nets, part, F), s * F * D);
    for (const c of part) clipSet.push({ ...c, video: new Float32Array(0) }); // keep labels only
  }
  console.log(`clip-net set: ${nClip} clips (${train.length} of the frame net's + ${nClip - train.length} more), frame features in ${((Date.now() - tc0) / 1000).toFixed(0)} s`);
  setClipNormalisation(nets, trainFeats);
  console.log(`clip net: ${o.clipSteps} steps of ${o.batch} clips on the frozen frame features, Adam lr ${o.lr}`);
  const clipLoss = await trainClipNet(nets, trainFeats, clipSet, F, { steps: o.clipSteps, batch: o.batch, lr: o.lr, seed: o.seed, logEvery: 500, onLog: (l) => console.log(`  step ${l.step}: loss ${l.loss.toFixed(4)}, ${l.seconds.toFixed(0)} s`) });
  const clipSeconds = (Date.now() - tc0) / 1000;
  const heldFeats = await frameFeatureMatrix(nets, held, F);
  const clipAcc = clipHeadAccuracy(nets, heldFeats, held, F);
  const clipTrainAcc = clipHeadAccuracy(nets, trainFeats.subarray(0, train.length * F * D), train, F);
  table('clip heads (held-out clips)', clipAcc);
  const cpu = cpuSeconds() - cpu0;
  console.log(`\ntraining: frame net ${frameSeconds.toFixed(0)} s, clip net ${clipSeconds.toFixed(0)} s wall; ${cpu.toFixed(0)} s CPU; tensors alive ${tf.memory().numTensors}`);

  if (!o.dry) {
    mkdirSync(o.out, { recursive: true });
    const byHead = (xs: HeadAccuracy[]) => Object.fromEntries(xs.map((x) => [x.head, { accuracy: x.accuracy, majority: x.majority, n: x.n }]));
    const { safetensors, config } = serializeVideoFeatureNets(nets, {
      description: 'Video feature nets for FID-like (frame net), FVD-like (clip net) and LPIPS-like (frame net conv stages); see src/core/video/README.md',
      seed: o.seed,
      datasetSeed: o.seed,
      frames: F,
      trainClips: train.length,
      clipNetClips: nClip,
      heldoutClips: held.length,
      heldoutPrompts: 'buildVideoDataset({ seed }).evaluation + .tuning',
      idealShare: 0.2,
      frameNet: { steps: o.frameSteps, batch: o.batch, lr: o.lr, finalLoss: frameLoss, wallSeconds: Math.round(frameSeconds), heldout: byHead(frameAcc), train: byHead(frameTrainAcc) },
      clipNet: { steps: o.clipSteps, batch: o.batch, lr: o.lr, finalLoss: clipLoss, wallSeconds: Math.round(clipSeconds), heldout: byHead(clipAcc), train: byHead(clipTrainAcc) },
      steps: o.frameSteps + o.clipSteps,
      trainCpuSeconds: Math.round(cpu),
      backend: tf.getBackend(),
      command: `npm run train-video-features -- --seed ${o.seed} --clips ${o.clips} --clip-clips ${o.clipClips} --heldout-clips ${o.heldoutClips} --frames ${F} --frame-steps ${o.frameSteps} --clip-steps ${o.clipSteps} --batch ${o.batch} --lr ${o.lr}`,
    });
    writeFileSync(join(o.out, 'model.safetensors'), safetensors);
    writeFileSync(join(o.out, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    console.log(`wrote ${o.out}/model.safetensors (${(safetensors.length / 1024).toFixed(0)} KiB) and config.json`);
  }
  console.log(`total: ${((Date.now() - t0) / 1000).toFixed(0)} s wall`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
