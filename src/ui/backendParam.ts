import { BACKENDS, isBackendName } from '../core/backendNames';
import type { BackendRequest } from '../worker/protocol';

/** Reads `?threads=N` (1–64: the WASM thread pool; 1 = single-threaded compute), or undefined for the default. */
export function parseThreadsParam(search: string): number | undefined {
  const raw = new URLSearchParams(search).get('threads');
  if (raw === null || !/^\d+$/.test(raw.trim())) return undefined;
  const n = Number(raw.trim());
  return n >= 1 && n <= 64 ? n : undefined;
}

/** Reads `?backend=` from a query string: a known backend, 'auto', or a warning and 'auto'. */
export function parseBackendParam(search: string): { request: BackendRequest; warning?: string } {
  const raw = new URLSearchParams(search).get('backend');
  if (raw === null || raw === '' || raw === 'auto') return { request: 'auto' };
  const v = raw.trim().toLowerCase();
  if (isBackendName(v)) return { request: v };
  return {
    request: 'auto',
    warning: `Unknown backend "${raw}" in the URL (?backend=). Allowed: ${BACKENDS.join(', ')} or auto. Using the default (WebGPU first, then WebGL, WASM, CPU).`,
  };
}
