/**
 * The headless experiment runner:
 *
 *   npm run experiment -- --preset NAME [--config FILE.json] [--seed N] [--updates N]
 *                         [--backend webgpu|webgl|wasm|cpu] [--engine browser|node] [--out DIR]
 *                         [--random-base] [--sweep lr=A,B,…] [--final-eval PxR] [--final-eval-ood] [--eval-seed N]
 *                         [--seeds A,B,… [--jobs N]]
 *
 * `--sweep lr=…` replaces every arm by one arm per learning rate (`<arm> @ lr <value>`) and, unless
 * the config says otherwise, evaluates on the tuning split (disjoint from the evaluation split);
 * summary.md then carries the sweep table. `--final-eval PxR` sets the final evaluation to P
 * prompts × R noises; `--eval-seed` the evaluation noise's seed.
 *
 * By default it runs the SAME core code the page runs, in headless Chromium (launch options from
 * scripts/chromium.ts), on WebGPU: Vite serves the repository on localhost, runner.html +
 * src/runner/main.ts run the Experiment, and progress/results come back through
 * page.exposeFunction. `--engine node` runs that code in Node instead (WASM or CPU backend;
 * faster on a machine without a GPU). Writes DIR/results.json, DIR/metrics.csv, DIR/summary.md
 * and prints the summary table. A bad flag or config exits with code 2 and a message naming the
 * field and the allowed values; a failed run exits with 1.
 *
 * `--seeds A,B,…` (node engine) runs the experiment once per seed, as separate processes, at most
 * `--jobs N` at a time (default: one per core), each with `--seed s --eval-seed E + s` (E the
 * config's or `--eval-seed`'s evaluation seed, as every multi-seed table in runs/ did; without one,
 * each seed's evaluation noise follows its seed) into
 * DIR/seed<s>/ (its log in DIR/seed<s>.log), then pools them as `npm run seeds` does into
 * DIR/seeds.md, with the wall times. tfjs-wasm has no threads in Node, so processes are how a
 * multi-seed job uses more than one core (issue 14).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendName } from '../src/core/backend';
import { ALL_PRESET_NAMES, ConfigError, parseExperimentConfig, presetConfig, safeParseExperimentConfig, sweepArms, type ExperimentConfig } from '../src/core/config';
import type { ExperimentResults } from '../src/core/align/report';

// Kept local (not imported from backend.ts) so that a bad flag is answered before tfjs loads.
const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const satisfies readonly BackendName[];
const isBackendName = (x: string): x is BackendName => (BACKENDS as readonly string[]).includes(x);

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ENGINES = ['browser', 'node'] as const;
type Engine = (typeof ENGINES)[number];

class UsageError extends Error {}

interface Args {
  preset: string | null;
  configFile: string | null;
  seed: number | null;
  updates: number | null;
  backend: BackendName | null;
  engine: Engine;
  out: string | null;
  randomBase: boolean;
  baseDir: string | null;
  sweep: number[] | null;
  finalEval: [number, number] | null;
  finalEvalOod: boolean;
  evalSeed: number | null;
  winners: 'data' | 'ideal';
  seeds: number[] | null;
  jobs: number | null;
}

const USAGE = `usage: npm run experiment -- --preset NAME | --config FILE.json [--seed N] [--updates N]
       [--backend webgpu|webgl|wasm|cpu] [--engine browser|node] [--out DIR] [--random-base]
       [--sweep lr=A,B,…] [--final-eval PxR] [--final-eval-ood] [--eval-seed N] [--winners data|ideal]
       [--seeds A,B,… [--jobs N]]
presets: ${ALL_PRESET_NAMES.join(', ')}
--engine browser (default): headless Chromium, backend webgpu by default
--engine node: Node, backend wasm by default (wasm or cpu only)
--random-base: a tiny random model and untrained scorers instead of public/models (dry run)
--base DIR (node engine): take the base model's config.json + model.safetensors from DIR
--sweep lr=A,B,…: one arm per arm and lr, scored on the tuning split (summary.md's sweep table)
--final-eval PxR: final evaluation on P prompts × R noises (e.g. 64x16); --eval-seed N: evaluation noise seed
--final-eval-ood: the final evaluation also on oodComposition and oodRaters (the paper's Table 2)
--winners ideal (node engine; a control): every training winner becomes the ideal render of its prompt
--seeds A,B,… (node engine): one run per seed (eval seed + s each) in DIR/seed<s>/, pooled into DIR/seeds.md;
       --jobs N: at most N processes at once (default: one per core)`;

function parseArgs(argv: string[]): Args {
  const a: Args = { preset: null, configFile: null, seed: null, updates: null, backend: null, engine: 'browser', out: null, randomBase: false, baseDir: null, sweep: null, finalEval: null, finalEvalOod: false, evalSeed: null, winners: 'data', seeds: null, jobs: null };
  const value = (i: number, flag: string) => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag}: a value is required`);
    return v;
  };
  const intArg = (v: string, flag: string, min: number) => {
    if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`${flag}: expected an integer ≥ ${min}, got '${v}'`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i];
    switch (f) {
      case '--preset':
        a.preset = value(i++, f);
        if (!(ALL_PRESET_NAMES as readonly string[]).includes(a.preset)) {
          throw new UsageError(`--preset: expected one of ${ALL_PRESET_NAMES.join(' | ')}, got '${a.preset}'`);
        }
        break;
      case '--config':
        a.configFile = value(i++, f);
        break;
      case '--seed':
        a.seed = intArg(value(i++, f), f, 0);
        break;
      case '--updates':
        a.updates = intArg(value(i++, f), f, 1);
        break;
      case '--backend': {
        const v = value(i++, f);
        if (!isBackendName(v)) throw new UsageError(`--backend: expected one of ${BACKENDS.join(' | ')}, got '${v}'`);
        a.backend = v;
        break;
      }
      case '--engine': {
        const v = value(i++, f);
        if (!(ENGINES as readonly string[]).includes(v)) throw new UsageError(`--engine: expected one of ${ENGINES.join(' | ')}, got '${v}'`);
        a.engine = v as Engine;
        break;
      }
      case '--out':
        a.out = value(i++, f);
        break;
      case '--random-base':
        a.randomBase = true;
        break;
      case '--sweep': {
        const v = value(i++, f);
        const m = /^lr=(.+)$/.exec(v);
        const lrs = m ? m[1].split(',').map(Number) : [];
        if (!m || lrs.length === 0 || lrs.some((x) => !(x > 0 && x <= 1))) throw new UsageError(`--sweep: expected lr=A,B,… with learning rates in (0, 1], got '${v}'`);
        a.sweep = lrs;
        break;
      }
      case '--final-eval': {
        const v = value(i++, f);
        const m = /^(\d+)x(\d+)$/.exec(v);
        if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new UsageError(`--final-eval: expected PxR (prompts × noises, e.g. 64x16), got '${v}'`);
        a.finalEval = [Number(m[1]), Number(m[2])];
        break;
      }
      case '--final-eval-ood':
        a.finalEvalOod = true;
        break;
      case '--eval-seed':
        a.evalSeed = intArg(value(i++, f), f, 0);
        break;
      case '--winners': {
        const w = value(i++, f);
        if (w !== 'data' && w !== 'ideal') throw new UsageError(`--winners: expected data | ideal, got '${w}'`);
        a.winners = w;
        break;
      }
      case '--seeds': {
        const v = value(i++, f);
        const seeds = v.split(',').map((x) => intArg(x.trim(), f, 0));
        if (new Set(seeds).size !== seeds.length) throw new UsageError(`--seeds: each seed once, got '${v}'`);
        a.seeds = seeds;
        break;
      }
      case '--jobs':
        a.jobs = intArg(value(i++, f), f, 1);
        break;
      case '--base':
        a.baseDir = value(i++, f);
        if (!existsSync(path.join(a.baseDir, 'config.json')) || !existsSync(path.join(a.baseDir, 'model.safetensors'))) {
          throw new UsageError(`--base: ${a.baseDir} must hold config.json and model.safetensors`);
        }
        break;
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
      // eslint-disable-next-line no-fallthrough
      default:
        throw new UsageError(`unknown flag '${f}'; allowed: --preset, --config, --seed, --updates, --backend, --engine, --out, --random-base, --base, --sweep, --final-eval, --final-eval-ood, --eval-seed, --winners, --seeds, --jobs, --help`);
    }
  }
  if (!a.preset && !a.configFile) throw new UsageError(`give --preset (one of ${ALL_PRESET_NAMES.join(' | ')}) or --config FILE.json`);
  if (a.preset && a.configFile) throw new UsageError('give either --preset or --config, not both');
  if (a.seeds && a.seed !== null) throw new UsageError('give either --seed or --seeds, not both');
  if (a.seeds && a.engine !== 'node') throw new UsageError('--seeds: only with --engine node');
  if (a.jobs !== null && !a.seeds) throw new UsageError('--jobs: only with --seeds');
  if (a.winners === 'ideal' && a.engine !== 'node') throw new UsageError('--winners ideal: only with --engine node');
  if (a.baseDir && a.engine !== 'node') throw new UsageError('--base: only with --engine node (the browser engine serves public/models/)');
  if (a.engine === 'node' && a.backend && a.backend !== 'wasm' && a.backend !== 'cpu') {
    throw new UsageError(`--backend: with --engine node expected one of wasm | cpu, got '${a.backend}' (webgpu/webgl need --engine browser)`);
  }
  return a;
}

async function loadConfig(a: Args): Promise<ExperimentConfig> {
  let cfg: ExperimentConfig;
  if (a.configFile) {
    let text: string;
    try {
      text = await readFile(a.configFile, 'utf8');
    } catch (e) {
      throw new UsageError(`--config: cannot read ${a.configFile} (${e instanceof Error ? e.message : String(e)})`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new UsageError(`--config: ${a.configFile} is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    // A results.json written by this runner holds the config under "config": accept it too.
    if (json && typeof json === 'object' && 'config' in json && 'arms' in (json as { config: object }).config) json = (json as { config: unknown }).config;
    cfg = parseExperimentConfig(json);
  } else {
    cfg = presetConfig(a.preset!);
  }
  const over = {
    ...cfg,
    ...(a.seed !== null ? { seed: a.seed } : {}),
    ...(a.updates !== null ? { updates: a.updates } : {}),
    ...(a.evalSeed !== null ? { evalSeed: a.evalSeed } : {}),
    ...(a.finalEval ? { finalEvalPrompts: a.finalEval[0], finalEvalNoises: a.finalEval[1] } : {}),
    ...(a.finalEvalOod ? { finalEvalOod: true } : {}),
    ...(a.sweep ? { arms: sweepArms(cfg.arms, a.sweep), evalSplit: cfg.evalSplit ?? 'tuning' } : {}),
  };
  const r = safeParseExperimentConfig(over);
  if (!r.ok) throw new ConfigError(r.errors);
  return r.config;
}

/** When and how the base model was made (from its config.json), for the record. */
async function baseNote(dir: string | null): Promise<Record<string, string>> {
  try {
    const c = JSON.parse(await readFile(path.join(dir ?? path.join(ROOT, 'public/models/base'), 'config.json'), 'utf8'));
    return { baseCreatedAt: String(c.createdAt ?? '?'), baseQualityRatio: String(c.baseQuality?.ratioToGenerators ?? '?'), baseUnetSteps: String(c.diffusion?.steps ?? '?') };
  } catch {
    return {};
  }
}

