/**
 * Picks the tfjs backend inside the worker: WebGPU first, then WebGL, then WASM, then CPU, or
 * exactly the one asked for (falling back the same way, with the reason, if it fails).
 * Runs in a worker or a page (uses `navigator.gpu` only to explain why WebGPU is missing).
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { BACKENDS, trySetBackend, type BackendName, type InitBackendOptions } from '../core/backend';
import type { BackendReport, BackendRequest } from './protocol';

interface GpuLike {
  requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string } } | null>;
}

/** Why WebGPU cannot be used here, or null if an adapter is available. */
async function webgpuProblem(): Promise<{ problem: string | null; adapterInfo?: string }> {
  const gpu = (globalThis.navigator as unknown as { gpu?: GpuLike } | undefined)?.gpu;
  if (!gpu) {
    return {
      problem:
        'navigator.gpu is not defined: this browser has no WebGPU (use a recent Chrome or Chromium; ' +
        'on Linux or headless it needs --enable-unsafe-webgpu, and the page must be served from https or localhost)',
    };
  }
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) {
      return { problem: 'navigator.gpu.requestAdapter() returned no adapter: WebGPU is present but no GPU (or software adapter) is usable' };
    }
    const info = adapter.info;
    return { problem: null, adapterInfo: info ? [info.vendor, info.architecture].filter(Boolean).join(' / ') : undefined };
  } catch (e) {
    return { problem: `requesting a WebGPU adapter failed: ${e instanceof Error ? e.message : String(e)}` };
  }
}

export async function selectBackend(requested: BackendRequest, opts: InitBackendOptions = {}): Promise<BackendReport> {
  const order: BackendName[] = requested === 'auto' ? [...BACKENDS] : [requested, ...BACKENDS.filter((b) => b !== requested)];
  const failures: Partial<Record<BackendName, string>> = {};
  let adapterInfo: string | undefined;
  for (const name of order) {
    if (name === 'webgpu') {
      const probe = await webgpuProblem();
      adapterInfo = probe.adapterInfo;
      if (probe.problem) {
        failures.webgpu = probe.problem;
        continue;
      }
    }
    const reason = await trySetBackend(name, opts);
    if (reason === null) return { backend: name, requested, failures, adapterInfo, ...(name === 'wasm' ? { wasmThreads: await wasmThreads() } : {}) };
    failures[name] = reason;
  }
  throw new Error(`no tfjs backend could be initialised: ${JSON.stringify(failures)}`);
}

/**
 * Which WASM build runs and why. tfjs loads the threaded build when SharedArrayBuffer can be
 * shared with workers (a cross-origin isolated page); its XNNPACK pool has half the logical cores
 * (at most 4), so a two-core machine gets a pool of one.
 */
export async function wasmThreads(): Promise<{ threaded: boolean; count: number; why: string }> {
  const threaded = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true;
  const count = getThreadsCount();
  const cores = globalThis.navigator?.hardwareConcurrency;
  if (threaded) return { threaded, count, why: `the page is cross-origin isolated; a pool of ${count} on ${cores ?? '?'} logical cores` };
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  return {
    threaded,
    count,
    why: isolated
      ? 'this browser has no WebAssembly threads'
      : 'the page is not cross-origin isolated (the server sends no COOP/COEP headers), so WebAssembly cannot use threads',
  };
}
