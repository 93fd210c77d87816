/**
 * npm run gates -- [--seeds 0,1,2] [--out-dir runs/gates] [--base DIR] [--updates N] [--small]
 *
 * Issue 13's sanity gates (config.ts's `gates` preset: base vs itself with fresh noise, SFTʷ, SFT
 * on losers, Diffusion-DPO), one run per seed with `npm run experiment --engine node` (each in its
 * own process, written to OUT_DIR/seed-N; seed N evaluates with evalSeed 1013 + N, so that no image
 * is pooled twice), then the pooled table with intervals and the verdicts
 * (core/align/protocolReport.ts's gatesMarkdown), the seeds table (npm run seeds) and the time to
 * visible separation of each arm from the base; written to OUT_DIR/gates.md.
 *
 * --small: the smallest version (a few updates of batch 4, 8 prompts × 2 noises, 2 DDIM steps) to
 * show the output's shape in a minute; its numbers mean nothing. Runs that already finished
 * (OUT_DIR/seed-N/results.json complete, same config) are reused, not re-run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gatesMarkdown, separation, separationMarkdown } from '../src/core/align/protocolReport';
import { seedsSummaryMarkdown, type ExperimentResults } from '../src/core/align/report';
import { parseExperimentConfig, presetConfig, sameConfig, type ExperimentConfig } from '../src/core/config';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const USAGE = 'usage: npm run gates -- [--seeds 0,1,2] [--out-dir runs/gates] [--base DIR] [--updates N] [--small]';

/** The smallest version of the gates: the shape of the output, in about a minute on two cores. */
export const SMALL = { dataSize: 16, batchSize: 4, updates: 4, checkpointEvery: 2, refSteps: 2, evalPrompts: 4, evalSteps: 2, finalEvalPrompts: 8, finalEvalNoises: 2, probePairs: 4 } as const;

function main(argv: string[]): number {
  let seeds = [0, 1, 2];
  let outDir = path.join(ROOT, 'runs/gates');
  let baseDir: string | null = null;
  let updates: number | null = null;
  let small = false;
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined || x.startsWith('--')) throw new Error(`${f}: a value is required; ${USAGE}`);
      return x;
    };
    if (f === '--seeds') {
      seeds = v().split(',').map((s) => Number(s));
      if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0)) throw new Error(`--seeds: expected integers ≥ 0 like 0,1,2; ${USAGE}`);
    } else if (f === '--out-dir') outDir = path.resolve(v());
    else if (f === '--base') baseDir = v();
    else if (f === '--updates') updates = Number(v());
    else if (f === '--small') small = true;
    else throw new Error(`unknown option ${f}; ${USAGE}`);
  }
  const runs: ExperimentResults[] = [];
  for (const seed of seeds) {
    // Each seed its own evaluation noise (evalSeed + seed): with one evalSeed for all, the base's images
    // (and the lr-0 arm's) would be the same in every seed, and pooling would count them several times.
    const preset = presetConfig('gates');
    const cfg: ExperimentConfig = parseExperimentConfig({ ...preset, ...(small ? SMALL : {}), seed, evalSeed: (preset.evalSeed ?? 0) + seed, ...(updates ? { updates } : {}) });
    const dir = path.join(outDir, `seed-${seed}`);
    mkdirSync(dir, { recursive: true });
    const cfgFile = path.join(dir, 'config.json');
    const resFile = path.join(dir, 'results.json');
    let done: ExperimentResults | null = null;
    if (existsSync(resFile)) {
      const r = JSON.parse(readFileSync(resFile, 'utf8')) as ExperimentResults;
      if (sameConfig(r.config, cfg) && r.updatesDone === cfg.updates && r.base?.finalEval) done = r;
    }
    if (!done) {
      writeFileSync(cfgFile, JSON.stringify(cfg, null, 1));
      const args = ['--import', 'tsx', path.join(ROOT, 'scripts/experiment.ts'), '--config', cfgFile, '--engine', 'node', '--out', dir, ...(baseDir ? ['--base', baseDir] : [])];
      console.log(`gates, seed ${seed}: npm run experiment -- --config ${path.relative(ROOT, cfgFile)} --engine node --out ${path.relative(ROOT, dir)}${baseDir ? ` --base ${baseDir}` : ''}`);
      const p = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
      if (p.status !== 0) throw new Error(`the run for seed ${seed} failed (exit ${p.status})`);
      done = JSON.parse(readFileSync(resFile, 'utf8')) as ExperimentResults;
    } else console.log(`gates, seed ${seed}: reusing ${path.relative(ROOT, resFile)}`);
    done.meta.preset = small ? 'gates (small)' : 'gates';
    runs.push(done);
  }
  const sep = runs[0].arms.map((a) => separationMarkdown(separation(runs[0], a.name, 'base')).replace('## ', `## seed ${runs[0].config.seed}: `));
  const md = [gatesMarkdown(runs), seedsSummaryMarkdown(runs), ...sep, small ? '\n(--small: the smallest version, to show the output shape; its numbers mean nothing.)\n' : ''].join('\n');
  console.log('\n' + md);
  writeFileSync(path.join(outDir, 'gates.md'), md);
  console.log(`wrote ${path.relative(ROOT, path.join(outDir, 'gates.md'))}`);
  return 0;
}

try {
  process.exitCode = main(process.argv.slice(2));
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 2;
}
