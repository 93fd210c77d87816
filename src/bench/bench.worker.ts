/// <reference lib="webworker" />
/**
 * Runs the UNet benchmark in a dedicated worker (where training runs) on the asked backend. With
 * `threads` the WASM pool gets that many threads (default: tfjs's, half the logical cores); with
 * `seppoBatch` it also times full SePPO updates on the shipped base (public/models/base), reference
 * sampling included (src/core/profile.ts, `profileSeppoUpdate`).
 */
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { trySetBackend, type BackendName } from '../core/backend';
import { benchUNet } from '../core/bench';

declare const self: DedicatedWorkerGlobalScope;

self.onmessage = async (ev: MessageEvent<{ backend: BackendName; batch: number; runs: number; warmup: number; threads?: number; seppoBatch?: number }>) => {
  const { backend, batch, runs, warmup, threads, seppoBatch } = ev.data;
  try {
    const wasmPaths = {
      'tfjs-backend-wasm.wasm': wasmPlain,
      'tfjs-backend-wasm-simd.wasm': wasmSimd,
      'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
    };
    const reason = await trySetBackend(backend, { wasmPaths, wasmThreads: threads });
    if (reason) throw new Error(reason);
    const wasm: { threads: number; isolated: boolean; threadedBinary: boolean; cores: number; poolAfter?: number } | undefined =
      backend === 'wasm'
        ? { threads: getThreadsCount(), isolated: self.crossOriginIsolated, threadedBinary: (await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')) === true, cores: navigator.hardwareConcurrency }
        : undefined;
    const result = await benchUNet({ batch, runs, warmup });
    // the pool as the module reports it after the run (the same as getThreadsCount() unless the pool changed)
    if (wasm) wasm.poolAfter = (tf.backend() as unknown as { wasm: { tfjs: { getThreadsCount(): number } } }).wasm.tfjs.getThreadsCount();
    let seppo: { batch: number; updateMs: number; phases: { phase: string; ms: number }[]; runs: number } | undefined;
    if (seppoBatch) {
      const { loadReducedSD } = await import('../core/model/checkpoint');
      const { disposeReducedSD } = await import('../core/model/sd');
      const { profileSeppoUpdate } = await import('../core/profile');
      const [cfg, bytes] = await Promise.all([
        fetch('/models/base/config.json').then((r) => r.json()),
        fetch('/models/base/model.safetensors').then((r) => r.arrayBuffer()),
      ]);
      const m = loadReducedSD(new Uint8Array(bytes), cfg, 'benchseppo');
      try {
        const p = await profileSeppoUpdate(m, { batch: seppoBatch, warmup: 1, runs: Math.max(1, Math.min(runs, 3)) });
        seppo = { batch: seppoBatch, updateMs: p.updateMs, phases: p.phases, runs: p.runs };
      } finally {
        disposeReducedSD(m);
      }
    }
    self.postMessage({ ok: true, result, wasm, seppo });
  } catch (e) {
    self.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) });
  }
};
