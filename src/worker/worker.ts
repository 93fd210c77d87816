/// <reference lib="webworker" />
/**
 * The dedicated module worker that hosts tfjs (and, later, training). The page never runs tensor
 * maths: it sends `WorkerRequest`s and renders what comes back.
 */
import * as tf from '@tensorflow/tfjs';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { WorkerMessage, WorkerRequest, ReplyMap } from './protocol';
import { selectBackend } from './selectBackend';
import { isBackendName } from '../core/backend';

declare const self: DedicatedWorkerGlobalScope;

const wasmPaths = {
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
};

function post(msg: WorkerMessage) {
  self.postMessage(msg);
}

async function handle(req: WorkerRequest): Promise<ReplyMap[WorkerRequest['type']]> {
  switch (req.type) {
    case 'init':
      return selectBackend(req.backend, { wasmPaths });
    case 'matmul': {
      const c = tf.tidy(() => tf.matMul(tf.tensor2d(req.a), tf.tensor2d(req.b)));
      const values = (await c.array()) as number[][];
      c.dispose();
      const backend = tf.getBackend();
      if (!isBackendName(backend)) throw new Error(`unexpected backend ${backend}`);
      return { backend, values };
    }
  }
}

self.onmessage = async (ev: MessageEvent<WorkerRequest>) => {
  const req = ev.data;
  try {
    const result = await handle(req);
    post({ id: req.id, type: 'reply', request: req.type, result } as WorkerMessage);
  } catch (e) {
    post({ id: req.id, type: 'error', message: e instanceof Error ? e.message : String(e) });
  }
};
