/**
 * npm run train-scorers -- [--seed 1] [--pairs 128000] [--epochs 2] [--batch 64] [--lr 0.003]
 *                          [--test-pairs 2000] [--noise X] [--channels 16,32,64] [--image-hidden 256]
 *                          [--text-hidden 128] [--embed 128] [--out public/models]
 *                          [--only pickscore-mini|hps-mini] [--report] [--dry]
 *
 * Trains the two shipped reward models from one seed (DESIGN §5):
 *   PickScore-mini on rater pool A (`scorerTrain`, tested on `scorerTest`),
 *   HPS-mini       on rater pool B (`hpsTrain`,    tested on `hpsTest`),
 * prints held-out accuracy next to the raters' own ceiling (overall and by utility gap), the
 * Spearman correlation of every metric with the true preference over generator outputs on the
 * validation prompts, and writes `<out>/pickscore-mini/` and `<out>/hps-mini/`
 * (model.safetensors + config.json). The defaults are the shipped scorers' recipe.
 *
 * `--pairs` sets how many rater pairs each scorer trains on (the world's pair stream continued
 * past the default dataset's 1000). `--test-pairs` sets the held-out pairs (over the 128 held-out
 * prompts); the stream is continued past the default dataset's 300, which are also reported on
 * their own. `--channels/--image-hidden/--text-hidden/--embed` set the architecture.
 * `--only NAME` trains and writes one scorer (the two are independent: running both `--only`
 * at once gives the same files as one full run, in less wall time on a busy machine);
 * `--report` loads both written scorers and prints/records the correlations (also over the base
 * model's own samples when `<out>/base/` holds it).
 * Deterministic for a given seed and options on the WASM backend. `--dry` writes nothing.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../src/core/backend';
import { MAX_TOKENS, VOCAB, buildDataset, type Dataset } from '../src/core/world';
import { defaultScorerConfig, scorePairs, type Scorer, type ScorerConfig } from '../src/core/eval/scorer';
import { loadScorer, serializeScorer } from '../src/core/eval/scorerFile';
import { gapBreakdown, gapTotals, metricCorrelations, modelSampleCorrelations, toScorerPairs, trainAndMeasure, type GapAccuracy, type ScorerRun } from '../src/core/eval/trainScorers';
import { loadReducedSD } from '../src/core/model/checkpoint';
import { disposeReducedSD } from '../src/core/model/sd';

type Name = 'pickscore-mini' | 'hps-mini';
const POOL: Record<Name, 'A' | 'B'> = { 'pickscore-mini': 'A', 'hps-mini': 'B' };

function parseArgs(argv: string[]) {
  const o = {
    seed: 1, pairs: 128000, epochs: 2, batch: 64, lr: 3e-3, testPairs: 2000, noise: 0, out: 'public/models', dry: false, only: null as Name | null, report: false,
    arch: {} as Partial<ScorerConfig>,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (name: string) => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} needs a positive number, got ${argv[i]}`);
      return v;
    };
    if (a === '--seed') o.seed = num(a);
    else if (a === '--pairs') o.pairs = Math.round(num(a));
    else if (a === '--epochs') o.epochs = Math.round(num(a));
    else if (a === '--batch') o.batch = Math.round(num(a));
    else if (a === '--lr') o.lr = num(a);
    else if (a === '--test-pairs') o.testPairs = Math.round(num(a));
    else if (a === '--noise') o.noise = num(a);
    else if (a === '--channels') {
      const cs = (argv[++i] ?? '').split(',').map(Number);
      if (cs.length === 0 || cs.some((c) => !Number.isInteger(c) || c <= 0)) throw new Error(`--channels takes positive integers separated by commas, e.g. 8,16,32; got ${argv[i]}`);
      o.arch.channels = cs;
    } else if (a === '--image-hidden') o.arch.imageHidden = Math.round(num(a));
    else if (a === '--text-hidden') o.arch.textHidden = Math.round(num(a));
    else if (a === '--embed') o.arch.embedDim = Math.round(num(a));
    else if (a === '--out') o.out = argv[++i];
    else if (a === '--dry') o.dry = true;
    else if (a === '--report') o.report = true;
    else if (a === '--only') {
      const n = argv[++i];
      if (n !== 'pickscore-mini' && n !== 'hps-mini') throw new Error(`--only takes pickscore-mini or hps-mini, got ${n}`);
      o.only = n;
    } else throw new Error(`unknown option ${a}; usage: train-scorers [--seed N] [--pairs N] [--epochs N] [--batch N] [--lr X] [--test-pairs N] [--noise X] [--channels A,B,C] [--image-hidden N] [--text-hidden N] [--embed N] [--out DIR] [--only NAME] [--report] [--dry]`);
  }
  return o;
}
type Opts = ReturnType<typeof parseArgs>;

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function dataset(o: Opts, names: Name[]): Dataset {
  const t0 = Date.now();
  const n = (name: Name) => (names.includes(name) ? o.pairs : 0);
  console.log(`building the dataset (seed ${o.seed}, ${o.pairs} training pairs per rater pool)…`);
  // The splits come from independent streams: pair counts of one split never change another.
  // --test-pairs continues the held-out pair streams: the first 300 are the default dataset's own.
  const ds = buildDataset({ seed: o.seed, nTrainPairs: 0, nScorerTrain: n('pickscore-mini'), nHpsTrain: n('hps-mini'), nOodRaterPairs: 0, nScorerTest: o.testPairs, nHpsTest: o.testPairs });
  console.log(`  ${((Date.now() - t0) / 1000).toFixed(1)} s: scorerTrain ${ds.scorerTrain.length}, scorerTest ${ds.scorerTest.length}, hpsTrain ${ds.hpsTrain.length}, hpsTest ${ds.hpsTest.length}`);
  return ds;
}

async function train(o: Opts, ds: Dataset, name: Name): Promise<ScorerRun> {
  const pool = POOL[name];
  const [tr, te] = pool === 'A' ? [ds.scorerTrain, ds.scorerTest] : [ds.hpsTrain, ds.hpsTest];
  const arch = { ...defaultScorerConfig(VOCAB.length, MAX_TOKENS), ...o.arch };
  console.log(`training ${name} on pool ${pool}: ${tr.length} pairs, ${o.epochs} epochs, batch ${o.batch}, lr ${o.lr} (cosine), mirror augmentation${o.noise ? `, pixel noise ${o.noise}` : ''}; channels ${arch.channels.join(',')}, image hidden ${arch.imageHidden}, text hidden ${arch.textHidden}, embed ${arch.embedDim}`);
  const cpu0 = cpuSeconds();
  const run = await trainAndMeasure(name, pool, tr, te, o.seed, {
    epochs: o.epochs,
    batchSize: o.batch,
    lr: o.lr,
    mirror: true,
    augmentNoise: o.noise || undefined,
    config: o.arch,
    validateEachEpoch: true,
    onEpoch: (e) => console.log(`  epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, train acc (batches) ${pct(e.trainAcc)}, held-out ${pct(e.valAcc!)}, ${e.seconds.toFixed(0)} s wall, ${(cpuSeconds() - cpu0).toFixed(0)} s CPU`),
  });
  const { sw, sl } = await scorePairs(run.scorer, toScorerPairs(te)); // scored once, read for both tables
  const byGap = gapBreakdown(te, sw, sl, pool);
  printByGap(byGap);
  const first300 = te.length > 300 ? gapBreakdown(te.slice(0, 300), sw.subarray(0, 300), sl.subarray(0, 300), pool) : byGap;
  const d300 = gapTotals(first300);
  if (te.length > 300) console.log(`  on the default dataset's 300 held-out pairs: ${pct(d300.accuracy)} vs ceiling ${pct(d300.ceiling)}`);
  const cpu = cpuSeconds() - cpu0;
  console.log(`  ${name}: held-out accuracy ${pct(run.testAccuracy)} vs ceiling ${pct(run.ceiling)} (gap ${(100 * (run.ceiling - run.testAccuracy)).toFixed(1)} points); train ${pct(run.trainAccuracy)}; ${run.steps} steps, ${run.seconds.toFixed(0)} s wall, ${cpu.toFixed(0)} s CPU`);
  if (!o.dry) {
    const dir = join(o.out, name);
    mkdirSync(dir, { recursive: true });
    const { safetensors, config } = serializeScorer(run.scorer, VOCAB, {
      description: pool === 'A' ? 'PickScore-mini: dual encoder trained with the Bradley–Terry loss on rater pool A' : 'HPS-mini: the same recipe on rater pool B',
      raterPool: pool,
      testAccuracy: run.testAccuracy,
      trainAccuracy: run.trainAccuracy,
      ceiling: run.ceiling,
      accuracyByGap: byGap,
      defaultTestSet: d300,
      seed: o.seed,
      trainPairs: tr.length,
      testPairs: te.length,
      epochs: o.epochs,
      batchSize: o.batch,
      lr: o.lr,
      augmentNoise: o.noise,
      steps: run.steps,
      trainWallSeconds: Math.round(run.seconds),
      trainCpuSeconds: Math.round(cpu),
      backend: tf.getBackend(),
      command:
        `npm run train-scorers -- --seed ${o.seed} --pairs ${o.pairs} --epochs ${o.epochs} --batch ${o.batch} --lr ${o.lr} --test-pairs ${o.testPairs}` +
        `${o.noise ? ` --noise ${o.noise}` : ''} --channels ${arch.channels.join(',')} --image-hidden ${arch.imageHidden} --text-hidden ${arch.textHidden} --embed ${arch.embedDim}`,
    });
    writeFileSync(join(dir, 'model.safetensors'), safetensors);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    console.log(`  wrote ${dir}/model.safetensors (${(safetensors.length / 1024).toFixed(0)} KiB) and config.json`);
  }
  return run;
}

function printByGap(bins: GapAccuracy[]) {
  console.log('  | pool-utility gap | pairs | scorer accuracy | rater ceiling |\n  |---|---|---|---|');
  for (const b of bins) console.log(`  | ${b.lo.toFixed(2)}–${b.hi.toFixed(2)} | ${b.n} | ${b.n ? pct(b.accuracy) : '—'} | ${b.n ? pct(b.ceiling) : '—'} |`);
}

/** Correlations of every metric with the true preference; recorded in both config.json files unless --dry. */
async function report(o: Opts, ds: Dataset, scorers: Record<Name, Scorer>) {
  console.log(`rank correlation with the true preference (${ds.validationUnique.length} validation prompts × every generator × 4 renders)…`);
  const corr = await metricCorrelations(ds.validationUnique, { pickScore: scorers['pickscore-mini'], hps: scorers['hps-mini'] }, o.seed, 4);
  console.log(`\n| metric | Spearman ρ with true preference, all ${corr.n} images | mean ρ within a prompt (${corr.perPrompt} images each) |\n|---|---|---|`);
  for (const k of Object.keys(corr.pooled) as Array<keyof typeof corr.pooled>) console.log(`| ${k} | ${corr.pooled[k].toFixed(3)} | ${corr.withinPrompt[k].toFixed(3)} |`);
  // The same over the shipped base model's own samples, when it is there (distribution shift).
  let onBase: Awaited<ReturnType<typeof modelSampleCorrelations>> | null = null;
  const baseDir = join(o.out, 'base');
  if (existsSync(join(baseDir, 'model.safetensors'))) {
    const base = loadReducedSD(new Uint8Array(readFileSync(join(baseDir, 'model.safetensors'))), JSON.parse(readFileSync(join(baseDir, 'config.json'), 'utf8')), 'report-base');
    const sampling = { seed: o.seed, steps: 20, guidance: 5, batchSize: 32 };
    console.log(`\nthe base model's own samples: 16 validation prompts × 8 noises, DDIM ${sampling.steps} steps, guidance ${sampling.guidance}…`);
    onBase = await modelSampleCorrelations(base, ds.validationUnique.slice(0, 16), 8, sampling, { pickScore: scorers['pickscore-mini'], hps: scorers['hps-mini'] });
    disposeReducedSD(base);
    console.log(`\n| metric | base-model mean | Spearman ρ, all ${onBase.n} samples | mean ρ within a prompt (${onBase.perPrompt} each) |\n|---|---|---|---|`);
    for (const k of Object.keys(onBase.pooled) as Array<keyof typeof onBase.pooled>) {
      console.log(`| ${k} | ${onBase.mean[k].toFixed(3)} | ${onBase.pooled[k].toFixed(3)} | ${onBase.withinPrompt[k].toFixed(3)} |`);
    }
    console.log(`| trueUtility | ${onBase.mean.trueUtility.toFixed(3)} | 1 | 1 |`);
  } else {
    console.log(`(no base model at ${baseDir}: skipping the correlations over its samples)`);
  }
  if (o.dry) return;
  for (const name of ['pickscore-mini', 'hps-mini'] as const) {
    const file = join(o.out, name, 'config.json');
    const cfg = JSON.parse(readFileSync(file, 'utf8'));
    cfg.spearmanWithTrueUtility = { n: corr.n, perPrompt: corr.perPrompt, pooled: corr.pooled, withinPrompt: corr.withinPrompt };
    if (onBase) cfg.spearmanOnBaseModelSamples = { n: onBase.n, perPrompt: onBase.perPrompt, pooled: onBase.pooled, withinPrompt: onBase.withinPrompt };
    writeFileSync(file, JSON.stringify(cfg, null, 2) + '\n');
  }
}

