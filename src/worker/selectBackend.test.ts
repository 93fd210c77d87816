import { describe, expect, it } from 'vitest';
import { backendOrder, describeWasmThreads, softwareAdapter, softwareRenderer, type Probe } from './selectBackend';

const swiftshaderGpu: Probe = { webgpu: { problem: null, software: softwareAdapter({ vendor: 'google', architecture: 'swiftshader' }) }, webglRenderer: 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)' };
const realGpu: Probe = { webgpu: { problem: null, software: softwareAdapter({ vendor: 'nvidia', architecture: 'hopper' }) }, webglRenderer: 'ANGLE (NVIDIA, NVIDIA H200 Direct3D11 vs_5_0 ps_5_0)' };
const noWebgpuSwGl: Probe = { webgpu: { problem: 'navigator.gpu is not defined', software: null }, webglRenderer: 'Google SwiftShader' };

describe('software GPU detection', () => {
  it('a fallback adapter, or SwiftShader-like adapter info, is software; a real adapter is not', () => {
    expect(softwareAdapter({ vendor: 'google', architecture: 'swiftshader' })).toMatch(/software adapter: google \/ swiftshader/);
    expect(softwareAdapter({ vendor: 'intel', architecture: 'gen-12lp' }, true)).toMatch(/fallback/);
    expect(softwareAdapter({ vendor: 'intel', architecture: 'gen-12lp', isFallbackAdapter: true })).toMatch(/fallback/);
    expect(softwareAdapter({ vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toMatch(/llvmpipe/);
    expect(softwareAdapter({ vendor: 'apple', architecture: 'common-3' })).toBeNull();
    expect(softwareAdapter(undefined)).toBeNull();
    expect(softwareRenderer('Google SwiftShader')).toBe(true);
    expect(softwareRenderer('ANGLE (Apple, ANGLE Metal Renderer: Apple M2, Unspecified Version)')).toBe(false);
    expect(softwareRenderer(null)).toBe(false);
  });
});

describe('backend order', () => {
  it('no GPU (software WebGPU and WebGL): WASM first, the software ones after it, and the rule says why', () => {
    const r = backendOrder('auto', swiftshaderGpu);
    expect(r.order).toEqual(['wasm', 'webgl', 'webgpu', 'cpu']);
    expect(r.skipped.webgpu).toMatch(/software adapter: google \/ swiftshader.*30× slower than WASM.*\?backend=webgpu/);
    expect(r.skipped.webgl).toMatch(/renders in software.*\?backend=webgl/);
    expect(r.rule).toMatch(/^No GPU here: WebGPU runs on a software adapter and WebGL renders in software, so the page trains on WASM/);
  });

  it('a real GPU: WebGPU first, no rule', () => {
    const r = backendOrder('auto', realGpu);
    expect(r.order).toEqual(['webgpu', 'webgl', 'wasm', 'cpu']);
    expect(r.rule).toBeNull();
    expect(r.skipped).toEqual({});
  });

  it('no WebGPU and software WebGL: WASM, saying there is no WebGPU', () => {
    const r = backendOrder('auto', noWebgpuSwGl);
    expect(r.order).toEqual(['wasm', 'webgl', 'cpu']);
    expect(r.skipped.webgpu).toBe('navigator.gpu is not defined');
    expect(r.rule).toMatch(/there is no WebGPU and WebGL renders in software/);
  });

  it('?backend= still overrides: the software backend asked for is tried first, without a rule', () => {
    expect(backendOrder('webgpu', swiftshaderGpu).order).toEqual(['webgpu', 'wasm', 'webgl', 'cpu']);
    expect(backendOrder('webgl', swiftshaderGpu).order[0]).toBe('webgl');
    expect(backendOrder('webgpu', swiftshaderGpu).rule).toBeNull();
    expect(backendOrder('cpu', realGpu).order).toEqual(['cpu', 'webgpu', 'webgl', 'wasm']);
  });
});

describe('WASM threads (issue 14)', () => {
  it('calls a threaded build with a pool of one single-threaded, and says so', () => {
    expect(describeWasmThreads(true, 2, 2, true)).toEqual({ threaded: true, count: 2, binary: 'threaded-simd', why: 'the page is cross-origin isolated; a pool of 2 threads on 2 logical cores' });
    const one = describeWasmThreads(true, 1, 2, true);
    expect(one).toMatchObject({ threaded: false, count: 1, binary: 'threaded-simd' });
    expect(one.why).toContain('pool has 1 thread');
    expect(describeWasmThreads(false, 1, 2, false)).toMatchObject({ threaded: false, binary: 'single', why: expect.stringContaining('not cross-origin isolated') });
    expect(describeWasmThreads(false, 1, 2, true)).toMatchObject({ threaded: false, binary: 'single', why: 'this browser has no WebAssembly threads' });
  });
});
