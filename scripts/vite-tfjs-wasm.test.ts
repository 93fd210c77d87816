import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { patchTfjsWasmBackend } from './vite-tfjs-wasm';

const require = createRequire(import.meta.url);
const distDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
const backendId = path.join(distDir, 'backend_wasm.js');
const backendCode = readFileSync(backendId, 'utf8');

describe('tfjs-wasm-threads plugin', () => {
  it('gives the pthread Blob the untouched Emscripten script instead of the bundled function source', () => {
    const out = patchTfjsWasmBackend(backendCode, backendId)!;
    expect(out).not.toBeNull();
    expect(out).not.toMatch(/wasmFactoryThreadedSimd\.toString\(\)/);
    expect(out).toContain("from '../wasm-out/tfjs-backend-wasm-threaded-simd.js?raw'");
    expect(out).toContain('new Blob([__tfjsWasmThreadedSimdSource]');
    // The main thread still runs the bundled factory.
    expect(out).toContain('wasm = wasmFactoryThreadedSimd(factoryConfig)');
  });

  it('leaves every other module alone, and fails the build if the line it patches moved', () => {
    expect(patchTfjsWasmBackend('export const x = 1;', '/src/ui/App.tsx')).toBeNull();
    expect(() => patchTfjsWasmBackend('// a different tfjs version', backendId)).toThrow(/pthread Blob line was not found/);
  });

  it('the raw script is self-contained: in a bare worker-like scope it defines the global factory the pthread worker calls', () => {
    const raw = readFileSync(path.join(distDir, '../wasm-out/tfjs-backend-wasm-threaded-simd.js'), 'utf8');
    const scope: Record<string, unknown> = { self: {} };
    vm.createContext(scope);
    vm.runInContext(raw, scope); // throws if the script needed anything from a bundle's scope
    expect(typeof scope.WasmBackendModuleThreadedSimd).toBe('function');
  });
});