function loadShipped(o: Opts, name: Name): Scorer {
  const dir = join(o.out, name);
  const bytes = new Uint8Array(readFileSync(join(dir, 'model.safetensors')));
  return loadScorer(bytes, JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), name, VOCAB);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  await initNodeBackend('wasm');
  const t0 = Date.now();
  if (o.report) {
    const ds = dataset(o, []);
    await report(o, ds, { 'pickscore-mini': loadShipped(o, 'pickscore-mini'), 'hps-mini': loadShipped(o, 'hps-mini') });
  } else if (o.only) {
    await train(o, dataset(o, [o.only]), o.only);
  } else {
    const ds = dataset(o, ['pickscore-mini', 'hps-mini']);
    const ps = await train(o, ds, 'pickscore-mini');
    const hps = await train(o, ds, 'hps-mini');
    console.log('\n| scorer | rater pool | train pairs | held-out pairs | held-out accuracy | ceiling | gap (points) |');
    console.log('|---|---|---|---|---|---|---|');
    for (const [run, pool, nTr, nTe] of [[ps, 'A', ds.scorerTrain.length, ds.scorerTest.length], [hps, 'B', ds.hpsTrain.length, ds.hpsTest.length]] as const) {
      console.log(`| ${run.scorer.name} | ${pool} | ${nTr} | ${nTe} | ${pct(run.testAccuracy)} | ${pct(run.ceiling)} | ${(100 * (run.ceiling - run.testAccuracy)).toFixed(1)} |`);
    }
    await report(o, ds, { 'pickscore-mini': ps.scorer, 'hps-mini': hps.scorer });
  }
  console.log(`\ntotal: ${((Date.now() - t0) / 1000).toFixed(0)} s wall, ${cpuSeconds().toFixed(0)} s CPU`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
