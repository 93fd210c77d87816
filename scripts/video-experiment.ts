/**
 * The headless video runner (issue 17, the paper's Table 3):
 *
 *   npm run video-experiment -- --preset table3 --seed 0 --out runs/table3-seed0
 *   npm run video-experiment -- --preset table3 --sweep lr=1e-4,3e-4,1e-3 --out runs/table3-lr-sweep   (tuning split)
 *   npm run video-experiment -- --config FILE.json [--updates N] [--eval PxR] [--eval-seed N] [--motion FILE] [--features DIR]
 *
 * Writes results.json, features.json (when feature networks are found), metrics.csv (per update),
 * summary.md, samples.png (2 evaluation clips of every model, one row of frames per clip) and each
 * arm's trained LoRA adapters (lora-<i>.safetensors) to --out. Runs on Node WASM. Exits 2 with a message on a bad flag or config.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../src/core/backend';
import { loadReducedSD, saveSafetensors } from '../src/core/model/checkpoint';
import { toColumns } from '../src/core/eval/intervals';
import { parseVideoConfig, videoPresetConfig, VideoConfigError, type VideoConfig } from '../src/core/video/config';
import { VideoExperiment, type VideoFeatureScorer } from '../src/core/video/experiment';
import { frechetDeltas, videoSummaryMarkdown, type VideoFeatureFile, type VideoResults } from '../src/core/video/report';
import { frameOf } from '../src/core/video/world';
import { imageGridPng } from './png';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const DEFAULT_MOTION = path.join(ROOT, 'public/models/video-motion/motion.safetensors');
const DEFAULT_FEATURES = path.join(ROOT, 'public/models/video-features');

class UsageError extends Error {}

interface Args {
  preset: string | null;
  config: string | null;
  seed: number | null;
  updates: number | null;
  evalPxR: [number, number] | null;
  evalSeed: number | null;
  sweep: number[] | null;
  motion: string;
  features: string;
  base: string;
  out: string | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { preset: null, config: null, seed: null, updates: null, evalPxR: null, evalSeed: null, sweep: null, motion: DEFAULT_MOTION, features: DEFAULT_FEATURES, base: path.join(ROOT, 'public/models/base'), out: null };
  const intOf = (f: string, v: string | undefined) => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < 0) throw new UsageError(`${f}: expected a non-negative integer, got '${v}'`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i], v = argv[i + 1];
    const take = () => {
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${f}: a value is required`);
      i++;
      return v;
    };
    switch (f) {
      case '--preset': a.preset = take(); break;
      case '--config': a.config = take(); break;
      case '--seed': a.seed = intOf(f, take()); break;
      case '--updates': a.updates = intOf(f, take()); break;
      case '--eval-seed': a.evalSeed = intOf(f, take()); break;
      case '--motion': a.motion = path.resolve(take()); break;
      case '--features': a.features = path.resolve(take()); break;
      case '--base': a.base = path.resolve(take()); break;
      case '--out': a.out = path.resolve(take()); break;
      case '--eval': {
        const m = /^(\d+)x(\d+)$/.exec(take());
        if (!m) throw new UsageError(`--eval: expected PxR (prompts × noises), e.g. 64x2, got '${v}'`);
        a.evalPxR = [Number(m[1]), Number(m[2])];
        break;
      }
      case '--sweep': {
        const m = /^lr=(.+)$/.exec(take());
        const lrs = m ? m[1].split(',').map(Number) : [];
        if (!m || lrs.length === 0 || lrs.some((x) => !(x > 0 && x <= 1))) throw new UsageError(`--sweep: expected lr=A,B,… with learning rates in (0, 1], got '${v}'`);
        a.sweep = lrs;
        break;
      }
      case '--help':
        console.log(fs.readFileSync(new URL(import.meta.url), 'utf8').split('*/')[0]);
        process.exit(0);
      // falls through
      default:
        throw new UsageError(`unknown flag '${f}'; allowed: --preset, --config, --seed, --updates, --eval, --eval-seed, --sweep, --motion, --features, --base, --out, --help`);
    }
  }
  if (!a.preset === !a.config) throw new UsageError('give exactly one of --preset NAME or --config FILE.json');
  if (!a.out) throw new UsageError('--out DIR is required');
  return a;
}

function loadConfig(a: Args): VideoConfig {
  let c: VideoConfig;
  if (a.preset) c = videoPresetConfig(a.preset);
  else {
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(a.config!, 'utf8'));
    } catch (e) {
      throw new UsageError(`--config ${a.config}: ${e instanceof Error ? e.message : String(e)}`);
    }
    c = parseVideoConfig(raw);
  }
  const over: Record<string, unknown> = {};
  if (a.seed !== null) over.seed = a.seed;
  if (a.updates !== null) over.updates = a.updates;
  if (a.evalSeed !== null) over.evalSeed = a.evalSeed;
  if (a.evalPxR) [over.evalPrompts, over.evalNoises] = a.evalPxR;
  if (a.sweep) {
    over.arms = c.arms.flatMap((arm) => a.sweep!.map((lr) => ({ ...arm, name: `${arm.name} @ lr ${lr}`, lr })));
    over.evalSplit = 'tuning';
  }
  return parseVideoConfig({ ...c, ...over });
}

