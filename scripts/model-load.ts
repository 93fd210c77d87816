/**
 * `npx tsx scripts/model-load.ts [--runs 3] [--port 4179] [--backend wasm] [--models DIR,DIR…]`
 *
 * How long the page takes to load a base model: the built site (`npm run build` first) served by
 * `vite preview`, headless Chromium, the Model view; for each model folder the page's own request
 * for public/models/base/{config.json,model.safetensors} is answered with that folder's files
 * (default: runs/base-v1, the first base, and public/models/base, the shipped one), interleaved
 * over `--runs` fresh pages. Prints the file size, the worker's load time (fetch, parse, upload:
 * ModelInfo.loadMs, shown in the Model view) and the time from navigation until the Model view
 * shows the model. A benchmark, not a test: times depend on the machine's load.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { chromium } from '@playwright/test';
import { chromiumLaunchOptions } from './chromium';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    port: { type: 'string', default: '4179' },
    backend: { type: 'string', default: 'wasm' },
    models: { type: 'string', default: 'runs/base-v1,public/models/base' },
  },
});
const runs = Number(args.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs ${args.runs}: give a whole number ≥ 1`);
const models = args.models!.split(',').map((d) => {
  const dir = path.resolve(ROOT, d);
  for (const f of ['config.json', 'model.safetensors']) if (!existsSync(path.join(dir, f))) throw new Error(`--models: ${d} has no ${f}`);
  return { name: d, config: readFileSync(path.join(dir, 'config.json')), weights: readFileSync(path.join(dir, 'model.safetensors')) };
});
if (!existsSync(path.join(ROOT, 'dist/index.html'))) throw new Error('no dist/: run `npm run build` first');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const server = spawn('npx', ['vite', 'preview', '--port', args.port!, '--strictPort'], { cwd: ROOT, stdio: 'ignore', detached: true });
  const url = `http://localhost:${args.port}`;
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(url)).ok) break;
      } catch {
        /* not up yet */
      }
      if (i > 120) throw new Error(`vite preview did not answer on ${url}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const browser = await chromium.launch(chromiumLaunchOptions(args.backend === 'webgpu'));
    const times = new Map<string, { loadMs: number[]; visibleMs: number[] }>(models.map((m) => [m.name, { loadMs: [], visibleMs: [] }]));
    for (let r = 0; r < runs; r++) {
      for (const m of models) {
        const page = await browser.newPage();
        await page.route('**/models/base/config.json', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: m.config }));
        await page.route('**/models/base/model.safetensors', (route) => route.fulfill({ status: 200, contentType: 'application/octet-stream', body: m.weights }));
        const t0 = Date.now();
        await page.goto(`${url}/?view=model&backend=${args.backend}`);
        const summary = page.getByTestId('model-info').locator('summary');
        await summary.waitFor({ timeout: 300_000 });
        const visibleMs = Date.now() - t0;
        const text = (await summary.textContent()) ?? '';
        // The page must have loaded the model asked for (a worker could bypass the route or a cache answer it).
        const total = (JSON.parse(m.config.toString('utf8')) as { parameters?: { total?: number } }).parameters?.total;
        if (typeof total === 'number' && !text.includes(`${(total / 1e6).toFixed(2)} M parameters`)) throw new Error(`${m.name}: the page shows another model: ${text.slice(0, 120)}`);
        const match = / in (\d+(?:\.\d+)?) s/.exec(text);
        if (!match) throw new Error(`the Model view's summary has no load time: ${text.slice(0, 200)}`);
        times.get(m.name)!.loadMs.push(1000 * Number(match[1]));
        times.get(m.name)!.visibleMs.push(visibleMs);
        await page.close();
      }
    }
    await browser.close();
    console.log(`| model | model.safetensors | worker load (median of ${runs}; the view's 0.1 s) | navigation → model shown (median) |`);
    console.log('|---|---|---|---|');
    for (const m of models) {
      const t = times.get(m.name)!;
      console.log(`| ${m.name} | ${(m.weights.length / 1e6).toFixed(2)} MB | ${(median(t.loadMs) / 1000).toFixed(1)} s (${t.loadMs.map((x) => (x / 1000).toFixed(1)).join(', ')}) | ${(median(t.visibleMs) / 1000).toFixed(1)} s (${t.visibleMs.map((x) => (x / 1000).toFixed(1)).join(', ')}) |`);
    }
  } finally {
    if (server.pid) process.kill(-server.pid);
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
