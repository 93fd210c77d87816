/**
 * npm run separation -- RUN_DIR ARM_A ARM_B [--metric trueUtility] [--out FILE.md]
 *
 * Time to visible separation (issue 13, point 6): for one run (results.json written by
 * `npm run experiment` with keepPerImage and/or a final evaluation) and two named arms (either may
 * be `base`), each arm's Δ against the base with its 95 % paired t-interval at every checkpoint,
 * the first checkpoint at which the two intervals no longer overlap, and the paired interval of
 * A − B on the same images (core/align/protocolReport.ts). Exit 2 with a message on bad input.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { separation, separationMarkdown } from '../src/core/align/protocolReport';
import type { RunResults } from '../src/core/align/records';

const USAGE = 'usage: npm run separation -- RUN_DIR ARM_A ARM_B [--metric trueUtility] [--out FILE.md]   (an arm may be "base")';

function main(argv: string[]): number {
  const pos: string[] = [];
  let metric = 'trueUtility';
  let out: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--metric') metric = argv[++i] ?? '';
    else if (argv[i] === '--out') out = argv[++i] ?? null;
    else if (argv[i].startsWith('--')) throw new Error(`unknown option ${argv[i]}; ${USAGE}`);
    else pos.push(argv[i]);
  }
  if (pos.length !== 3 || !metric) throw new Error(USAGE);
  const [dir, a, b] = pos;
  const file = join(dir, 'results.json');
  let r: RunResults;
  try {
    r = JSON.parse(readFileSync(file, 'utf8')) as RunResults;
  } catch (e) {
    throw new Error(`${file}: cannot read it (${e instanceof Error ? e.message : String(e)})`);
  }
  const md = separationMarkdown(separation(r, a, b, metric));
  console.log(md);
  if (out) writeFileSync(out, md);
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 2;
}
