/**
 * The typed message protocol between the page and the training worker.
 *
 * Requests carry an `id`; the worker answers each with exactly one `reply` (or `error`) with the
 * same id. Unsolicited events (progress, training records) carry no id. Add new requests to
 * `WorkerRequest` and their result type to `ReplyMap`: `WorkerClient.call` is then typed end to end.
 */
import type { BackendName } from '../core/backendNames';
import type { ExperimentEvent, ExperimentReplyMap, ExperimentRequest } from './protocol-experiment';
import type { ViewsEvent, ViewsReplyMap, ViewsRequest } from './protocol-views';
import type { VideoEvent, VideoReplyMap, VideoRequest } from './protocol-video';

/** What the page asks for: 'auto' = WebGPU → WebGL → WASM → CPU. */
export type BackendRequest = BackendName | 'auto';

export interface BackendReport {
  /** The backend tfjs is running on. */
  backend: BackendName;
  requested: BackendRequest;
  /** For each backend tried before the one in use: why it was not used. */
  failures: Partial<Record<BackendName, string>>;
  /** WebGPU adapter description when there is one (vendor / architecture). */
  adapterInfo?: string;
  /** Set when the automatic choice passed over software GPU backends: the rule, in one sentence. */
  rule?: string;
  /**
   * WASM only: whether it computes on more than one thread (the threaded build, which needs
   * SharedArrayBuffer, i.e. a cross-origin isolated page, with a pool of more than one), the size of
   * its thread pool, which build is loaded, and why.
   */
  wasmThreads?: { threaded: boolean; count: number; why: string; binary: 'threaded-simd' | 'single' };
}

/** Requests every feature shares: backend set-up and the start-up check. */
export type CoreRequest =
  | { id: number; type: 'init'; backend: BackendRequest; /** WASM thread pool size (`?threads=`); default: tfjs's (half the logical cores, at most 8). */ threads?: number }
  | { id: number; type: 'matmul'; a: number[][]; b: number[][] }
  /** tf.memory() in the worker, for the page's readout. */
  | { id: number; type: 'memory' }
  /** Test hook: destroys the WebGPU device, as a driver reset or GPU crash would lose it. */
  | { id: number; type: 'debug.loseDevice' }
  /** Test hook: from now on every IndexedDB write in the worker throws a QuotaExceededError, as a full disk does. */
  | { id: number; type: 'debug.fullDisk' };

export interface CoreReplyMap {
  init: BackendReport;
  matmul: { backend: BackendName; values: number[][] };
  memory: { numTensors: number; numBytes: number; backend: string };
  'debug.loseDevice': { destroyed: boolean };
  'debug.fullDisk': { full: true };
}

export type WorkerRequest = CoreRequest | ViewsRequest | ExperimentRequest | VideoRequest;
export interface ReplyMap extends CoreReplyMap, ViewsReplyMap, ExperimentReplyMap, VideoReplyMap {}

export type WorkerReply = {
  [K in keyof ReplyMap]: { id: number; type: 'reply'; request: K; result: ReplyMap[K] };
}[keyof ReplyMap];

export type WorkerEvent =
  | { type: 'progress'; stage: string; done: number; total: number; message?: string }
  | { type: 'log'; level: 'info' | 'warn'; message: string }
  /** The WebGPU device is gone (tfjs has no handling): every later op fails, so the page starts a fresh worker and resumes. */
  | { type: 'device-lost'; reason: string; message: string }
  | ViewsEvent
  | ExperimentEvent
  | VideoEvent;

export type WorkerMessage = WorkerReply | { id: number; type: 'error'; message: string } | WorkerEvent;

/** Distributes a request type over the union so callers pass the fields without `id`. */
export type RequestBody<T extends WorkerRequest = WorkerRequest> = T extends WorkerRequest ? Omit<T, 'id'> : never;
