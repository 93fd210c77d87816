import { BACKENDS, isBackendName } from '../core/backendNames';
import type { BackendRequest } from '../worker/protocol';

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
