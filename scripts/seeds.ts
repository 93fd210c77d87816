/**
 * npm run seeds -- RUN_DIR RUN_DIR … [--out FILE.md]
 *
 * Reads results.json from each run folder (one preset, several `--seed`s, written by
 * `npm run experiment`) and prints the arms side by side over the seeds: per-seed and pooled win
 * rates against the base with 95 % intervals, and the change in true preference
 * (core/align/report.ts, seedsSummaryMarkdown), and, where every run has them, the same pooled over
 * the out-of-distribution final evaluations (--final-eval-ood; Table 2). Exits with 2 and a message on a missing folder,
 * an unreadable results.json or runs that are not the same preset.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seedsSummaryMarkdown, type ExperimentResults } from '../src/core/align/report';

function main(argv: string[]): number {
  const dirs: string[] = [];
  let out: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') {
      out = argv[++i] ?? null;
      if (!out) throw new Error('--out: a file name is required');
    } else if (argv[i].startsWith('--')) throw new Error(`unknown option ${argv[i]}; usage: npm run seeds -- RUN_DIR RUN_DIR … [--out FILE.md]`);
    else dirs.push(argv[i]);
  }
  if (dirs.length === 0) throw new Error('usage: npm run seeds -- RUN_DIR RUN_DIR … [--out FILE.md] (folders written by npm run experiment)');
  const runs = dirs.map((d) => {
    const file = join(d, 'results.json');
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new Error(`${file}: not found (is ${d} a folder written by npm run experiment?)`);
    }
    try {
      return JSON.parse(text) as ExperimentResults;
    } catch (e) {
      throw new Error(`${file}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
    }
  });
  const md = seedsSummaryMarkdown(runs);
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
