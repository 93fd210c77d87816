/**
 * Pretrains the video model's motion modules (src/core/video, issue 17) over the shipped image base,
 * frozen: ε-MSE on clips of the time-lapse world (winners and losers of rated pairs: mixed quality, as
 * the image base was trained on all generator outputs). Resumable: every --every steps it writes
 * motion.safetensors, optimizer.safetensors and state.json (last) to --out; run it again with the same
 * flags and it goes on from the last checkpoint, drawing the same batches (batch k comes from
 * Rng(seed).fork('batch/k')), so a resumed run gives the same weights as an unbroken one.
 *
 *   npx tsx scripts/pretrain-video.ts                       tiny default: 20 steps, 2 clips a batch, 32 clips
 *   npx tsx scripts/pretrain-video.ts --steps 2000 --clips 512 --batch 4 --out runs/video-motion
 *
 * Not a shipped pretraining yet: see src/core/video/README.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../src/core/backend';
import { Rng } from '../src/core/rng';
import { loadReducedSD, loadIntoParams, saveSafetensors } from '../src/core/model/checkpoint';
import { encodeImages } from '../src/core/model/sd';
import { scheduleFor } from '../src/core/diffusion/schedule';
import { loadOptimizer, saveOptimizer } from '../src/core/diffusion/pretraining';
import { IMAGE_LEN } from '../src/core/world/render';
import { buildVideoDataset, createVideoUNet, makeVideoTrainer, videoTokens, type VideoPrompt } from '../src/core/video';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '20' },
    batch: { type: 'string', default: '2' },
    clips: { type: 'string', default: '32' },
    frames: { type: 'string', default: '8' },
    heads: { type: 'string', default: '4' },
    lr: { type: 'string', default: '1e-3' },
    every: { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    'prompt-dropout': { type: 'string', default: '0.1' },
    base: { type: 'string', default: path.join(ROOT, 'public/models/base') },
    out: { type: 'string', default: path.join(ROOT, 'runs/tmp/video-motion') },
    backend: { type: 'string', default: 'wasm' },
  },
});
const int = (k: keyof typeof args) => {
  const v = Number(args[k]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer, got ${String(args[k])}`);
  return v;
};
const steps = int('steps'), B = int('batch'), nClips = int('clips'), F = int('frames'), heads = int('heads'), every = int('every'), seed = int('seed');
const lr = Number(args.lr), dropout = Number(args['prompt-dropout']);
if (!(lr > 0)) throw new Error(`--lr must be positive, got ${args.lr}`);
if (!(dropout >= 0 && dropout < 1)) throw new Error(`--prompt-dropout must be in [0, 1), got ${args['prompt-dropout']}`);
const out = path.resolve(args.out!);
const signature = JSON.stringify({ batch: B, clips: nClips, frames: F, heads, lr, seed, dropout, base: path.resolve(args.base!) });

async function main() {
  await initNodeBackend(args.backend as 'wasm');
  const sd = loadReducedSD(new Uint8Array(fs.readFileSync(path.join(args.base!, 'model.safetensors'))), JSON.parse(fs.readFileSync(path.join(args.base!, 'config.json'), 'utf8')), 'base');
  const ucfg = sd.config.unet;
  const S = ucfg.latentSize, C = ucfg.latentChannels, LAT = S * S * C;

  // Training clips: winners and losers of pool-A pairs on the training prompts.
  const t0 = Date.now();
  const ds = buildVideoDataset({ seed, frames: F, nTrainPairs: Math.ceil(nClips / 2), nTuning: 64, nEvaluation: 128 });
  const clips: { prompt: VideoPrompt; video: Float32Array }[] = ds.train.flatMap((p) => [{ prompt: p.prompt, video: p.winner }, { prompt: p.prompt, video: p.loser }]).slice(0, nClips);
  const latents = new Float32Array(nClips * F * LAT);
  for (let i = 0; i < nClips; i++) {
    const z = tf.tidy(() => encodeImages(sd, tf.tensor4d(clips[i].video, [F, 32, 32, 3])));
    latents.set(z.dataSync(), i * F * LAT);
    z.dispose();
  }
  const { start, end } = videoTokens(clips.map((c) => c.prompt));
  const L = sd.config.text.maxTokens;
  console.log(`${nClips} clips of ${F} frames built and encoded in ${((Date.now() - t0) / 1000).toFixed(1)} s (latents ${S}×${S}×${C})`);
  if (clips[0].video.length !== F * IMAGE_LEN) throw new Error('clip length mismatch');

  const video = createVideoUNet('video', sd.unet, ucfg, { frames: F, heads }, seed);
  const trainer = makeVideoTrainer(sd, video, scheduleFor(ucfg), lr);
  fs.mkdirSync(out, { recursive: true });
  let step = 0;
  let curve: [number, number][] = [];
  const statePath = path.join(out, 'state.json');
  if (fs.existsSync(statePath)) {
    const st = JSON.parse(fs.readFileSync(statePath, 'utf8'));
    if (st.signature !== signature) throw new Error(`${out} holds a checkpoint of another run (${st.signature}); use another --out or the same flags`);
    loadIntoParams(video.motion, new Uint8Array(fs.readFileSync(path.join(out, 'motion.safetensors'))), video.motionPrefix);
    await loadOptimizer(trainer.optimizer, new Uint8Array(fs.readFileSync(path.join(out, 'optimizer.safetensors'))));
    step = st.step;
    curve = st.curve;
    console.log(`resumed at step ${step}`);
  }

  const save = async () => {
    fs.writeFileSync(path.join(out, 'motion.safetensors'), saveSafetensors(video.motion, { format: 'seppo-motion/1', frames: String(F), heads: String(heads) }, video.motionPrefix));
    fs.writeFileSync(path.join(out, 'optimizer.safetensors'), await saveOptimizer(trainer.optimizer));
    fs.writeFileSync(statePath, JSON.stringify({ signature, step, curve }, null, 2) + '\n'); // last: names a complete checkpoint
  };

  const T = 1000;
  const tStart = Date.now();
  while (step < steps) {
    const r = new Rng(seed).fork(`batch/${step}`);
    const lat = new Float32Array(B * F * LAT), s = new Int32Array(B * L), e = new Int32Array(B * L), t = new Int32Array(B);
    for (let b = 0; b < B; b++) {
      const i = r.int(nClips);
      lat.set(latents.subarray(i * F * LAT, (i + 1) * F * LAT), b * F * LAT);
      if (r.next() >= dropout) {
        s.set(start.subarray(i * L, (i + 1) * L), b * L);
        e.set(end.subarray(i * L, (i + 1) * L), b * L);
      } // else: all-PAD rows, the unconditional prompt (for classifier-free guidance)
      t[b] = r.int(T);
    }
    const loss = trainer.step({ latents: lat, start: s, end: e, t, eps: r.normals(B * F * LAT), batch: B });
    const v = (await loss.data())[0];
    loss.dispose();
    if (!Number.isFinite(v)) throw new Error(`loss is ${v} at step ${step}`);
    step++;
    curve.push([step, v]);
    if (step % every === 0 || step === steps) {
      await save();
      console.log(`step ${step}/${steps} loss ${v.toFixed(4)} (${((Date.now() - tStart) / 1000).toFixed(1)} s) → ${out}`);
    }
  }
  console.log(`done: ${step} steps; tensors alive ${tf.memory().numTensors}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