/**
 * Issue 13's protocol check: the base and the alignment data must come from one world. When the
 * base was pretrained on another dataset seed than the run's, validation_unique may hold prompts the
 * base trained on; the warning goes to stderr and to the top of summary.md (results.json is left as is).
 */
let protocolWarning: string | null = null;
async function checkWorld(dir: string | null, cfg: ExperimentConfig): Promise<void> {
  try {
    const c = JSON.parse(await readFile(path.join(dir ?? path.join(ROOT, 'public/models/base'), 'config.json'), 'utf8'));
    const seed = c.dataset?.seed;
    if (typeof seed === 'number' && seed !== cfg.dataSeed) {
      protocolWarning =
        `Protocol warning: the base model was pretrained on dataset seed ${seed}, this run aligns and evaluates on dataset seed ${cfg.dataSeed}: ` +
        `its evaluation prompts may include prompts the base trained on, and its training pairs combinations held out from the base (issue 13). Use a base and data of one world.`;
      console.error(protocolWarning);
    }
  } catch {
    // no config.json (a dry run): nothing to check
  }
}

/** Writes results.json, metrics.csv and summary.md into `out`; returns the summary. */
async function writeResults(out: string, results: ExperimentResults): Promise<string> {
  const { metricsCsv, summaryMarkdown } = await import('../src/core/align/report');
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, 'results.json'), JSON.stringify(results, null, 1));
  await writeFile(path.join(out, 'metrics.csv'), metricsCsv(results));
  const summary = (protocolWarning && !results.meta.assets.startsWith('random') ? `> ${protocolWarning}\n\n` : '') + summaryMarkdown(results);
  await writeFile(path.join(out, 'summary.md'), summary);
  return summary;
}

