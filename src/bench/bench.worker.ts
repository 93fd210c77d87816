/// <reference lib="webworker" />
/** Runs the UNet benchmark in a dedicated worker (where training runs) on the asked backend. */
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { trySetBackend, type BackendName } from '../core/backend';
import { benchUNet } from '../core/bench';

declare const self: DedicatedWorkerGlobalScope;

self.onmessage = async (ev: MessageEvent<{ backend: BackendName; batch: number; runs: number; warmup: number }>) => {
  const { backend, batch, runs, warmup } = ev.data;
  try {
    const wasmPaths = {
      'tfjs-backend-wasm.wasm': wasmPlain,
      'tfjs-backend-wasm-simd.wasm': wasmSimd,
      'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
    };
    const reason = await trySetBackend(backend, { wasmPaths });
    if (reason) throw new Error(reason);
    self.postMessage({ ok: true, result: await benchUNet({ batch, runs, warmup }) });
  } catch (e) {
    self.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) });
  }
};
