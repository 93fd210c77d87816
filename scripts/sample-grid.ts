/**
 * `npm run sample-grid -- --models DIR[,DIR…] --out FILE.png [--prompts 8] [--seed 1234] [--steps 20] [--data-seed 0]`
 *
 * Side-by-side samples of several models on the same validationUnique prompts and the same noise
 * (`sampleImages`: image i starts from Rng(seed).fork('noise/'+i)), each at the guidance recorded
 * in its config.json (`baseQuality.guidance`), with a first row of the prompts' ideal renders.
 * Prints each row's mean true utility.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { initNodeBackend } from '../src/core/backend';
import { buildDataset, promptText, renderIdeal, tokenize } from '../src/core/world';
import { loadReducedSD } from '../src/core/model/checkpoint';
import { disposeReducedSD } from '../src/core/model/sd';
import { meanUtility } from '../src/core/model/reconstruction';
import { sampleImages } from '../src/core/diffusion/sample';
import { imageGridPng } from './png';

const { values: args } = parseArgs({
  options: {
    models: { type: 'string' },
    out: { type: 'string' },
    prompts: { type: 'string', default: '8' },
    seed: { type: 'string', default: '1234' },
    steps: { type: 'string', default: '20' },
    'data-seed': { type: 'string', default: '0' },
  },
});

async function main(): Promise<void> {
  if (!args.models || !args.out) throw new Error('usage: npm run sample-grid -- --models DIR[,DIR…] --out FILE.png');
  await initNodeBackend('wasm');
  const ds = buildDataset({ seed: Number(args['data-seed']), nTrainPairs: 0, nScorerTrain: 0, nScorerTest: 0, nHpsTrain: 0, nHpsTest: 0, nOodRaterPairs: 0 });
  const prompts = ds.validationUnique.slice(0, Number(args.prompts));
  const rows = [prompts.map(renderIdeal)];
  console.log(`columns: ${prompts.map(promptText).join(' | ')}`);
  console.log(`row 1: ideal renders (true utility 1.000)`);
  for (const dir of args.models.split(',')) {
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { baseQuality?: { guidance?: number } };
    const m = loadReducedSD(new Uint8Array(fs.readFileSync(path.join(dir, 'model.safetensors'))), cfg, `grid${rows.length}`);
    const guidance = cfg.baseQuality?.guidance ?? 5;
    const imgs = sampleImages(m, prompts.map((p) => tokenize(p)), { seed: Number(args.seed), steps: Number(args.steps), guidance });
    rows.push(imgs);
    console.log(`row ${rows.length}: ${dir} (guidance ${guidance}, DDIM ${args.steps}, noise seed ${args.seed}): mean true utility ${meanUtility(prompts, imgs).total.toFixed(3)}`);
    disposeReducedSD(m);
  }
  fs.writeFileSync(args.out, imageGridPng(rows));
  console.log(`wrote ${args.out}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
