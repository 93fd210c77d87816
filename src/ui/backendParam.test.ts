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

describe('?threads=', () => {
  it('reads a pool size of 1–64, else the default', async () => {
    const { parseThreadsParam } = await import('./backendParam');
    expect(parseThreadsParam('?threads=1')).toBe(1);
    expect(parseThreadsParam('?backend=wasm&threads=2')).toBe(2);
    expect(parseThreadsParam('')).toBeUndefined();
    expect(parseThreadsParam('?threads=0')).toBeUndefined();
    expect(parseThreadsParam('?threads=two')).toBeUndefined();
    expect(parseThreadsParam('?threads=1.5')).toBeUndefined();
    expect(parseThreadsParam('?threads=65')).toBeUndefined();
  });
});
