/**
 * The headless runner's page (runner.html): scripts/experiment.ts opens it in headless Chromium,
 * hands it the experiment through `runnerInput()` and receives progress and results through the
 * functions it exposed with Playwright's `page.exposeFunction`. The experiment runs in the page's
 * main thread — there is no UI to keep responsive — on exactly the backend that was asked for.
 */
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import * as tf from '@tensorflow/tfjs';
import { isBackendName, trySetBackend } from '../core/backend';
import { parseExperimentConfig } from '../core/config';
import { runExperimentHere, stepLine } from './run';

interface RunnerBridge {
  runnerInput(): Promise<{ config: unknown; preset: string | null; randomBase: boolean; backend: string }>;
  runnerLog(msg: string): Promise<void>;
  runnerPartial(resultsJson: string): Promise<void>;
  runnerDone(resultsJson: string): Promise<void>;
  runnerFail(message: string): Promise<void>;
}

const bridge = globalThis as unknown as RunnerBridge;

async function adapterInfo(): Promise<string> {
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string } } | null> } }).gpu;
  if (!gpu) return 'navigator.gpu missing';
  const a = await gpu.requestAdapter();
  return a ? [a.info?.vendor, a.info?.architecture].filter(Boolean).join(' / ') || 'adapter (no info)' : 'no adapter';
}

async function main() {
  const input = await bridge.runnerInput();
  const status = document.getElementById('status');
  const log = (m: string) => {
    if (status) status.textContent = m;
    void bridge.runnerLog(m);
  };
  if (!isBackendName(input.backend)) throw new Error(`backend: expected one of webgpu | webgl | wasm | cpu, got '${input.backend}'`);
  const config = parseExperimentConfig(input.config);
  const reason = await trySetBackend(input.backend, {
    wasmPaths: { 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded },
  });
  if (reason) throw new Error(`backend ${input.backend} is not available in this browser: ${reason}`);
  const notes: Record<string, string> = { userAgent: navigator.userAgent };
  if (input.backend === 'webgpu') {
    notes.adapter = await adapterInfo();
    // tfjs has no device-lost handling: report it ourselves (a lost device fails every later op).
    const device = (tf.backend() as unknown as { device?: { lost?: Promise<{ reason?: string; message?: string }> } }).device;
    void device?.lost?.then((info) => log(`WebGPU device lost (${info.reason ?? 'unknown'}): ${info.message ?? ''}`));
  }
  log(`backend ${input.backend}${notes.adapter ? ` (${notes.adapter})` : ''}`);
  const results = await runExperimentHere(
    { config, preset: input.preset, randomBase: input.randomBase },
    { engine: 'browser', backend: input.backend, preset: input.preset, notes },
    { log, step: (r, wall) => log(stepLine(r, config.updates, wall)), partial: (r) => bridge.runnerPartial(JSON.stringify(r)) },
  );
  await bridge.runnerDone(JSON.stringify(results));
}

main().catch((e: unknown) => {
  void bridge.runnerFail(e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e));
});
