/**
 * npm run train-scorers -- [--seed 1] [--pairs 4000] [--epochs 3] [--out public/models] [--dry]
 *
 * Trains the two shipped reward models from one seed (DESIGN §5):
 *   PickScore-mini on rater pool A (`scorerTrain`, tested on `scorerTest`),
 *   HPS-mini       on rater pool B (`hpsTrain`,    tested on `hpsTest`),
 * prints held-out accuracy next to the raters' own ceiling, the Spearman correlation of every
 * metric with the true preference over generator outputs on the validation prompts, and writes
 * `<out>/pickscore-mini/` and `<out>/hps-mini/` (model.safetensors + config.json).
 * `--pairs` sets how many rater pairs each scorer trains on (the world's pair stream continued
 * past the default dataset's 1000; the test pairs are the default dataset's own). Deterministic
 * for a given seed and options on the WASM backend. `--dry` trains but writes nothing.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../src/core/backend';
import { VOCAB, buildDataset } from '../src/core/world';
import { serializeScorer } from '../src/core/eval/scorer';
import { metricCorrelations, trainAndMeasure, type ScorerRun } from '../src/core/eval/trainScorers';

function parseArgs(argv: string[]) {
  const o = { seed: 1, pairs: 4000, epochs: 3, batch: 32, lr: 2e-3, out: 'public/models', dry: false };
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
    else if (a === '--out') o.out = argv[++i];
    else if (a === '--dry') o.dry = true;
    else throw new Error(`unknown option ${a}; usage: train-scorers [--seed N] [--pairs N] [--epochs N] [--batch N] [--lr X] [--out DIR] [--dry]`);
  }
  return o;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

async function main() {
  const o = parseArgs(process.argv.slice(2));
  await initNodeBackend('wasm');
  const t0 = Date.now();
  console.log(`building the dataset (seed ${o.seed}, ${o.pairs} training pairs per rater pool)…`);
  const ds = buildDataset({ seed: o.seed, nTrainPairs: 0, nScorerTrain: o.pairs, nHpsTrain: o.pairs, nOodRaterPairs: 0 });
  console.log(`  ${((Date.now() - t0) / 1000).toFixed(1)} s: scorerTrain ${ds.scorerTrain.length}, scorerTest ${ds.scorerTest.length}, hpsTrain ${ds.hpsTrain.length}, hpsTest ${ds.hpsTest.length}`);

  const train = async (name: 'pickscore-mini' | 'hps-mini', pool: 'A' | 'B'): Promise<ScorerRun> => {
    const [tr, te] = pool === 'A' ? [ds.scorerTrain, ds.scorerTest] : [ds.hpsTrain, ds.hpsTest];
    console.log(`training ${name} on pool ${pool}: ${tr.length} pairs, ${o.epochs} epochs, batch ${o.batch}, lr ${o.lr}, mirror augmentation`);
    const run = await trainAndMeasure(name, pool, tr, te, o.seed, {
      epochs: o.epochs,
      batchSize: o.batch,
      lr: o.lr,
      mirror: true,
      onEpoch: (e) => console.log(`  epoch ${e.epoch}: loss ${e.loss.toFixed(4)}, train acc (batches) ${pct(e.trainAcc)}, ${e.seconds.toFixed(0)} s`),
    });
    console.log(`  ${name}: held-out accuracy ${pct(run.testAccuracy)} vs ceiling ${pct(run.ceiling)} (gap ${(100 * (run.ceiling - run.testAccuracy)).toFixed(1)} points); train ${pct(run.trainAccuracy)}; ${run.steps} steps, ${run.seconds.toFixed(0)} s`);
    return run;
  };
  const ps = await train('pickscore-mini', 'A');
  const hps = await train('hps-mini', 'B');

  console.log(`rank correlation with the true preference (${ds.validationUnique.length} validation prompts × every generator × 2 renders)…`);
  const corr = await metricCorrelations(ds.validationUnique, { pickScore: ps.scorer, hps: hps.scorer }, o.seed, 2);
  console.log(`  n = ${corr.n}: ` + Object.entries(corr.rho).map(([k, v]) => `${k} ρ = ${v.toFixed(3)}`).join(', '));

  const wall = (Date.now() - t0) / 1000;
  console.log('\n| scorer | rater pool | train pairs | held-out pairs | held-out accuracy | ceiling | gap |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [run, pool, nTr, nTe] of [[ps, 'A', ds.scorerTrain.length, ds.scorerTest.length], [hps, 'B', ds.hpsTrain.length, ds.hpsTest.length]] as const) {
    console.log(`| ${run.scorer.name} | ${pool} | ${nTr} | ${nTe} | ${pct(run.testAccuracy)} | ${pct(run.ceiling)} | ${(100 * (run.ceiling - run.testAccuracy)).toFixed(1)} |`);
  }
  console.log(`\n| metric | Spearman ρ with true preference (n = ${corr.n}) |\n|---|---|`);
  for (const [k, v] of Object.entries(corr.rho)) console.log(`| ${k} | ${v.toFixed(3)} |`);
  console.log(`\ntotal wall time ${wall.toFixed(0)} s`);

  if (o.dry) {
    console.log('--dry: nothing written');
    return;
  }
  for (const [run, pool] of [[ps, 'A'], [hps, 'B']] as const) {
    const dir = join(o.out, run.scorer.name);
    mkdirSync(dir, { recursive: true });
    const { safetensors, config } = serializeScorer(run.scorer, VOCAB, {
      description: pool === 'A' ? 'PickScore-mini: dual encoder trained with the Bradley–Terry loss on rater pool A' : 'HPS-mini: the same recipe on rater pool B',
      raterPool: pool,
      testAccuracy: run.testAccuracy,
      trainAccuracy: run.trainAccuracy,
      ceiling: run.ceiling,
      seed: o.seed,
      trainPairs: pool === 'A' ? ds.scorerTrain.length : ds.hpsTrain.length,
      testPairs: pool === 'A' ? ds.scorerTest.length : ds.hpsTest.length,
      epochs: o.epochs,
      batchSize: o.batch,
      lr: o.lr,
      steps: run.steps,
      trainSeconds: Math.round(run.seconds),
      wallSeconds: Math.round(wall),
      backend: tf.getBackend(),
      spearmanWithTrueUtility: pool === 'A' ? corr.rho.pickScore : corr.rho.hps,
      command: `npm run train-scorers -- --seed ${o.seed} --pairs ${o.pairs} --epochs ${o.epochs} --batch ${o.batch} --lr ${o.lr}`,
    });
    writeFileSync(join(dir, 'model.safetensors'), safetensors);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    console.log(`wrote ${dir}/model.safetensors (${(safetensors.length / 1024).toFixed(0)} KiB) and config.json`);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
