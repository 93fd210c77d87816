/**
 * npm run recorded-runs [-- --out public/recorded]
 *
 * Copies the recorded runs the README cites (src/core/recorded.ts RECORDED_SELECTION) into the page's
 * public folder, stripped of what the page does not read, and writes the gallery's manifest
 * (index.json: id, title, command, date, engine/backend, seeds, which issue/table). Run it again after
 * re-recording a run; the committed files are what the built site ships.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RECORDED_SELECTION, buildManifest, manifestEntry, stripResults, type RecordedEntry } from '../src/core/recorded';

function main(argv: string[]): number {
  let out = 'public/recorded';
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') out = argv[++i] ?? '';
    else throw new Error(`unknown option ${argv[i]}; usage: npm run recorded-runs [-- --out DIR]`);
  }
  if (!out) throw new Error('--out needs a directory');
  mkdirSync(out, { recursive: true });
  const entries: RecordedEntry[] = [];
  let total = 0;
  for (const sel of RECORDED_SELECTION) {
    const file = join(sel.dir, 'results.json');
    if (!existsSync(file)) throw new Error(`${file} does not exist (RECORDED_SELECTION names it)`);
    const raw = JSON.parse(readFileSync(file, 'utf8'));
    const text = JSON.stringify(stripResults(raw));
    writeFileSync(join(out, `${sel.id}.json`), text);
    const bytes = Buffer.byteLength(text);
    total += bytes;
    entries.push(manifestEntry(sel, raw, bytes));
    console.log(`${sel.id}: ${(readFileSync(file).length / 1e6).toFixed(2)} MB → ${(bytes / 1e6).toFixed(2)} MB`);
  }
  writeFileSync(join(out, 'index.json'), `${JSON.stringify(buildManifest(entries), null, 1)}\n`);
  console.log(`${entries.length} runs, ${(total / 1e6).toFixed(1)} MB in ${out}`);
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 2;
}
