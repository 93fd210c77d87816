/**
 * `npm run bench [-- --batch 8 --runs 5 --backends webgpu,webgl,wasm,cpu --timeout 300 --node]`
 * `npm run bench -- --profile [--batch 8 --update-batch 16 --runs 5 --warmup 2 --top 15]`
 *
 * For each backend, in headless Chromium (WebGPU on its adapter, software where there is no GPU):
 * the median time of one UNet forward pass and one training step at the batch size, after
 * warm-up, with FLOP/s from the convolution and matrix kernels tfjs ran. `--node` adds a row for
 * Node's WASM backend (the pretraining path). Prints a Markdown table.
 *
 * `--profile` (issue 14, "Profile first") instead profiles, in Node's WASM backend with the shipped
 * model (public/models/base): one UNet training step at `--batch` (top kernels, split forward /
 * backward / optimizer) and one full SePPO update at `--update-batch` (its phases, then its top
 * kernels by phase): src/core/profile.ts. `--top` kernels per table. `--backends`, `--node` and
 * `--timeout` do not apply (no browser is started). Prints Markdown; about half a minute.
 */
import { parseArgs } from 'node:util';
import { createServer } from 'vite';
import { chromium } from '@playwright/test';
import { chromiumLaunchOptions } from './chromium';
import { BACKENDS, isBackendName } from '../src/core/backendNames';

type Row = { backend: string; where: string; ok: boolean; error?: string; r?: import('../src/core/bench').BenchResult };

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '8' },
    runs: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    backends: { type: 'string', default: BACKENDS.join(',') },
    timeout: { type: 'string', default: '300' },
    node: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'update-batch': { type: 'string', default: '16' },
    top: { type: 'string', default: '15' },
  },
});

function fail(msg: string): never {
  console.error(`bench: ${msg}`);
  process.exit(2);
}
const batch = Number(values.batch), runs = Number(values.runs), warmup = Number(values.warmup), timeoutS = Number(values.timeout);
const updateBatch = Number(values['update-batch']), top = Number(values.top);
for (const [k, v] of Object.entries({ batch, runs, warmup, timeout: timeoutS, 'update-batch': updateBatch, top })) {
  if (!Number.isInteger(v) || v < (k === 'warmup' ? 0 : 1)) fail(`--${k} must be a positive integer, got ${JSON.stringify(values[k as keyof typeof values])}`);
}
const backends = values.backends!.split(',').map((s) => s.trim());
for (const b of backends) if (!isBackendName(b)) fail(`unknown backend "${b}" in --backends; allowed: ${BACKENDS.join(', ')}`);

/** `--profile`: the training step's and the SePPO update's per-kernel profiles, in Node's WASM backend. */
async function profileMain() {
  const { readFile } = await import('node:fs/promises');
  const path = await import('node:path');
  const os = await import('node:os');
  const tf = await import('@tensorflow/tfjs');
  const { initNodeBackend } = await import('../src/core/backend');
  const { loadReducedSD } = await import('../src/core/model/checkpoint');
  const { countParams, disposeReducedSD } = await import('../src/core/model/sd');
  const { profileTrainStep, profileSeppoUpdate } = await import('../src/core/profile');
  const { kernelTableMarkdown, phaseTableMarkdown, phaseTotals } = await import('../src/core/profileTables');
  await initNodeBackend('wasm');
  const dir = path.resolve('public/models/base');
  const configJson = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8'));
  const bytes = new Uint8Array(await readFile(path.join(dir, 'model.safetensors')));
  const load = (prefix: string) => loadReducedSD(bytes, configJson, prefix);
  const ms = (x: number) => x.toFixed(1);
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const scopeNote = (a: import('../src/core/profileTables').KernelAggregate) =>
    a.rows.length ? `tf.customGrad scopes listed by tfjs with their inner kernels' time (not counted again above): ${a.rows.map((r) => `'${r.name}' ${r.count}× ${ms(r.ms)} ms`).join(', ')}.` : '';
  const load1 = os.loadavg()[0];
  console.log(`Profile: tfjs ${tf.version.tfjs} ${tf.getBackend()} in Node ${process.version} (single-threaded), ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' / ')} at the start, ${new Date().toISOString()}`);
  console.log(`Model: public/models/base (${configJson.createdAt ?? '?'})\n`);

  process.stderr.write(`bench: profiling one training step (batch ${batch})…\n`);
  const m1 = load('prof1');
  try {
    const p = await profileTrainStep(m1, { batch, warmup, runs, profiledRuns: 3 });
    const k = p.kernels;
    const ph = Object.fromEntries(phaseTotals(k).map((x) => [x.phase, x.ms]));
    console.log(`### One UNet training step: batch ${batch}, UNet ${countParams(m1.unet).toLocaleString('en-US')} parameters (forward + backward + Adam)\n`);
    console.log(
      `Unprofiled, median of ${p.runs} after ${warmup} warm-up: forward ${ms(p.forwardMs)} ms, training step ${ms(p.stepMs)} ms. ` +
        `Profiled (mean of ${k.runs}): ${ms(p.profiledWallMs)} ms wall, of which kernels ${ms(k.totalMs)} ms (${pct(k.totalMs / p.profiledWallMs)}; the rest is tfjs's engine and JS between kernels); ` +
        `forward ${ms(ph.forward ?? 0)} ms, backward ${ms(ph.backward ?? 0)} ms (${((ph.backward ?? 0) / (ph.forward || 1)).toFixed(2)}× the forward), Adam ${ms(ph.optimizer ?? 0)} ms.\n`,
    );
    console.log(kernelTableMarkdown(k, { top, phases: ['forward', 'backward', 'optimizer'] }));
    const note = scopeNote(p.scopes);
    if (note) console.log(`\n${note}`);
  } finally {
    disposeReducedSD(m1);
  }

  process.stderr.write(`bench: profiling SePPO updates (batch ${updateBatch})…\n`);
  const m2 = load('prof2');
  try {
    const p = await profileSeppoUpdate(m2, { batch: updateBatch, warmup: 1, runs: 3 });
    console.log(`\n### One SePPO update: SePPOʷ, batch ${p.batch} (${2 * p.batch} through the UNet), reference sampling DDIM ${p.refSteps} steps with guidance ${p.refGuidance}, fresh every update\n`);
    console.log(`Phases summed over ${p.runs} updates after 1 warm-up (the update timer, unprofiled); mean update ${ms(p.updateMs)} ms.\n`);
    console.log(phaseTableMarkdown(p.phases, p.runs));
    const k = p.kernels;
    console.log(`\nOne profiled update: ${ms(p.profiledWallMs)} ms wall, kernels ${ms(k.totalMs)} ms (${pct(k.totalMs / p.profiledWallMs)}).\n`);
    console.log(kernelTableMarkdown(k, { top, phases: k.phases.filter((x) => ['reference sampling', 'reference forward', 'policy forward', 'policy backward', 'optimizer'].includes(x)) }));
    const note = scopeNote(p.scopes);
    if (note) console.log(`\n${note}`);
  } finally {
    disposeReducedSD(m2);
  }
  console.log(`\nLoad average ${load1.toFixed(2)} → ${os.loadavg()[0].toFixed(2)} (1 min) over the run.`);
}

