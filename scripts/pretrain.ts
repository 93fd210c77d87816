/**
 * `npm run pretrain [-- --quick] [-- --measure] [-- flags]` — a thin shell over
 * src/core/diffusion/pretraining.ts that pretrains "our SD-1.5" on Node's WASM backend and writes
 * it to public/models/base/:
 *  1. the Pick-a-Shape dataset of `--data-seed` (the alignment experiments' world): the winner and
 *     the loser of every train pair (mixed quality, the role of SD's web data);
 *  2. the autoencoder on MSE + L1 + an edge loss (the decoder's ceiling: src/core/model/reconstruction.ts),
 *     then latentScale = 1 / std of the training latents, and the reconstruction table;
 *  3. text encoder + UNet jointly on ε-prediction (uniform t, 10 % prompt dropout), Adam with
 *     warm-up and cosine decay;
 *  4. base quality on validationUnique, next to the generators, the decoder's ceiling and the headroom.
 *
 * Resumable: every `--ckpt-every` steps the model, Adam's moments and the loop's record go to
 * `--ckpt DIR`; a run started again with the same flags goes on from there, with the batches it
 * would have seen (each step's batch is drawn from its own seeded stream).
 *
 * Other modes: `--measure` times one training step of each network; `--quick` is a smoke test (tiny
 * data and step counts, writes to /tmp/pretrain-quick); `--ae-only` stops after the autoencoder;
 * `--eval DIR` re-measures the base quality of a written model; `--resume DIR` continues the text
 * encoder + UNet of a written model (its autoencoder and latents unchanged; Adam restarts).
 *
 * Fine-tuning a decoder under a trained UNet: `--ae-only --ae-init DIR --ae-decoder-only` trains
 * only DIR's decoder (the encoder, so every latent, stays bit-identical), `--ae-ideal F` puts the
 * ideal renders of the training prompts in a share F of the autoencoder's batches, and
 * `--eval DIR --decoder-from DIR2 --out DIR3` writes DIR's model with DIR2's decoder (their encoders
 * must be equal) and re-measures its reconstruction table and base quality.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { execSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../src/core/backend';
import { Rng } from '../src/core/rng';
import { MAX_TOKENS, VOCAB, buildDataset } from '../src/core/world';
import { defaultSDConfig, disposeReducedSD, initReducedSD, paramCounts, type ReducedSD } from '../src/core/model/sd';
import { latentSize } from '../src/core/model/autoencoder';
import { loadReducedSD, serializeReducedSD } from '../src/core/model/checkpoint';
import { scheduleFor } from '../src/core/diffusion/schedule';
import { makeAETrainer, makeDiffusionTrainer } from '../src/core/diffusion/train';
import {
  aeBatchAt, checkpointFiles, idealImages, optimizerFile, diffusionBatchAt, encodeAll, lrAt, meanStd, measureBaseQuality, parseState, pretrainingData, restoreCheckpoint,
  type LoopRecord, type PretrainState,
} from '../src/core/diffusion/pretraining';
import { aeRoundTrip, alignmentImageSets, measureReconstruction, reconstructionMarkdown, reconstructionTargets } from '../src/core/model/reconstruction';
import { renderIdeal, type Dataset } from '../src/core/world';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    measure: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    'data-seed': { type: 'string', default: '0' },
    'ae-steps': { type: 'string' },
    'unet-steps': { type: 'string' },
    batch: { type: 'string', default: '64' },
    'ae-batch': { type: 'string', default: '32' },
    lr: { type: 'string', default: '1.5e-3' },
    'ae-lr': { type: 'string', default: '2e-3' },
    'ae-l1': { type: 'string', default: '1' },
    'ae-edge': { type: 'string', default: '1' },
    'ae-energy': { type: 'string', default: '0' },
    'ae-se': { type: 'string', default: '0' },
    'snr-shift': { type: 'string' },
    'unet-head': { type: 'string' },
    'ae-from': { type: 'string' },
    'ae-init': { type: 'string' },
    'ae-decoder-only': { type: 'boolean', default: false },
    'ae-ideal': { type: 'string', default: '0' },
    'decoder-from': { type: 'string' },
    'latent-ch': { type: 'string' },
    'unet-ch': { type: 'string' },
    // The next base's recipe (README.md of src/core/model, "The decoder's ceiling"): 16×16×4 latents, UNet on 2×2 patches.
    'ae-ch': { type: 'string', default: '16,32' },
    'ae-only': { type: 'boolean', default: false },
    patch: { type: 'string', default: '2' },
    'ae-full-res': { type: 'boolean', default: false },
    'ae-patch': { type: 'string' },
    'ae-blocks': { type: 'string' },
    out: { type: 'string' },
    ckpt: { type: 'string' },
    'ckpt-every': { type: 'string', default: '100' },
    resume: { type: 'string' },
    eval: { type: 'string' },
    guidances: { type: 'string' },
    'sample-steps': { type: 'string', default: '20' },
    'stop-after': { type: 'string' },
  },
});

const quick = args.quick;
const seed = Number(args.seed);
const dataSeed = Number(args['data-seed']);
const B = quick ? 8 : Number(args.batch);
const AEB = quick ? 8 : Number(args['ae-batch']);
const aeSteps = Number(args['ae-steps'] ?? (quick ? 10 : 1500));
const unetSteps = Number(args['unet-steps'] ?? (quick ? 10 : 1800));
const lr = Number(args.lr);
const aeLr = Number(args['ae-lr']);
// (energy only when used, so that checkpoints written before it existed keep their signature)
const aeLoss: { l1: number; edge: number; energy?: number; scaleEquivariance?: number } = { l1: Number(args['ae-l1']), edge: Number(args['ae-edge']), ...(Number(args['ae-energy']) > 0 ? { energy: Number(args['ae-energy']) } : {}), ...(Number(args['ae-se']) > 0 ? { scaleEquivariance: Number(args['ae-se']) } : {}) };
const sampleSteps = Number(args['sample-steps']);
const guidances = (args.guidances ?? (quick ? '3' : '1.5,3,5,7.5')).split(',').map(Number);
const outDir = args.out ?? (quick ? '/tmp/pretrain-quick' : path.resolve('public/models/base'));
const ckptDir = args.ckpt ?? (quick ? '/tmp/pretrain-quick/ckpt' : '/tmp/pretrain-ckpt');
const ckptEvery = Number(args['ckpt-every']);
/** Stop (as if killed) after this many steps of this run, to test resuming. */
const stopAfter = args['stop-after'] ? Number(args['stop-after']) : Infinity;
const logEvery = quick ? 5 : 25;
const PROMPT_DROPOUT = 0.1;

