/**
 * npm run video-seeds -- RUN_DIR RUN_DIR … [--out FILE.md]
 *
 * Pools the final evaluations of several seeds of one video config (folders written by
 * `npm run video-experiment`): every model's per-clip metrics over all seeds' paired clips, compared
 * with the raw model (Wilson win rate, paired-t Δ), and FID-/FVD-like over the pooled clips with a
 * paired bootstrap when every run has features.json (core/video/report.ts, videoSeedsMarkdown).
 * Exits 2 with a message on a missing folder, unreadable JSON or runs with different models.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { videoSeedsMarkdown, type VideoFeatureFile, type VideoResults } from '../src/core/video/report';

function readJson<T>(file: string, what: string): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`${file}: not found (${what})`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

function main(argv: string[]): void {
  const dirs: string[] = [];
  let out: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') {
      out = argv[++i] ?? null;
      if (!out) throw new Error('--out: a file name is required');
    } else if (argv[i].startsWith('--')) throw new Error(`unknown option ${argv[i]}; usage: npm run video-seeds -- RUN_DIR RUN_DIR … [--out FILE.md]`);
    else dirs.push(argv[i]);
  }
  if (dirs.length === 0) throw new Error('usage: npm run video-seeds -- RUN_DIR RUN_DIR … [--out FILE.md] (folders written by npm run video-experiment)');
  const runs = dirs.map((d) => readJson<VideoResults>(join(d, 'results.json'), `is ${d} a folder written by npm run video-experiment?`));
  runs.forEach((r, i) => {
    if (r.kind !== 'video') throw new Error(`${join(dirs[i], 'results.json')}: not a video run (kind ${String(r.kind)})`);
  });
  const feats = dirs.map((d) => (existsSync(join(d, 'features.json')) ? readJson<VideoFeatureFile>(join(d, 'features.json'), '') : null));
  const md = videoSeedsMarkdown(runs, feats);
  if (out) writeFileSync(out, md);
  console.log(md);
}

try {
  main(process.argv.slice(2));
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(2);
}
