/**
 * `npm run bench [-- --batch 8 --runs 5 --backends webgpu,webgl,wasm,cpu --timeout 300 --node]`
 *
 * For each backend, in headless Chromium (WebGPU on its adapter, software where there is no GPU):
 * the median time of one UNet forward pass and one training step at the batch size, after
 * warm-up, with FLOP/s from the convolution and matrix kernels tfjs ran. `--node` adds a row for
 * Node's WASM backend (the pretraining path). Prints a Markdown table.
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
  },
});

function fail(msg: string): never {
  console.error(`bench: ${msg}`);
  process.exit(2);
}
const batch = Number(values.batch), runs = Number(values.runs), warmup = Number(values.warmup), timeoutS = Number(values.timeout);
for (const [k, v] of Object.entries({ batch, runs, warmup, timeout: timeoutS })) {
  if (!Number.isInteger(v) || v < (k === 'warmup' ? 0 : 1)) fail(`--${k} must be a positive integer, got ${JSON.stringify(values[k as keyof typeof values])}`);
}
const backends = values.backends!.split(',').map((s) => s.trim());
for (const b of backends) if (!isBackendName(b)) fail(`unknown backend "${b}" in --backends; allowed: ${BACKENDS.join(', ')}`);

async function main() {
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