async function runNode(cfg: ExperimentConfig, a: Args, backend: 'wasm' | 'cpu', out: string): Promise<ExperimentResults> {
  const { initNodeBackend } = await import('../src/core/backend');
  const { setAssetFetch } = await import('../src/worker/assets');
  const { runExperimentHere, stepLine } = await import('../src/runner/run');
  await initNodeBackend(backend);
  setAssetFetch(async (url) => {
    const file = a.baseDir && url.startsWith('/models/base/') ? path.join(a.baseDir, url.slice('/models/base/'.length)) : path.join(ROOT, 'public', url);
    if (!existsSync(file)) return new Response('not found', { status: 404 });
    return new Response(await readFile(file), { headers: { 'content-type': 'application/octet-stream' } });
  });
  return runExperimentHere(
    { config: cfg, preset: a.preset, randomBase: a.randomBase, winners: a.winners },
    {
      engine: 'node',
      backend,
      preset: a.preset,
      notes: { node: process.version, platform: `${process.platform} ${process.arch}`, baseModel: a.baseDir ?? 'public/models/base', ...(a.winners === 'ideal' ? { winners: 'ideal renders (--winners ideal)' } : {}), ...(await baseNote(a.baseDir)) },
    },
    {
      log: (m) => console.log(m),
      step: (r, wall) => console.log(stepLine(r, cfg.updates, wall)),
      partial: async (r) => {
        await writeResults(out, r);
        console.log(`(partial results up to update ${r.updatesDone} written to ${out})`);
      },
    },
  );
}

