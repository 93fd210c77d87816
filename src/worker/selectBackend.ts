/**
 * Picks the tfjs backend inside the worker.
 *
 * Automatic choice (no `?backend=`): a GPU backend only when it runs on a GPU. A software WebGPU
 * adapter (isFallbackAdapter, or adapter info like Chrome's SwiftShader) or a WebGL context that
 * renders in software (SwiftShader, llvmpipe) counts as "no GPU": measured on such a machine, a
 * UNet forward takes 1,411 ms on software WebGPU, 389 ms on software WebGL and 17.6 ms on WASM
 * (README, Speed), so the rule is hardware WebGPU → hardware WebGL → WASM → software WebGL →
 * software WebGPU → CPU, and the report says why. `?backend=X` tries exactly X first (software
 * or not), then falls back in the same order, with the reason.
 * Runs in a worker or a page.
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { trySetBackend, type BackendName, type InitBackendOptions } from '../core/backend';
import type { BackendReport, BackendRequest } from './protocol';

interface AdapterInfoLike {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
  isFallbackAdapter?: boolean;
}
interface GpuLike {
  requestAdapter(): Promise<{ info?: AdapterInfoLike; isFallbackAdapter?: boolean } | null>;
}

/** Renderer names of software rasterisers (WebGPU adapter info or WebGL's RENDERER string). */
const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|software|microsoft basic render|mesa offscreen/i;

/** Why this WebGPU adapter is software ("fallback adapter", "google / swiftshader"), or null for a GPU. */
export function softwareAdapter(info: AdapterInfoLike | undefined, isFallbackAdapter?: boolean): string | null {
  const text = info ? [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' / ') : '';
  if (isFallbackAdapter || info?.isFallbackAdapter) return `a fallback (software) adapter${text ? `: ${text}` : ''}`;
  if (SOFTWARE.test(text)) return `a software adapter: ${text}`;
  return null;
}

/** True for a WebGL RENDERER string of a software rasteriser. */
export function softwareRenderer(renderer: string | null | undefined): boolean {
  return !!renderer && SOFTWARE.test(renderer);
}

/** Why WebGPU cannot be used here (problem), or the adapter and whether it is software. */
async function probeWebgpu(): Promise<{ problem: string | null; adapterInfo?: string; software: string | null }> {
  const gpu = (globalThis.navigator as unknown as { gpu?: GpuLike } | undefined)?.gpu;
  if (!gpu) {
    return {
      problem:
        'navigator.gpu is not defined: this browser has no WebGPU (use a recent Chrome or Chromium; ' +
        'on Linux or headless it needs --enable-unsafe-webgpu, and the page must be served from https or localhost)',
      software: null,
    };
  }
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) {
      return { problem: 'navigator.gpu.requestAdapter() returned no adapter: WebGPU is present but no GPU (or software adapter) is usable', software: null };
    }
    const info = adapter.info;
    return {
      problem: null,
      adapterInfo: info ? [info.vendor, info.architecture].filter(Boolean).join(' / ') : undefined,
      software: softwareAdapter(info, adapter.isFallbackAdapter),
    };
  } catch (e) {
    return { problem: `requesting a WebGPU adapter failed: ${e instanceof Error ? e.message : String(e)}`, software: null };
  }
}

/** The WebGL 2 renderer string (unmasked where the browser allows), or null without WebGL 2. */
function webglRenderer(): string | null {
  try {
    if (typeof OffscreenCanvas === 'undefined') return null;
    const gl = new OffscreenCanvas(1, 1).getContext('webgl2') as WebGL2RenderingContext | null;
    if (!gl) return null;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const r = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return r || null;
  } catch {
    return null;
  }
}

export interface Probe {
  webgpu: { problem: string | null; software: string | null };
  webglRenderer: string | null;
}

/**
 * The order to try, with the reason each backend ahead of the chosen one was passed over.
 * Pure: `selectBackend` feeds it the probes; the unit tests feed it made-up machines.
 */
