/**
 * `npm run ae-quality [-- --model DIR] [-- --pairs N] [-- --data-seed S] [-- --write]`
 *
 * The decoder's ceiling: true utility of the alignment winners, losers and the ideal renders of
 * their prompts, before and after encode → decode through a model's autoencoder, part by part
 * (src/core/model/reconstruction.ts), with the targets. `--write` stores the table in the
 * model's config.json under `reconstruction`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { initNodeBackend } from '../src/core/backend';
import { buildDataset } from '../src/core/world';
import { loadReducedSD } from '../src/core/model/checkpoint';
import { alignmentImageSets, aeRoundTrip, measureReconstruction, reconstructionMarkdown, reconstructionTargets } from '../src/core/model/reconstruction';

const { values: args } = parseArgs({
  options: {
    model: { type: 'string', default: 'public/models/base' },
    pairs: { type: 'string', default: '256' },
    'data-seed': { type: 'string', default: '0' },
    write: { type: 'boolean', default: false },
  },
});

async function main(): Promise<void> {
  await initNodeBackend('wasm');
  const dir = path.resolve(args.model!);
  const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  const m = loadReducedSD(new Uint8Array(fs.readFileSync(path.join(dir, 'model.safetensors'))), cfg, 'base');
  const dataSeed = Number(args['data-seed']);
  const nPairs = Number(args.pairs);
  const ds = buildDataset({ seed: dataSeed });
  const sets = alignmentImageSets(ds.train.slice(0, nPairs));
  const rows = measureReconstruction(sets, (ims) => aeRoundTrip(m, ims));
  const checks = reconstructionTargets(rows);
  console.log(`Reconstruction through ${dir} (first ${nPairs} train pairs of dataset seed ${dataSeed}):\n`);
  console.log(reconstructionMarkdown(rows));
  console.log('\nTargets:');
  for (const c of checks) console.log(`  ${c.met ? 'met ' : 'MISS'}  ${c.what}: ${c.value.toFixed(3)} (target ≥ ${c.target})`);
  if (args.write) {
    const updated = { ...cfg, reconstruction: { dataSeed, pairs: nPairs, command: `npm run ae-quality -- ${process.argv.slice(2).join(' ')}`, measuredAt: new Date().toISOString(), rows, targets: checks } };
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(updated, null, 2) + '\n');
    console.log(`\nwrote the table into ${path.join(dir, 'config.json')}`);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