/** Browser engine: Vite serves the repo, headless Chromium runs runner.html. */
async function runBrowser(cfg: ExperimentConfig, a: Args, backend: BackendName, out: string): Promise<ExperimentResults> {
  const { createServer } = await import('vite');
  const { chromium } = await import('@playwright/test');
  const { chromiumLaunchOptions } = await import('./chromium');
  const server = await createServer({
    root: ROOT,
    configFile: path.join(ROOT, 'vite.config.ts'),
    logLevel: process.env.RUNNER_VITE_LOG === 'info' ? 'info' : 'warn',
    clearScreen: false,
    server: { host: 'localhost', port: 5290, strictPort: false, hmr: false },
    // Pre-bundle the runner's dependencies up front, so Vite never reloads the page mid-run.
    optimizeDeps: { entries: ['runner.html'] },
  });
  await server.listen();
  const url = (server.resolvedUrls?.local[0] ?? 'http://localhost:5290/') + 'runner.html';
  const browser = await chromium.launch(chromiumLaunchOptions(backend === 'webgpu'));
  try {
    const page = await browser.newPage();
    let resolve!: (r: ExperimentResults) => void;
    let reject!: (e: Error) => void;
    const done = new Promise<ExperimentResults>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    await page.exposeFunction('runnerInput', () => ({ config: cfg, preset: a.preset, randomBase: a.randomBase, backend }));
    await page.exposeFunction('runnerLog', (m: string) => console.log(m));
    await page.exposeFunction('runnerPartial', async (json: string) => {
      const r = JSON.parse(json) as ExperimentResults;
      await writeResults(out, r);
      console.log(`(partial results up to update ${r.updatesDone} written to ${out})`);
    });
    await page.exposeFunction('runnerDone', (json: string) => resolve(JSON.parse(json) as ExperimentResults));
    await page.exposeFunction('runnerFail', (m: string) => reject(new Error(`the runner page failed: ${m}`)));
    page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') console.error(`[page ${m.type()}] ${m.text()}`);
    });
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) console.error(`[page] navigated to ${f.url()}`);
    });
    page.on('crash', () => reject(new Error('the runner page crashed (out of memory?)')));
    console.log(`runner page: ${url} (backend ${backend})`);
    await page.goto(url);
    return await done;
  } finally {
    await browser.close();
    await server.close();
  }
}

/** The flags of this run without those `--seeds` replaces per seed (`--seeds`, `--jobs`, `--out`, `--eval-seed`). */
function perSeedArgs(argv: string[]): string[] {
  const drop = new Set(['--seeds', '--jobs', '--out', '--eval-seed']);
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (drop.has(argv[i])) i++; // and its value
    else kept.push(argv[i]);
  }
  return kept;
}