async function loadFeatures(dir: string): Promise<{ scorer: VideoFeatureScorer; label: string } | null> {
  const model = path.join(dir, 'model.safetensors');
  if (!fs.existsSync(model)) return null;
  // The feature networks' module (src/core/video/features.ts), typed by what this runner uses of it.
  const spec = '../src/core/video/features';
  const mod = (await import(spec)) as {
    loadVideoFeatureNets(bytes: Uint8Array, config: unknown, prefix: string): unknown;
    lpipsLike(nets: unknown, a: Float32Array, b: Float32Array, F: number): number;
    videoFeatureSets(nets: unknown, videos: Float32Array[], F: number): Promise<{ frame: Float32Array[]; clip: Float32Array[] }>;
  };
  const nets = mod.loadVideoFeatureNets(new Uint8Array(fs.readFileSync(model)), JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')), 'vfeat');
  return { scorer: { lpipsLike: (x, y, F) => mod.lpipsLike(nets, x, y, F), featureSets: (v, F) => mod.videoFeatureSets(nets, v, F) }, label: path.relative(ROOT, dir) };
}

const round = (xs: Float32Array[]) => xs.map((x) => Array.from(x, (v) => Math.round(v * 1e4) / 1e4));

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const config = loadConfig(a);
  if (!fs.existsSync(a.motion)) throw new UsageError(`--motion ${a.motion}: not found (pretrain with npm run pretrain-video, or ship public/models/video-motion)`);
  await initNodeBackend('wasm');
  const sd = loadReducedSD(new Uint8Array(fs.readFileSync(path.join(a.base, 'model.safetensors'))), JSON.parse(fs.readFileSync(path.join(a.base, 'config.json'), 'utf8')), 'base');
  const t0 = Date.now();
  const log = (s: string) => console.log(s);
  const e = new VideoExperiment({ sd, motionBytes: new Uint8Array(fs.readFileSync(a.motion)), config, features: null, log });
  log(`${e.dataset.train.length} training pairs (dataset seed ${config.dataSeed}), ${config.arms.length} arms, ${config.updates} updates`);
  while (e.update < config.updates) {
    await e.step();
    log(`update ${e.update}/${config.updates} [${((Date.now() - t0) / 1000).toFixed(1)} s] | ${e.arms.map((x) => { const u = x.updates[x.updates.length - 1]; return u ? `${x.cfg.name}: loss ${u.loss.toFixed(4)}${Number.isNaN(u.aafRate) ? '' : ` aaf ${u.aafRate.toFixed(2)}`} (${u.ms} ms)` : `${x.cfg.name}: halted`; }).join(' | ')}`);
  }
  const feats = await loadFeatures(a.features); // read now, not at the start: a long run may outlive a feature-network update
  const fin = await e.finalEval((name) => log(`final evaluation of ${name} on ${config.evalPrompts * config.evalNoises} clips`), feats?.scorer ?? null);
  const results: VideoResults = {
    kind: 'video',
    config,
    date: new Date().toISOString().slice(0, 10),
    wallS: (Date.now() - t0) / 1000,
    backend: `Node ${process.version} ${tf.getBackend()}`,
    motion: path.relative(ROOT, a.motion),
    features: feats?.label ?? null,
    arms: e.arms.map((x) => ({ name: x.cfg.name, halted: x.halted, updates: x.updates, checkpoints: x.checkpoints })),
    final: { prompts: fin.prompts, models: fin.models.map((m) => ({ name: m.name, columns: toColumns(m.clips as never), fid: m.fid, fvd: m.fvd, ...(m.vsRaw ? { vsRaw: m.vsRaw } : {}) })) },
  };
  fs.mkdirSync(a.out!, { recursive: true });
  let fidDelta;
  if (fin.idealFeatures && fin.models.every((m) => m.frameFeatures && m.clipFeatures)) {
    const idealSets = fin.idealFeatures;
    const file: VideoFeatureFile = { ideal: { frame: round(idealSets.frame), clip: round(idealSets.clip) }, models: Object.fromEntries(fin.models.map((m) => [m.name, { frame: round(m.frameFeatures!), clip: round(m.clipFeatures!) }])) };
    fs.writeFileSync(path.join(a.out!, 'features.json'), JSON.stringify(file));
    fidDelta = frechetDeltas(file, fin.models.map((m) => m.name), config.frames);
  }
  fs.writeFileSync(path.join(a.out!, 'results.json'), JSON.stringify(results, null, 1) + '\n');
  fs.writeFileSync(path.join(a.out!, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  const csv = ['arm,update,loss,aafRate,implicitAcc,refK,ms', ...e.arms.flatMap((x) => x.updates.map((u) => [JSON.stringify(x.cfg.name), u.update, u.loss, u.aafRate, u.implicitAcc, u.refK, u.ms].join(',')))];
  fs.writeFileSync(path.join(a.out!, 'metrics.csv'), csv.join('\n') + '\n');
  fs.writeFileSync(path.join(a.out!, 'summary.md'), videoSummaryMarkdown(results, fidDelta));
  const rows = Object.values(fin.samples).flatMap((clips) => clips.slice(0, 2).map((c) => Array.from({ length: config.frames }, (_, f) => frameOf(c, f))));
  fs.writeFileSync(path.join(a.out!, 'samples.png'), imageGridPng(rows, 32, 2));
  // The arms' trained adapters (small: LoRA A and B only), so a run can be evaluated again later.
  e.arms.forEach((x, i) => fs.writeFileSync(path.join(a.out!, `lora-${i}.safetensors`), saveSafetensors(x.video.lora!.params, { format: 'seppo-lora/1', arm: x.cfg.name, rank: String(config.loraRank) }, x.video.lora!.prefix)));
  e.dispose();
  log(`wrote ${a.out}/results.json, summary.md, metrics.csv, samples.png${fidDelta ? ', features.json' : ''} (total wall time ${results.wallS.toFixed(1)} s; tensors alive ${tf.memory().numTensors})`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(err instanceof UsageError || err instanceof VideoConfigError ? 2 : 1);
});