export function backendOrder(requested: BackendRequest, probe: Probe): { order: BackendName[]; skipped: Partial<Record<BackendName, string>>; rule: string | null } {
  const skipped: Partial<Record<BackendName, string>> = {};
  const swGpu = probe.webgpu.software;
  const swGl = softwareRenderer(probe.webglRenderer);
  const gpuOk = !probe.webgpu.problem;
  const auto: BackendName[] = [];
  if (gpuOk && !swGpu) auto.push('webgpu');
  if (!swGl) auto.push('webgl');
  auto.push('wasm');
  if (swGl) auto.push('webgl');
  if (gpuOk && swGpu) auto.push('webgpu');
  auto.push('cpu');
  if (!gpuOk) skipped.webgpu = probe.webgpu.problem!;
  let rule: string | null = null;
  if (requested === 'auto') {
    // Training-step times on a machine without a GPU (README, Speed): software WebGPU 4,914 ms, software WebGL 1,493 ms, WASM 153 ms.
    if (swGpu) skipped.webgpu = `the only WebGPU adapter is ${swGpu}, not a GPU: it trains about 30× slower than WASM (add ?backend=webgpu to use it anyway)`;
    if (swGl) skipped.webgl = `renders in software (${probe.webglRenderer}): it trains about 10× slower than WASM (add ?backend=webgl to use it anyway)`;
    if (swGpu || (!gpuOk && swGl)) {
      rule = `No GPU here: ${swGpu ? 'WebGPU runs on a software adapter' : 'there is no WebGPU'}${swGl ? ' and WebGL renders in software' : ''}, so the page trains on WASM, the fastest backend on a CPU.`;
    }
  }
  const order = requested === 'auto' ? auto : [requested, ...auto.filter((b) => b !== requested)];
  return { order, skipped, rule };
}

export async function selectBackend(requested: BackendRequest, opts: InitBackendOptions = {}): Promise<BackendReport> {
  const gpu = await probeWebgpu();
  const probe: Probe = { webgpu: gpu, webglRenderer: webglRenderer() };
  const { order, skipped, rule } = backendOrder(requested, probe);
  const failures: Partial<Record<BackendName, string>> = {};
  for (const name of order) {
    if (name === 'webgpu' && gpu.problem) {
      failures.webgpu = gpu.problem;
      continue;
    }
    const reason = await trySetBackend(name, opts);
    if (reason === null) {
      // Say why each backend ahead of this one in the automatic order was not used.
      for (const [b, why] of Object.entries(skipped) as [BackendName, string][]) if (b !== name && !failures[b]) failures[b] = why;
      return {
        backend: name,
        requested,
        failures,
        adapterInfo: gpu.adapterInfo,
        ...(rule && name === 'wasm' ? { rule } : {}),
        ...(name === 'wasm' ? { wasmThreads: await wasmThreads() } : {}),
      };
    }
    failures[name] = reason;
  }
  throw new Error(`no tfjs backend could be initialised: ${JSON.stringify(failures)}`);
}

/**
 * Which WASM build runs, with how many threads, and why. tfjs loads the threaded build when
 * SharedArrayBuffer can be shared with workers (a cross-origin isolated page); it computes on more
 * than one thread only when its pool has more than one. tfjs makes the pool half the logical cores
 * (at most 8), so a 2-core machine gets a pool of 1 unless the URL asks for more (`?threads=2`,
 * core/backend.ts `liftWasmCoreCap`). Measured on the loaded 2-core machine (README, Speed), a pool
 * of 2 made a SePPO update 2.6× slower, so the page keeps tfjs's default.
 */
export async function wasmThreads(): Promise<{ threaded: boolean; count: number; why: string; binary: 'threaded-simd' | 'single' }> {
  const threadedBinary = (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true && (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  const count = getThreadsCount();
  const cores = globalThis.navigator?.hardwareConcurrency;
  return describeWasmThreads(threadedBinary, count, cores, (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true);
}

/** The report's words for a WASM build (`threadedBinary`: tfjs-backend-wasm-threaded-simd.wasm) with a pool of `count`. */
export function describeWasmThreads(threadedBinary: boolean, count: number, cores: number | undefined, isolated: boolean): { threaded: boolean; count: number; why: string; binary: 'threaded-simd' | 'single' } {
  if (threadedBinary && count > 1) return { threaded: true, count, binary: 'threaded-simd', why: `the page is cross-origin isolated; a pool of ${count} threads on ${cores ?? '?'} logical cores` };
  if (threadedBinary) return { threaded: false, count, binary: 'threaded-simd', why: `the threaded build is loaded, but its pool has 1 thread (tfjs's pool is half the logical cores, here ${cores ?? '?'}; ?threads=N in the URL asks for more), so it computes on one` };
  return {
    threaded: false,
    count,
    binary: 'single',
    why: isolated
      ? 'this browser has no WebAssembly threads'
      : 'the page is not cross-origin isolated (the server sends no COOP/COEP headers), so WebAssembly cannot use threads',
  };
}
