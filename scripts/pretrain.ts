/**
 * `npm run pretrain [-- --quick] [-- --measure] [-- --ae-steps N --unet-steps N --batch B --out DIR]`
 *
 * Pretrains "our SD-1.5" on Node's WASM backend and writes it to public/models/base/:
 *  1. the Pick-a-Shape dataset (all generator outputs of the train pairs, winners AND losers:
 *     mixed quality, the role of SD's web data);
 *  2. the autoencoder on reconstruction MSE, then latentScale = 1 / std of the training latents;
 *  3. text encoder + UNet jointly on ε-prediction (uniform t, 10% prompt dropout), Adam with
 *     warm-up and cosine decay;
 *  4. base quality: DDIM samples for validationUnique with fixed seeds, mean trueUtility next to
 *     the generators' own mean on the same prompts (the issue asks for ≥ 80%).
 * Everything is seeded; batches have fixed shapes; losses are read back every `logEvery` steps.
 * `--measure` prints the time of one training step of each network and exits.
 * `--quick` is a smoke test (tiny data and step counts, writes to /tmp/pretrain-quick).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { execSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../src/core/backend';
import { Rng } from '../src/core/rng';
import { GENERATORS, MAX_TOKENS, VOCAB, buildDataset, renderWithGenerator, tokenize, trueUtility, type Dataset, type Prompt } from '../src/core/world';
import { defaultSDConfig, encodeImages, decodeLatents, initReducedSD, paramCounts, type ReducedSD } from '../src/core/model/sd';
import { loadReducedSD, serializeReducedSD } from '../src/core/model/checkpoint';
import { makeSchedule } from '../src/core/diffusion/schedule';
import { makeAETrainer, makeDiffusionTrainer } from '../src/core/diffusion/train';
import { sampleImages } from '../src/core/diffusion/sample';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    measure: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    'ae-steps': { type: 'string' },
    'unet-steps': { type: 'string' },
    batch: { type: 'string', default: '64' },
    'ae-batch': { type: 'string', default: '32' },
    lr: { type: 'string', default: '1.5e-3' },
    'ae-lr': { type: 'string', default: '2e-3' },
    'ae-l1': { type: 'string', default: '1' },
    out: { type: 'string' },
    ckpt: { type: 'string' },
    resume: { type: 'string' },
    eval: { type: 'string' },
    guidances: { type: 'string' },
    'sample-steps': { type: 'string', default: '20' },
    'unet-ch': { type: 'string' },
    'ae-ch': { type: 'string' },
  },
});

const quick = args.quick;
const seed = Number(args.seed);
const B = quick ? 8 : Number(args.batch);
const AEB = quick ? 8 : Number(args['ae-batch']);
const aeSteps = Number(args['ae-steps'] ?? (quick ? 10 : 600));
const unetSteps = Number(args['unet-steps'] ?? (quick ? 10 : 1800));
const lr = Number(args.lr);
const aeLr = Number(args['ae-lr']);
const aeL1 = Number(args['ae-l1']);
const sampleSteps = Number(args['sample-steps']);
const guidances = (args.guidances ?? (quick ? '3' : '1.5,3,5,7.5')).split(',').map(Number);
const outDir = args.out ?? (quick ? '/tmp/pretrain-quick' : path.resolve('public/models/base'));
const ckptDir = args.ckpt ?? (quick ? '/tmp/pretrain-quick/ckpt' : '/tmp/pretrain-ckpt');
const logEvery = quick ? 5 : 25;
const S = 32, L = MAX_TOKENS, IMG = S * S * 3, LAT = 8 * 8 * 4;

const fmt = (s: number) => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(0)}s`);
const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

/** Learning rate: linear warm-up, then cosine decay to 10% of the peak. */
function lrAt(step: number, total: number, peak: number): number {
  const warm = Math.min(100, Math.floor(total / 10));
  if (step < warm) return (peak * (step + 1)) / warm;
  const p = (step - warm) / Math.max(1, total - warm);
  return peak * (0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * p)));
}

