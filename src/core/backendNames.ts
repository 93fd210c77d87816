/** The tfjs backends the playground knows, in order of preference (no tfjs import: the page uses this). */
export const BACKENDS = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export function isBackendName(x: unknown): x is BackendName {
  return typeof x === 'string' && (BACKENDS as readonly string[]).includes(x);
}
