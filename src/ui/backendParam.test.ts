import { describe, expect, it } from 'vitest';
import { parseBackendParam } from './backendParam';

describe('parseBackendParam', () => {
  it('accepts known backends and auto', () => {
    expect(parseBackendParam('?backend=cpu')).toEqual({ request: 'cpu' });
    expect(parseBackendParam('?backend=WebGL')).toEqual({ request: 'webgl' });
    expect(parseBackendParam('')).toEqual({ request: 'auto' });
    expect(parseBackendParam('?backend=auto')).toEqual({ request: 'auto' });
  });
  it('names an unknown value and falls back to auto', () => {
    const r = parseBackendParam('?backend=tpu');
    expect(r.request).toBe('auto');
    expect(r.warning).toContain('"tpu"');
    expect(r.warning).toContain('webgpu, webgl, wasm, cpu');
  });
});
