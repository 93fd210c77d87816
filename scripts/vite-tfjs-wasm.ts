/**
 * A Vite plugin that lets tfjs's threaded WASM backend start from a bundled (minified) build.
 *
 * Why: on a cross-origin isolated page, `@tensorflow/tfjs-backend-wasm` starts its pthread
 * workers from a Blob holding `wasmFactoryThreadedSimd.toString()` — the source of the bundled
 * factory function. After bundling and minifying, that function refers to variables of the
 * enclosing module (Emscripten's `_scriptDir`, renamed `e`, whose `typeof` guard the minifier
 * drops because it sees the declaration), so every pthread worker dies with
 * "ReferenceError: e is not defined" and the backend never initialises (issue 18). The dev
 * server does not minify, so it worked there.
 *
 * Fix: give the pthread workers the package's own, untouched Emscripten script (imported
 * `?raw`), which defines the global `WasmBackendModuleThreadedSimd` the worker script calls.
 * The main thread keeps the bundled factory; both are the same code. If a tfjs upgrade changes
 * the line, the build fails here instead of shipping a broken backend.
 */
import type { Plugin } from 'vite';

const TARGET = /@tensorflow[\\/]tfjs-backend-wasm[\\/]dist[\\/]backend_wasm\.js$/;
const NEEDLE = /new Blob\(\[`var WasmBackendModuleThreadedSimd = ` \+\s*wasmFactoryThreadedSimd\.toString\(\)\]/;
const RAW_IMPORT = "import __tfjsWasmThreadedSimdSource from '../wasm-out/tfjs-backend-wasm-threaded-simd.js?raw';\n";

/** The rewritten module, or null if `id` is not tfjs's backend_wasm.js. Throws if the line to patch is missing. */
export function patchTfjsWasmBackend(code: string, id: string): string | null {
  if (!TARGET.test(id.split('?')[0])) return null;
  if (!NEEDLE.test(code)) {
    throw new Error(
      `tfjs-wasm-threads: the pthread Blob line was not found in ${id}; the tfjs version changed — check that the threaded WASM backend still starts in a built site`,
    );
  }
  return RAW_IMPORT + code.replace(NEEDLE, 'new Blob([__tfjsWasmThreadedSimdSource]');
}

export function tfjsWasmThreads(): Plugin {
  return {
    name: 'tfjs-wasm-threads',
    enforce: 'pre',
    transform(code, id) {
      const out = patchTfjsWasmBackend(code, id);
      return out === null ? null : { code: out, map: null };
    },
  };
}
