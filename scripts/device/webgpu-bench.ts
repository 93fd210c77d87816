/**
 * The bench and one SePPO update through tfjs-webgpu on a real GPU, in Node, with Dawn for Node
 * (the npm package `webgpu`) — for the lent accelerator machine, which has no browser and no Node.js
 * (../shared/notes/tfjs-and-browser.md, "A real GPU"). Bundled by scripts/device/prepare.sh into
 * .device/bench.cjs and run there by scripts/device/run.sh; see scripts/device/README.md.
 *
 * Prints, and writes as JSON to $OUT/webgpu-bench.json (or ./webgpu-bench.json): the adapter, the
 * UNet forward pass and training step at batch 8 (the same model and step as `npm run bench`), a
 * SePPOʷ update at batch 16 on the shipped base with its phases, compute dispatches per update and
 * per training step, and GPU memory (tfjs's numBytesInGPU / numBytesInGPUAllocated).
 *
 * Never run by the tests: it needs `webgpu` (not a dependency of the app) and a GPU.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';

async function main() {
  const out: Record<string, unknown> = { startedAt: new Date().toISOString(), node: process.version, cpus: os.cpus().length, load: os.loadavg() };
  const outDir = process.env.OUT ?? '.';
  const save = () => fs.writeFileSync(path.join(outDir, 'webgpu-bench.json'), JSON.stringify(out, null, 2));
  const here = path.dirname(process.argv[1] ?? '.');
  // 1. Dawn for Node: its globals (GPUBufferUsage, GPUComputePassEncoder, …) and navigator.gpu, before tfjs-webgpu registers.
  let dawn: { create: (flags: string[]) => any; globals: Record<string, unknown> };
  try {
    dawn = createRequire(path.join(here, 'x.js'))('webgpu');
  } catch (e) {
    out.error = `the npm package 'webgpu' (Dawn for Node) could not be loaded next to ${here}: ${String(e)}`;
    save();
    console.error(out.error);
    process.exit(2);
  }
  Object.assign(globalThis, dawn.globals);
  const flags = (process.env.DAWN_FLAGS ?? '').split(',').filter(Boolean);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: dawn.create(flags), hardwareConcurrency: os.cpus().length, userAgent: 'node' }, configurable: true });
  const adapter = await (globalThis as any).navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    out.error = 'Dawn found no WebGPU adapter (no Vulkan driver? see scripts/device/README.md)';
    save();
    console.error(out.error);
    process.exit(3);
  }
  const info = adapter.info ?? (adapter.requestAdapterInfo ? await adapter.requestAdapterInfo() : {});
  out.adapter = { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description };
  console.log('adapter', JSON.stringify(out.adapter));

  // 2. Count compute dispatches (every tfjs-webgpu kernel is one or more).
  let dispatches = 0;
  const enc = (dawn.globals as any).GPUComputePassEncoder?.prototype;
  for (const name of ['dispatchWorkgroups', 'dispatchWorkgroupsIndirect']) {
    const orig = enc?.[name];
    if (typeof orig === 'function') {
      enc[name] = function (this: unknown, ...args: unknown[]) {
        dispatches++;
        return orig.apply(this, args);
      };
    }
  }
  out.dispatchCounting = typeof enc?.dispatchWorkgroups === 'function';

  // 3. tfjs on WebGPU, then the bench's UNet and a SePPO update.
  const tf = await import('@tensorflow/tfjs');
  const { trySetBackend } = await import('../../src/core/backend');
  const reason = await trySetBackend('webgpu');
  if (reason) {
    out.error = reason;
    save();
    console.error(reason);
    process.exit(4);
  }
  out.backend = `${tf.getBackend()} (tfjs ${tf.version.tfjs})`;
  const { createUNetBench, benchUNet } = await import('../../src/core/bench');
  const batch = Number(process.env.BENCH_BATCH ?? 8);
  const r = await benchUNet({ batch, runs: 10, warmup: 3 });
  out.unet = { ...r, forwardGflops: r.forwardGflop / (r.forwardMs / 1000), trainGflops: r.trainGflop / (r.trainStepMs / 1000) };
  console.log(`UNet ${r.unetParams} params, batch ${batch}: forward ${r.forwardMs.toFixed(2)} ms, training step ${r.trainStepMs.toFixed(2)} ms`);
  {
    const b = createUNetBench({ batch });
    await b.time('train', 2, 1);
    const d0 = dispatches;
    await b.time('train', 0, 1);
    out.dispatchesPerTrainStep = dispatches - d0;
    b.dispose();
  }
  save();

  const { loadReducedSD } = await import('../../src/core/model/checkpoint');
  const { disposeReducedSD } = await import('../../src/core/model/sd');
  const { profileSeppoUpdate } = await import('../../src/core/profile');
  const modelDir = process.env.MODEL_DIR ?? path.join(here, 'models/base');
  const m = loadReducedSD(new Uint8Array(fs.readFileSync(path.join(modelDir, 'model.safetensors'))), JSON.parse(fs.readFileSync(path.join(modelDir, 'config.json'), 'utf8')), 'devseppo');
  try {
    const updateBatch = Number(process.env.UPDATE_BATCH ?? 16);
    const warmup = 1, runs = 3;
    const d0 = dispatches;
    const p = await profileSeppoUpdate(m, { batch: updateBatch, warmup, runs });
    out.seppo = {
      batch: updateBatch,
      updateMs: p.updateMs,
      phases: p.phases,
      runs: p.runs,
      profiledWallMs: p.profiledWallMs,
      topKernels: p.kernels.rows.slice(0, 12).map((k) => ({ name: k.name, count: k.count, ms: k.ms })),
      dispatchesPerUpdate: (dispatches - d0) / (warmup + runs + 1),
    };
    console.log(`SePPO update, batch ${updateBatch}: ${p.updateMs.toFixed(1)} ms (mean of ${runs}); phases ${p.phases.map((x) => `${x.phase} ${(x.ms / runs).toFixed(1)}`).join(', ')}`);
  } finally {
    disposeReducedSD(m);
  }
  const mem = tf.memory() as any;
  out.memory = { numTensors: mem.numTensors, numBytes: mem.numBytes, numBytesInGPU: mem.numBytesInGPU, numBytesInGPUAllocated: mem.numBytesInGPUAllocated, numBytesInGPUFree: mem.numBytesInGPUFree };
  out.finishedAt = new Date().toISOString();
  save();
  console.log(JSON.stringify(out, null, 2));
  process.exit(0);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