const fmt = (s: number) => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${s.toFixed(0)}s`);
const log = (msg: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
const command = `npx tsx scripts/pretrain.ts ${process.argv.slice(2).join(' ')}`.trim();

function writeFiles(dir: string, files: Array<[string, Uint8Array | string]>): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, data] of files) {
    fs.writeFileSync(path.join(dir, name + '.tmp'), data);
    fs.renameSync(path.join(dir, name + '.tmp'), path.join(dir, name)); // never a half-written file
  }
}
const readIf = (p: string) => (fs.existsSync(p) ? new Uint8Array(fs.readFileSync(p)) : null);

let stepsThisRun = 0;
class Stopped extends Error {}

/**
 * Runs steps `rec.step … steps−1` of `step`, reading the loss back every logEvery steps and
 * checkpointing every ckptEvery steps through `save`.
 */
async function trainLoop(name: string, steps: number, rec: LoopRecord, step: (i: number) => tf.Scalar, setLr: (lr: number) => void, peak: number, save: () => Promise<void>): Promise<void> {
  const t0 = performance.now() - rec.seconds * 1000;
  const first = rec.step, secondsBefore = rec.seconds;
  let pending: tf.Scalar[] = [];
  for (let i = rec.step; i < steps; i++) {
    setLr(lrAt(i, steps, peak));
    pending.push(step(i));
    const done = i + 1;
    const checkpointNow = done % ckptEvery === 0 || done === steps;
    if (done % logEvery === 0 || checkpointNow) {
      const mean = tf.tidy(() => tf.addN(pending).div(pending.length));
      const v = (await mean.data())[0];
      mean.dispose();
      tf.dispose(pending);
      pending = [];
      if (!Number.isFinite(v)) throw new Error(`${name}: loss became ${v} at step ${done}; stopping`);
      rec.curve.push([done, v]);
      const el = (performance.now() - t0) / 1000;
      const sps = (done - first) / Math.max(1e-9, el - secondsBefore);
      log(`${name} step ${done}/${steps}  loss ${v.toFixed(5)}  elapsed ${fmt(el)}  ETA ${fmt((steps - done) / Math.max(sps, 1e-9))}  tensors ${tf.memory().numTensors}`);
    }
    rec.step = done;
    rec.seconds = (performance.now() - t0) / 1000;
    if (checkpointNow) await save(); // the losses so far are read back, so the record is complete
    if (++stepsThisRun >= stopAfter) {
      tf.dispose(pending);
      throw new Stopped(`stopped after ${stepsThisRun} steps of this run (--stop-after)`);
    }
  }
  tf.dispose(pending);
}

async function main(): Promise<void> {
  const wall0 = performance.now();
  await initNodeBackend('wasm');
  log(`backend ${tf.getBackend()}; quick=${quick}`);

  const ds = buildDataset(quick ? { seed: dataSeed, nTrainPairs: 64, nScorerTrain: 0, nScorerTest: 0, nHpsTrain: 0, nHpsTest: 0, nOodRaterPairs: 0, nValidation: 8 } : { seed: dataSeed });
  const data = pretrainingData(ds.train, MAX_TOKENS);
  log(`dataset seed ${dataSeed}: ${ds.train.length} train pairs → ${data.count} training images (mean true utility ${data.meanUtility.toFixed(3)})`);
  const qualityOptions = { guidances, sampleSteps, selectionPrompts: ds.trainingPrompts.slice(0, quick ? 4 : 32), log };

  if (args.eval) {
    const cfgPath = path.join(args.eval, 'config.json');
    const old = JSON.parse(fs.readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
    const em = loadReducedSD(new Uint8Array(fs.readFileSync(path.join(args.eval, 'model.safetensors'))), old, 'base');
    if (!args['decoder-from']) {
      const q = measureBaseQuality(em, ds, qualityOptions);
      fs.writeFileSync(cfgPath, JSON.stringify({ ...old, baseQuality: { ...q, command, measuredAt: new Date().toISOString() }, baseQualityEarlier: old.baseQuality }, null, 2) + '\n');
      log(`updated ${cfgPath}`);
      return;
    }
    // The splice: DIR's text encoder, UNet and encoder with DIR2's decoder.
    if (!args.out) throw new Error('--eval DIR --decoder-from DIR2 needs --out DIR3 (DIR is not overwritten)');
    const dcfg = JSON.parse(fs.readFileSync(path.join(args['decoder-from'], 'config.json'), 'utf8')) as Record<string, unknown>;
    const dm = loadReducedSD(new Uint8Array(fs.readFileSync(path.join(args['decoder-from'], 'model.safetensors'))), dcfg, 'dec');
    if (JSON.stringify(dm.config.ae) !== JSON.stringify(em.config.ae)) throw new Error(`--decoder-from ${args['decoder-from']}: its autoencoder's shape differs from ${args.eval}'s`);
    for (const [k, v] of Object.entries(em.ae)) {
      const src = dm.ae[k.replace(/^base\//, 'dec/')];
      if (!src) throw new Error(`--decoder-from ${args['decoder-from']}: no parameter ${k}`);
      if (k.includes('/dec/')) v.assign(src);
      else if (tf.tidy(() => tf.any(tf.notEqual(v, src)).dataSync()[0]) !== 0) throw new Error(`--decoder-from ${args['decoder-from']}: encoder parameter ${k} differs from ${args.eval}'s; the UNet's latents would not be its own`);
    }
    if (dm.latentScale !== em.latentScale) throw new Error(`--decoder-from: latent scales differ (${dm.latentScale} vs ${em.latentScale})`);
    disposeReducedSD(dm);
    const reconstruction = reconstructionRecord(em, ds);
    const q = measureBaseQuality(em, ds, qualityOptions);
    const { safetensors, config } = serializeReducedSD(em, {
      ...old,
      createdAt: new Date().toISOString(),
      command,
      gitCommit: gitHead(),
      autoencoder: { ...(old.autoencoder as object), decoder: { from: args['decoder-from'], command: dcfg.command, autoencoder: dcfg.autoencoder } },
      reconstruction,
      baseQuality: { ...q, command, measuredAt: new Date().toISOString() },
      baseQualityEarlier: old.baseQuality,
      splicedFrom: { model: { dir: args.eval, command: old.command }, decoder: { dir: args['decoder-from'], command: dcfg.command } },
    });
    writeFiles(args.out, [['model.safetensors', safetensors], ['config.json', JSON.stringify(config, null, 2) + '\n']]);
    log(`wrote ${args.out}: ${args.eval}'s model with the decoder of ${args['decoder-from']}`);
    return;
  }

  const cfg = defaultSDConfig(VOCAB.length, MAX_TOKENS);
  if (args['unet-ch']) cfg.unet.channels = args['unet-ch'].split(',').map(Number) as [number, number];
  if (args['ae-ch']) cfg.ae.channels = args['ae-ch'].split(',').map(Number);
  if (args['latent-ch']) cfg.ae.latentChannels = cfg.unet.latentChannels = Number(args['latent-ch']);
  if (args.patch) cfg.unet.patch = Number(args.patch);
  if (args['ae-full-res']) cfg.ae.fullResBlock = true;
  if (args['ae-patch']) cfg.ae.inputPatch = Number(args['ae-patch']);
  if (args['ae-blocks']) cfg.ae.blocks = Number(args['ae-blocks']);
  if (args['snr-shift']) cfg.unet.snrShift = Number(args['snr-shift']);
  if (args['unet-head']) cfg.unet.fullResHead = Number(args['unet-head']);
  if (args.resume && args['ae-from']) throw new Error('--resume continues a whole model; --ae-from starts a new UNet on an existing autoencoder: give one');
  // --ae-from DIR: a fresh text encoder and UNet on DIR's trained autoencoder (its weights, config and latent scale).
  const aeSource = args['ae-from'] ? (JSON.parse(fs.readFileSync(path.join(args['ae-from'], 'config.json'), 'utf8')) as Record<string, unknown>) : null;
  let aeSourceModel: ReducedSD | null = null;
  if (aeSource) {
    aeSourceModel = loadReducedSD(new Uint8Array(fs.readFileSync(path.join(args['ae-from']!, 'model.safetensors'))), aeSource, 'aesource');
    cfg.ae = aeSourceModel.config.ae;
    cfg.unet.latentChannels = cfg.ae.latentChannels;
  }
  cfg.unet.latentSize = latentSize(cfg.ae);
  const prev = args.resume ? (JSON.parse(fs.readFileSync(path.join(args.resume, 'config.json'), 'utf8')) as Record<string, unknown>) : null;
  const m: ReducedSD = prev ? loadReducedSD(new Uint8Array(fs.readFileSync(path.join(args.resume!, 'model.safetensors'))), prev, 'base') : initReducedSD('base', cfg, seed);
  if (prev) log(`continuing the UNet of ${args.resume} (${String(prev.command)}), latentScale ${m.latentScale}`);
  if (aeSourceModel) {
    for (const [k, v] of Object.entries(m.ae)) {
      const src = aeSourceModel.ae[k.replace(/^base\//, 'aesource/')];
      if (!src) throw new Error(`--ae-from ${args['ae-from']}: its autoencoder has no parameter ${k}`);
      v.assign(src);
    }
    m.latentScale = aeSourceModel.latentScale;
    disposeReducedSD(aeSourceModel);
    log(`autoencoder from ${args['ae-from']} (${String(aeSource!.command)}), latentScale ${m.latentScale}; new text encoder and UNet`);
  }
  // --ae-init DIR: the autoencoder starts from DIR's weights and is trained again (all of it, or its decoder only).
  if (args['ae-init']) {
    if (prev || aeSource) throw new Error('--ae-init trains an autoencoder; it does not go with --resume or --ae-from');
    const icfg = JSON.parse(fs.readFileSync(path.join(args['ae-init'], 'config.json'), 'utf8')) as Record<string, unknown>;
    const im = loadReducedSD(new Uint8Array(fs.readFileSync(path.join(args['ae-init'], 'model.safetensors'))), icfg, 'aeinit');
    if (JSON.stringify(im.config.ae) !== JSON.stringify(m.config.ae)) throw new Error(`--ae-init ${args['ae-init']}: its autoencoder ${JSON.stringify(im.config.ae)} differs from the one asked for ${JSON.stringify(m.config.ae)}; give the same --ae-ch/--latent-ch/…`);
    for (const [k, v] of Object.entries(m.ae)) v.assign(im.ae[k.replace(/^base\//, 'aeinit/')]);
    m.latentScale = im.latentScale;
    disposeReducedSD(im);
    log(`autoencoder starts from ${args['ae-init']} (${String(icfg.command)})${args['ae-decoder-only'] ? '; only its decoder trains' : ''}`);
  }
  if (args['ae-decoder-only'] && !args['ae-init']) throw new Error('--ae-decoder-only needs --ae-init DIR (a trained encoder to keep)');
  const aeIdeal = Number(args['ae-ideal']);
  if (!(aeIdeal >= 0 && aeIdeal <= 1)) throw new Error(`--ae-ideal ${args['ae-ideal']}: give a share of each batch between 0 and 1`);
  const aeExtra = aeIdeal > 0 ? { ...idealImages(data.prompts), fraction: aeIdeal } : undefined;
  if (aeExtra) log(`autoencoder batches: ${(100 * aeIdeal).toFixed(0)} % ideal renders of the ${aeExtra.count} distinct training prompts`);
  const aeDone = prev ?? aeSource;
  const counts = paramCounts(m);
  const latentLen = m.config.unet.latentSize ** 2 * m.config.unet.latentChannels;
  log(`parameters: ae ${counts.ae.toLocaleString()}, text ${counts.text.toLocaleString()}, unet ${counts.unet.toLocaleString()}, total ${counts.total.toLocaleString()}; latents ${m.config.unet.latentSize}×${m.config.unet.latentSize}×${m.config.unet.latentChannels}`);

  const rng = new Rng(seed).fork('pretrain');
  const aeRng = rng.fork('ae'), unetRng = rng.fork('unet');
  const sched = scheduleFor(m.config.unet);
  const ae = makeAETrainer(m, aeLr, aeLoss, { decoderOnly: args['ae-decoder-only'] });
  const dt = makeDiffusionTrainer(m, sched, lr);
  let latents = new Float32Array(data.count * latentLen);

  if (args.measure) {
    const fns: Array<[string, (i: number) => tf.Scalar, number]> = [
      ['autoencoder', (i) => ae.step(aeBatchAt(data, aeRng, i, AEB, aeExtra)), AEB],
      ['text+unet', (i) => dt.step(diffusionBatchAt(data, latents, latentLen, MAX_TOKENS, sched.T, unetRng, i, B, PROMPT_DROPOUT)), B],
    ];
    for (const [name, f, batch] of fns) {
      f(0).dispose();
      const t0 = performance.now();
      for (let i = 1; i <= 5; i++) { const l = f(i); l.dataSync(); l.dispose(); }
      log(`${name}: ${((performance.now() - t0) / 5).toFixed(0)} ms per training step (batch ${batch})`);
    }
    return;
  }

  // ---- resumable state ----
  const signature = JSON.stringify({ seed, dataSeed, quick, B, AEB, aeSteps, unetSteps, lr, aeLr, aeLoss, sd: m.config, resume: args.resume ?? null, ...(aeSource ? { aeFrom: args['ae-from'] } : {}), ...(args['ae-init'] ? { aeInit: args['ae-init'], decoderOnly: args['ae-decoder-only'] } : {}), ...(aeExtra ? { aeIdeal } : {}) });
  const state: PretrainState = parseState(fs.existsSync(path.join(ckptDir, 'state.json')) ? fs.readFileSync(path.join(ckptDir, 'state.json'), 'utf8') : null, signature, ckptDir) ?? {
    signature,
    stage: aeDone ? 'unet' : 'ae',
    ae: { step: 0, seconds: 0, curve: [] },
    unet: { step: 0, seconds: 0, curve: [] },
    latentScale: m.latentScale,
    extra: {},
  };
  const resumed = state.ae.step > 0 || state.unet.step > 0;
  if (resumed) {
    await restoreCheckpoint(m, state.stage === 'ae' ? ae.optimizer : dt.optimizer, state, readIf(path.join(ckptDir, 'model.safetensors'))!, readIf(path.join(ckptDir, optimizerFile(state.stage))));
    log(`resumed from ${ckptDir}: stage ${state.stage}, autoencoder step ${state.ae.step}/${aeSteps}, UNet step ${state.unet.step}/${unetSteps}`);
  }
  const save = (opt: tf.Optimizer | null) => async () => writeFiles(ckptDir, await checkpointFiles(m, opt, state));

  // ---- autoencoder ----
  if (state.stage === 'ae') {
    await trainLoop('ae', aeSteps, state.ae, (i) => ae.step(aeBatchAt(data, aeRng, i, AEB, aeExtra)), (v) => ae.setLearningRate(v), aeLr, save(ae.optimizer));
  }
  ae.dispose();

  // ---- latent scale, the reconstruction table ----
  const raw = encodeAll(m, data);
  const stats = meanStd(raw);
  if (state.stage === 'ae') {
    if (!prev && !args['ae-decoder-only']) m.latentScale = 1 / stats.std; // a frozen encoder keeps its scale (and its latents)
    state.latentScale = m.latentScale;
    state.stage = 'unet';
    await save(null)();
  }
  latents = Float32Array.from(raw, (v) => v * m.latentScale);
  log(`latent std ${stats.std.toFixed(4)} (mean ${stats.mean.toFixed(4)}) → latentScale ${m.latentScale.toFixed(4)}`);
  const reconstruction = reconstructionRecord(m, ds);

  const aeRecord = aeDone
    ? { ...(aeDone.autoencoder as object), note: prev ? 'trained in the run this one continues (continuedFrom)' : `trained by ${String(aeSource!.command)} (--ae-from ${args['ae-from']})` }
    : { steps: aeSteps, batchSize: AEB, lr: aeLr, ...(args['ae-init'] ? { init: args['ae-init'], decoderOnly: args['ae-decoder-only'] } : {}), ...(aeExtra ? { idealShare: aeIdeal, idealImages: aeExtra.count } : {}), loss: `MSE + ${aeLoss.l1}·L1 + ${aeLoss.edge}·edge (mean |∇x − ∇y|)${aeLoss.energy ? ` + ${aeLoss.energy}·edge energy (mean |E(y)/E(x) − 1|)` : ''}${aeLoss.scaleEquivariance ? ` + ${aeLoss.scaleEquivariance}·scale equivariance (MSE + L1 of decode(pool z) vs pool x)` : ''} + 1e-4·latent L2`, finalLoss: state.ae.curve.at(-1)?.[1] ?? NaN, seconds: state.ae.seconds, latentStd: stats.std, lossCurve: state.ae.curve };
  const meta = (extra: Record<string, unknown>) => ({
    createdBy: 'npm run pretrain' + (quick ? ' -- --quick' : ''),
    createdAt: new Date().toISOString(),
    command,
    gitCommit: gitHead(),
    backend: `tfjs ${tf.version.tfjs} ${tf.getBackend()} (Node ${process.version}, single-threaded)`,
    dataset: { seed: dataSeed, trainPairs: ds.train.length, images: data.count, meanTrueUtility: data.meanUtility, note: 'winners and losers of every train pair (all generator outputs, mixed quality)' },
    parameters: counts,
    ...(prev ? { continuedFrom: { dir: args.resume, command: prev.command, gitCommit: prev.gitCommit } } : {}),
    autoencoder: aeRecord,
    reconstruction,
    ...extra,
  });
  if (args['ae-only']) {
    const { safetensors, config } = serializeReducedSD(m, meta({ note: 'autoencoder only (--ae-only): the text encoder and UNet are untrained' }));
    writeFiles(outDir, [['model.safetensors', safetensors], ['config.json', JSON.stringify(config, null, 2) + '\n']]);
    log(`wrote the autoencoder to ${outDir}`);
    return;
  }

  // ---- text encoder + UNet ----
  await trainLoop('unet', unetSteps, state.unet, (i) => dt.step(diffusionBatchAt(data, latents, latentLen, MAX_TOKENS, sched.T, unetRng, i, B, PROMPT_DROPOUT)), (v) => dt.setLearningRate(v), lr, save(dt.optimizer));
  dt.dispose();

  const baseQuality = measureBaseQuality(m, ds, qualityOptions);
  const wallSeconds = (performance.now() - wall0) / 1000;
  const { safetensors, config } = serializeReducedSD(
    m,
    meta({
      diffusion: { steps: unetSteps, batchSize: B, lr, lrSchedule: 'linear warm-up 100 steps, cosine to 10%', promptDropout: PROMPT_DROPOUT, finalLoss: state.unet.curve.at(-1)?.[1] ?? NaN, seconds: state.unet.seconds, lossCurve: state.unet.curve },
      trainingSeconds: state.ae.seconds + state.unet.seconds,
      lastSessionWallSeconds: wallSeconds,
      resumed,
      baseQuality,
    }),
  );
  writeFiles(outDir, [['model.safetensors', safetensors], ['config.json', JSON.stringify(config, null, 2) + '\n']]);
  state.stage = 'done';
  writeFiles(ckptDir, [['state.json', JSON.stringify(state, null, 2) + '\n']]);
  log(`wrote ${path.join(outDir, 'model.safetensors')} (${(safetensors.length / 1e6).toFixed(2)} MB) and config.json; training ${fmt(state.ae.seconds + state.unet.seconds)}, this session ${fmt(wallSeconds)}`);
}

/**
 * The reconstruction table (first 256 train pairs: winners, losers, the ideal renders of their
 * prompts; the issue's targets) and, beside it, the ideal renders of the held-out validation
 * prompts, which no autoencoder batch contains even with --ae-ideal.
 */
function reconstructionRecord(m: ReducedSD, ds: Dataset) {
  const recRows = measureReconstruction(alignmentImageSets(ds.train.slice(0, 256)), (ims) => aeRoundTrip(m, ims));
  const recTargets = reconstructionTargets(recRows);
  const heldOut = measureReconstruction([{ name: 'ideal, held-out prompts', prompts: ds.validationUnique, images: ds.validationUnique.map((p) => renderIdeal(p)) }], (ims) => aeRoundTrip(m, ims));
  log(`reconstruction (first 256 train pairs; last row: validationUnique prompts):\n${reconstructionMarkdown([...recRows, ...heldOut])}\n${recTargets.map((c) => `  ${c.met ? 'met ' : 'MISS'}  ${c.what}: ${c.value.toFixed(3)} (target ≥ ${c.target})`).join('\n')}`);
  return { dataSeed, pairs: Math.min(256, ds.train.length), rows: recRows, targets: recTargets, heldOutIdeal: { prompts: 'validationUnique', row: heldOut[0] } };
}

function gitHead(): string {
  try {
    return execSync('git rev-parse HEAD', { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

main().catch((e) => {
  if (e instanceof Stopped) {
    log(e.message);
    process.exit(0);
  }
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