/** `--seeds`: one child process per seed, at most `jobs` at once; then the pooled table. */
async function runSeeds(seeds: number[], jobs: number, evalSeed: number | undefined, out: string): Promise<number> {
  const { spawn } = await import('node:child_process');
  const { createWriteStream } = await import('node:fs');
  const { seedsSummaryMarkdown } = await import('../src/core/align/report');
  await mkdir(out, { recursive: true });
  const base = perSeedArgs(process.argv.slice(2));
  const script = fileURLToPath(import.meta.url);
  const parallel = Math.min(jobs, seeds.length);
  console.log(`seeds ${seeds.join(', ')}: ${parallel} at a time, evaluation seed ${evalSeed === undefined ? 'from each seed' : `${evalSeed} + seed`}, into ${out}/seed<s>/ (logs ${out}/seed<s>.log)`);
  const t0 = performance.now();
  const wall = new Map<number, number>();
  const failed: string[] = [];
  const runOne = (s: number) =>
    new Promise<void>((resolve) => {
      const log = createWriteStream(path.join(out, `seed${s}.log`));
      const evalArgs = evalSeed === undefined ? [] : ['--eval-seed', String(evalSeed + s)];
      const args = [...process.execArgv, script, ...base, '--seed', String(s), ...evalArgs, '--out', path.join(out, `seed${s}`)];
      const t = performance.now();
      const child = spawn(process.execPath, args, { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.pipe(log, { end: false });
      child.stderr.pipe(log, { end: false });
      child.on('close', (code) => {
        wall.set(s, (performance.now() - t) / 1000);
        log.end();
        if (code === 0) console.log(`seed ${s}: done in ${wall.get(s)!.toFixed(1)} s`);
        else failed.push(`seed ${s} exited with ${code} (see ${path.join(out, `seed${s}.log`)})`);
        resolve();
      });
    });
  const queue = [...seeds];
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let s = queue.shift(); s !== undefined; s = queue.shift()) await runOne(s);
    }),
  );
  const total = (performance.now() - t0) / 1000;
  if (failed.length) {
    for (const f of failed) console.error(f);
    return 1;
  }
  const runs = await Promise.all(seeds.map(async (s) => JSON.parse(await readFile(path.join(out, `seed${s}`, 'results.json'), 'utf8')) as ExperimentResults));
  const timing = `Run with \`--seeds ${seeds.join(',')} --jobs ${jobs}\`: ${parallel} process${parallel === 1 ? '' : 'es'} at a time on ${availableParallelism()} cores; wall ${total.toFixed(1)} s in all, per seed ${seeds.map((s) => `${s}: ${wall.get(s)!.toFixed(1)} s`).join(', ')}.`;
  const md = `${seedsSummaryMarkdown(runs)}\n${timing}\n`;
  await writeFile(path.join(out, 'seeds.md'), md);
  console.log('\n' + md);
  console.log(`wrote ${out}/seeds.md`);
  return 0;
}

async function main(): Promise<number> {
  let a: Args;
  let cfg: ExperimentConfig;
  try {
    a = parseArgs(process.argv.slice(2));
    cfg = await loadConfig(a);
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      console.error(e.message);
      if (e instanceof UsageError) console.error(USAGE);
      return 2;
    }
    throw e;
  }
  const backend: BackendName = a.backend ?? (a.engine === 'node' ? 'wasm' : 'webgpu');
  const out = path.resolve(a.out ?? path.join(ROOT, 'runs', a.preset ?? path.basename(a.configFile!, '.json')));
  if (a.seeds) return runSeeds(a.seeds, a.jobs ?? Math.min(a.seeds.length, availableParallelism()), cfg.evalSeed, out);
  console.log(`experiment ${a.preset ?? a.configFile}: ${cfg.arms.length} arms × ${cfg.updates} updates, engine ${a.engine}, backend ${backend} → ${out}`);
  const t0 = performance.now();
  if (!a.randomBase) await checkWorld(a.baseDir, cfg);
  const results = a.engine === 'node' ? await runNode(cfg, a, backend as 'wasm' | 'cpu', out) : await runBrowser(cfg, a, backend, out);
  const summary = await writeResults(out, results);
  console.log('\n' + summary);
  console.log(`wrote ${out}/results.json, metrics.csv, summary.md (total wall time ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  const halted = results.arms.filter((x) => x.halted);
  for (const h of halted) console.error(`arm halted: ${h.halted}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exit(1);
  },
);
