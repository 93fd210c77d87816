/// <reference lib="webworker" />
/**
 * The dedicated module worker that hosts tfjs (and, later, training). The page never runs tensor
 * maths: it sends `WorkerRequest`s and renders what comes back.
 */
import * as tf from '@tensorflow/tfjs';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { CoreRequest, WorkerEvent, WorkerMessage, WorkerRequest } from './protocol';
import type { ExperimentRequest } from './protocol-experiment';
import type { ViewsRequest } from './protocol-views';
import { handleExperiment } from './handle-experiment';
import { handleViews } from './handle-views';
import { handleVideo } from './handle-video';
import { VIDEO_REQUEST_TYPES, type VideoRequest } from './protocol-video';
import { VIEW_REQUEST_TYPES } from './protocol-views';
import { selectBackend } from './selectBackend';
import { isBackendName } from '../core/backend';

declare const self: DedicatedWorkerGlobalScope;

const wasmPaths = {
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
};

interface DeviceLike {
  lost?: Promise<{ reason?: string; message?: string }>;
  destroy(): void;
}
const webgpuDevice = () => (tf.getBackend() === 'webgpu' ? (tf.backend() as unknown as { device?: DeviceLike }).device : undefined);

/** tfjs has no device-lost handling: tell the page, which starts a fresh worker and resumes from the last save. */
function watchDevice() {
  void webgpuDevice()?.lost?.then((info) => emit({ type: 'device-lost', reason: info.reason ?? 'unknown', message: info.message ?? '' }));
}

function post(msg: WorkerMessage) {
  self.postMessage(msg);
}

const emit = (e: WorkerEvent) => post(e);

function isCoreRequest(req: WorkerRequest): req is CoreRequest {
  return req.type === 'init' || req.type === 'matmul' || req.type === 'memory' || req.type === 'debug.loseDevice' || req.type === 'debug.fullDisk';
}

/** Views' request types are listed in protocol-views.ts; everything else goes to the experiment. */
const VIEW_TYPES = new Set<string>(VIEW_REQUEST_TYPES);

/** The Video view's requests (protocol-video.ts); its grid events transfer their frame buffers. */
const VIDEO_TYPES = new Set<string>(VIDEO_REQUEST_TYPES);

async function handle(req: WorkerRequest): Promise<unknown> {
  if (VIDEO_TYPES.has(req.type)) return handleVideo(req as VideoRequest, (e, transfer) => self.postMessage(e, transfer ?? []));
  if (!isCoreRequest(req)) {
    return VIEW_TYPES.has((req as { type: string }).type)
      ? handleViews(req as ViewsRequest, emit)
      : handleExperiment(req as ExperimentRequest, emit);
  }
  switch (req.type) {
    case 'init': {
      const report = await selectBackend(req.backend, { wasmPaths, wasmThreads: req.threads });
      if (report.backend === 'webgpu') watchDevice();
      return report;
    }
    case 'debug.loseDevice': {
      const device = webgpuDevice();
      device?.destroy();
      return { destroyed: !!device };
    }
    case 'debug.fullDisk': {
      // The storage call itself fails as on a full disk (the saved-runs and base-evaluation stores both see it).
      IDBObjectStore.prototype.put = function () {
        throw new DOMException("The quota has been exceeded.", 'QuotaExceededError');
      };
      return { full: true } as const;
    }
    case 'memory': {
      const m = tf.memory();
      return { numTensors: m.numTensors, numBytes: m.numBytes, backend: tf.getBackend() };
    }
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
    post({ id: req.id, type: 'reply', request: req.type, result } as unknown as WorkerMessage);
  } catch (e) {
    post({ id: req.id, type: 'error', message: e instanceof Error ? e.message : String(e) });
  }
};