async function main() {
  if (values.profile) return profileMain();
  const rows: Row[] = [];
  const server = await createServer({ server: { port: 0, host: 'localhost' }, logLevel: 'error' });
  await server.listen();
  const url = server.resolvedUrls!.local[0];
  try {
    for (const backend of backends) {
      const browser = await chromium.launch(chromiumLaunchOptions(true));
      try {
        const page = await browser.newPage();
        const b = backend === 'cpu' ? { runs: Math.min(runs, 2), warmup: Math.min(warmup, 1) } : { runs, warmup };
        await page.goto(`${url}bench.html?backend=${backend}&batch=${batch}&runs=${b.runs}&warmup=${b.warmup}`);
        process.stderr.write(`bench: ${backend} (batch ${batch}, ${b.runs} runs)…\n`);
        await page.waitForFunction(() => (window as unknown as { __bench?: unknown }).__bench !== undefined, null, { timeout: timeoutS * 1000 });
        const res = (await page.evaluate(() => (window as unknown as { __bench: unknown }).__bench)) as { ok: boolean; error?: string; result?: Row['r'] };
        rows.push({ backend, where: 'chromium', ok: res.ok, error: res.error, r: res.result });
      } catch (e) {
        rows.push({ backend, where: 'chromium', ok: false, error: e instanceof Error ? e.message.split('\n')[0] : String(e) });
      } finally {
        await browser.close();
      }
    }
  } finally {
    await server.close();
  }
  if (values.node) {
    const { initNodeBackend } = await import('../src/core/backend');
    const { benchUNet } = await import('../src/core/bench');
    await initNodeBackend('wasm');
    process.stderr.write('bench: node wasm…\n');
    rows.push({ backend: 'wasm', where: 'node', ok: true, r: await benchUNet({ batch, runs, warmup }) });
  }
  const params = rows.find((r) => r.r)?.r?.unetParams;
  console.log(`UNet ${params ?? '?'} parameters, batch ${batch}, median of ${runs} runs after ${warmup} warm-up (cpu: ≤2 runs)\n`);
  console.log('| backend | where | forward (ms) | train step (ms) | forward GFLOP/s | train GFLOP/s |');
  console.log('|---|---|---|---|---|---|');
  for (const row of rows) {
    if (!row.ok || !row.r) {
      console.log(`| ${row.backend} | ${row.where} | — | — | — | failed: ${row.error} |`);
      continue;
    }
    const r = row.r;
    console.log(
      `| ${r.backend} | ${row.where} | ${r.forwardMs.toFixed(1)} | ${r.trainStepMs.toFixed(1)} | ${(r.forwardGflop / (r.forwardMs / 1000)).toFixed(2)} | ${(r.trainGflop / (r.trainStepMs / 1000)).toFixed(2)} |`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