/** Runs `steps` steps of `step`, reading the loss back every logEvery steps, printing progress. */
async function trainLoop(name: string, steps: number, step: (i: number) => tf.Scalar, setLr: (lr: number) => void, peak: number): Promise<{ finalLoss: number; seconds: number; curve: Array<[number, number]> }> {
  const t0 = performance.now();
  let pending: tf.Scalar[] = [];
  let last = NaN;
  const curve: Array<[number, number]> = [];
  for (let i = 0; i < steps; i++) {
    setLr(lrAt(i, steps, peak));
    pending.push(step(i));
    if ((i + 1) % logEvery === 0 || i === steps - 1) {
      const sum = tf.tidy(() => tf.addN(pending).div(pending.length));
      last = (await sum.data())[0];
      sum.dispose();
      tf.dispose(pending);
      pending = [];
      if (!Number.isFinite(last)) throw new Error(`${name}: loss became ${last} at step ${i + 1}; stopping`);
      curve.push([i + 1, last]);
      const el = (performance.now() - t0) / 1000;
      const sps = (i + 1) / el;
      log(`${name} step ${i + 1}/${steps}  loss ${last.toFixed(5)}  ${sps.toFixed(2)} steps/s  elapsed ${fmt(el)}  ETA ${fmt((steps - i - 1) / sps)}  tensors ${tf.memory().numTensors}`);
    }
  }
  return { finalLoss: last, seconds: (performance.now() - t0) / 1000, curve };
}

async function main(): Promise<void> {
  const wall0 = performance.now();
  await initNodeBackend('wasm');
  log(`backend ${tf.getBackend()}; quick=${quick}`);

  // ---- data ----
  const ds = buildDataset(quick ? { seed, nTrainPairs: 64, nScorerTrain: 0, nScorerTest: 0, nHpsTrain: 0, nHpsTest: 0, nOodRaterPairs: 0, nValidation: 8 } : { seed });
  const images: Float32Array[] = [];
  const prompts: Prompt[] = [];
  const utils: number[] = [];
  for (const p of ds.train) {
    images.push(p.winner, p.loser);
    prompts.push(p.prompt, p.prompt);
    utils.push(p.uWinner, p.uLoser);
  }
  const N = images.length;
  const allImages = new Float32Array(N * IMG);
  images.forEach((im, i) => allImages.set(im, i * IMG));
  const allTokens = new Int32Array(N * L);
  prompts.forEach((p, i) => allTokens.set(tokenize(p), i * L));
  const meanDataU = utils.reduce((a, b) => a + b, 0) / N;
  log(`dataset seed ${seed}: ${ds.train.length} train pairs → ${N} training images (mean true utility ${meanDataU.toFixed(3)})`);

  // --eval DIR: only re-measure base quality of a written model (e.g. over more guidance scales),
  // keeping the previous measurement in config.json as baseQualityEarlier.
  if (args.eval) {
    const cfgPath = path.join(args.eval, 'config.json');
    const old = JSON.parse(fs.readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
    const em = loadReducedSD(new Uint8Array(fs.readFileSync(path.join(args.eval, 'model.safetensors'))), old, 'base');
    const q = measureBaseQuality(em, ds, guidances);
    const updated = { ...old, baseQuality: { ...q, command: `npx tsx scripts/pretrain.ts ${process.argv.slice(2).join(' ')}`, measuredAt: new Date().toISOString() }, baseQualityEarlier: old.baseQuality };
    fs.writeFileSync(cfgPath, JSON.stringify(updated, null, 2) + '\n');
    log(`updated ${cfgPath}`);
    return;
  }

  const cfg = defaultSDConfig(VOCAB.length, MAX_TOKENS);
  if (args['unet-ch']) cfg.unet.channels = args['unet-ch'].split(',').map(Number) as [number, number];
  if (args['ae-ch']) cfg.ae.channels = args['ae-ch'].split(',').map(Number);
  // --resume DIR: continue the text encoder + UNet of a model written by an earlier run (the
  // autoencoder and latentScale stay as they are, so its latents are unchanged; Adam restarts).
  const prev = args.resume ? (JSON.parse(fs.readFileSync(path.join(args.resume, 'config.json'), 'utf8')) as Record<string, unknown>) : null;
  const m = prev ? loadReducedSD(new Uint8Array(fs.readFileSync(path.join(args.resume!, 'model.safetensors'))), prev, 'base') : initReducedSD('base', cfg, seed);
  if (prev) log(`resuming from ${args.resume} (${String(prev.command)}), latentScale ${m.latentScale}`);
  const counts = paramCounts(m);
  log(`parameters: ae ${counts.ae.toLocaleString()}, text ${counts.text.toLocaleString()}, unet ${counts.unet.toLocaleString()}, total ${counts.total.toLocaleString()}`);

  const rng = new Rng(seed).fork('pretrain');
  const sched = makeSchedule();

  // ---- autoencoder ----
  const ae = makeAETrainer(m, aeLr, aeL1);
  const aeRng = rng.fork('ae');
  const aeBuf = new Float32Array(AEB * IMG);
  const aeBatch = (): Float32Array => {
    for (let b = 0; b < AEB; b++) {
      const k = aeRng.int(N);
      aeBuf.set(allImages.subarray(k * IMG, (k + 1) * IMG), b * IMG);
    }
    return aeBuf;
  };

  const dt = makeDiffusionTrainer(m, sched, lr);
  const dRng = rng.fork('unet');
  const latBuf = new Float32Array(B * LAT), tokBuf = new Int32Array(B * L), tBuf = new Int32Array(B);
  let allLatents = new Float32Array(0);
  const dBatch = () => {
    for (let b = 0; b < B; b++) {
      const k = dRng.int(N);
      latBuf.set(allLatents.subarray(k * LAT, (k + 1) * LAT), b * LAT);
      if (dRng.next() < 0.1) tokBuf.fill(0, b * L, (b + 1) * L); // prompt dropout → the unconditional prompt
      else tokBuf.set(allTokens.subarray(k * L, (k + 1) * L), b * L);
      tBuf[b] = dRng.int(sched.T);
    }
    return { latents: latBuf, tokens: tokBuf, t: tBuf, eps: dRng.normals(B * LAT), batch: B };
  };

  if (args.measure) {
    allLatents = new Float32Array(N * LAT);
    const fns: Array<[string, () => tf.Scalar]> = [['autoencoder', () => ae.step({ images: aeBatch(), batch: AEB })], ['text+unet', () => dt.step(dBatch())]];
    for (const [name, f] of fns) {
      f().dispose();
      const t0 = performance.now();
      for (let i = 0; i < 5; i++) { const l = f(); l.dataSync(); l.dispose(); }
      log(`${name}: ${((performance.now() - t0) / 5).toFixed(0)} ms per training step (batch ${name === 'autoencoder' ? AEB : B})`);
    }
    return;
  }

  fs.mkdirSync(ckptDir, { recursive: true });
  const aeRes = prev
    ? { finalLoss: NaN, seconds: 0, curve: [] as Array<[number, number]> }
    : await trainLoop('ae', aeSteps, () => ae.step({ images: aeBatch(), batch: AEB }), (v) => ae.setLearningRate(v), aeLr);
  ae.dispose();

  // ---- latent scale and the latents of every training image ----
  const encodeAll = (scale: number): Float32Array => {
    const out = new Float32Array(N * LAT);
    const chunk = 256;
    for (let s = 0; s < N; s += chunk) {
      const n = Math.min(chunk, N - s);
      const z = tf.tidy(() => encodeImages({ ...m, latentScale: scale }, tf.tensor4d(allImages.subarray(s * IMG, (s + n) * IMG), [n, S, S, 3])));
      out.set(z.dataSync() as Float32Array, s * LAT);
      z.dispose();
    }
    return out;
  };
  const raw = encodeAll(1);
  let mean = 0;
  for (const v of raw) mean += v;
  mean /= raw.length;
  let vs = 0;
  for (const v of raw) vs += (v - mean) ** 2;
  const std = Math.sqrt(vs / raw.length);
  if (!prev) m.latentScale = 1 / std;
  allLatents = Float32Array.from(raw, (v) => v * m.latentScale);
  log(`latent std ${std.toFixed(4)} (mean ${mean.toFixed(4)}) → latentScale ${m.latentScale.toFixed(4)}`);

  // Autoencoder quality: true utility of reconstructions vs originals (an upper bound for the UNet).
  const nRec = Math.min(256, N);
  const rec = tf.tidy(() => decodeLatents(m, tf.tensor4d(allLatents.subarray(0, nRec * LAT), [nRec, 8, 8, 4])));
  const recData = rec.dataSync() as Float32Array;
  rec.dispose();
  let uOrig = 0, uRec = 0, mse = 0;
  for (let i = 0; i < nRec; i++) {
    const r = recData.slice(i * IMG, (i + 1) * IMG);
    uOrig += trueUtility(prompts[i], images[i]).total;
    uRec += trueUtility(prompts[i], r).total;
    for (let j = 0; j < IMG; j++) mse += (r[j] - images[i][j]) ** 2;
  }
  const aeQuality = { images: nRec, mse: mse / (nRec * IMG), meanUtilityOriginal: uOrig / nRec, meanUtilityReconstructed: uRec / nRec };
  log(`autoencoder on ${nRec} training images: MSE ${aeQuality.mse.toFixed(5)}, true utility ${aeQuality.meanUtilityOriginal.toFixed(3)} → ${aeQuality.meanUtilityReconstructed.toFixed(3)} after encode/decode`);

  // ---- text encoder + UNet ----
  const unetRes = await trainLoop('unet', unetSteps, (i) => {
    const r = dt.step(dBatch());
    if ((i + 1) % 500 === 0) fs.writeFileSync(path.join(ckptDir, 'model.safetensors'), serializeReducedSD(m).safetensors);
    return r;
  }, (v) => dt.setLearningRate(v), lr);
  dt.dispose();

  const baseQuality = measureBaseQuality(m, ds, guidances);

  // ---- write ----
  const wallSeconds = (performance.now() - wall0) / 1000;
  const { safetensors, config } = serializeReducedSD(m, {
    createdBy: 'npm run pretrain' + (quick ? ' -- --quick' : ''),
    createdAt: new Date().toISOString(),
    command: `npx tsx scripts/pretrain.ts ${process.argv.slice(2).join(' ')}`.trim(),
    gitCommit: gitHead(),
    backend: `tfjs ${tf.version.tfjs} ${tf.getBackend()} (Node ${process.version}, single-threaded)`,
    dataset: { seed, trainPairs: ds.train.length, images: N, meanTrueUtility: meanDataU, note: 'winners and losers of every train pair (all generator outputs, mixed quality)' },
    parameters: counts,
    ...(prev ? { resumedFrom: { dir: args.resume, command: prev.command, gitCommit: prev.gitCommit, wallSeconds: prev.wallSeconds, autoencoder: prev.autoencoder, diffusion: prev.diffusion, baseQuality: prev.baseQuality } } : {}),
    autoencoder: prev ? { ...(prev.autoencoder as object), quality: aeQuality, note: 'trained in the resumed run (resumedFrom)' } : { steps: aeSteps, batchSize: AEB, lr: aeLr, loss: `MSE + ${aeL1}·L1 + 1e-4·latent L2`, finalLoss: aeRes.finalLoss, seconds: aeRes.seconds, latentStd: std, quality: aeQuality, lossCurve: aeRes.curve },
    diffusion: { steps: unetSteps, batchSize: B, lr, lrSchedule: 'linear warm-up 100 steps, cosine to 10%', promptDropout: 0.1, finalLoss: unetRes.finalLoss, seconds: unetRes.seconds, lossCurve: unetRes.curve },
    wallSeconds,
    baseQuality,
  });
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, 'model.safetensors'), safetensors);
  fs.writeFileSync(path.join(outDir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  log(`wrote ${path.join(outDir, 'model.safetensors')} (${(safetensors.length / 1e6).toFixed(2)} MB) and config.json; wall time ${fmt(wallSeconds)}`);
}

/**
 * Base quality: DDIM samples for validationUnique (seed 1234) scored with trueUtility, next to the
 * generators' own renders of the same prompts. The guidance scale is picked first on 32 training
 * prompts with another seed (never on the validation prompts).
 */
function measureBaseQuality(m: ReducedSD, ds: Dataset, guidances: number[]) {
  const valPrompts = ds.validationUnique;
  const valTokens = valPrompts.map((p) => tokenize(p));
  const evalSeed = 1234;
  // Pick the guidance scale on training prompts (not the validation set) with another seed.
  const selPrompts = ds.trainingPrompts.slice(0, quick ? 4 : 32);
  const selection: Record<string, number> = {};
  for (const g of guidances) {
    const t0 = performance.now();
    const imgs = sampleImages(m, selPrompts.map((p) => tokenize(p)), { seed: 99, steps: sampleSteps, guidance: g });
    selection[String(g)] = imgs.reduce((a, im, i) => a + trueUtility(selPrompts[i], im).total, 0) / imgs.length;
    log(`guidance ${g}: mean true utility ${selection[String(g)].toFixed(3)} on ${selPrompts.length} training prompts (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  const guidance = guidances.reduce((best, g) => (selection[String(g)] > selection[String(best)] ? g : best), guidances[0]);

  const t0 = performance.now();
  const samples = sampleImages(m, valTokens, { seed: evalSeed, steps: sampleSteps, guidance });
  const sampleSeconds = (performance.now() - t0) / 1000;
  const parts = { colour: 0, shape: 0, sharpness: 0, background: 0 };
  let baseU = 0;
  samples.forEach((im, i) => {
    const u = trueUtility(valPrompts[i], im);
    baseU += u.total;
    for (const k of Object.keys(parts) as Array<keyof typeof parts>) parts[k] += u.parts[k];
  });
  baseU /= samples.length;
  for (const k of Object.keys(parts) as Array<keyof typeof parts>) parts[k] /= samples.length;
  // The generators' own outputs on the same prompts (fixed rng per prompt and generator).
  const genRng = new Rng(evalSeed).fork('generators');
  const perGen = GENERATORS.map((g, gi) => {
    let u = 0;
    valPrompts.forEach((p, i) => (u += trueUtility(p, renderWithGenerator(p, gi, genRng.fork(`${gi}/${i}`)).image).total));
    return { name: g.name, meanTrueUtility: u / valPrompts.length };
  });
  const genMean = perGen.reduce((a, g) => a + g.meanTrueUtility, 0) / perGen.length;
  const ratio = baseU / genMean;
  log(`BASE QUALITY on ${valPrompts.length} validationUnique prompts (seed ${evalSeed}, DDIM ${sampleSteps}, guidance ${guidance}): mean true utility ${baseU.toFixed(3)}; generators ${genMean.toFixed(3)} (${perGen.map((g) => `${g.name} ${g.meanTrueUtility.toFixed(3)}`).join(', ')}); ratio ${(100 * ratio).toFixed(1)}% (issue requires ≥ 80%)`);

  return {
    prompts: 'validationUnique',
    nPrompts: valPrompts.length,
    seed: evalSeed,
    ddimSteps: sampleSteps,
    guidance,
    guidanceSelection: { prompts: `first ${selPrompts.length} trainingPrompts`, seed: 99, meanTrueUtility: selection },
    meanTrueUtility: baseU,
    parts,
    generators: perGen,
    generatorsMeanTrueUtility: genMean,
    ratioToGenerators: ratio,
    samplingSeconds: sampleSeconds,
  };
}

function gitHead(): string {
  try {
    return execSync('git rev-parse HEAD', { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
