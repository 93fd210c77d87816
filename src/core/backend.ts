/**
 * Backend selection and set-up for TensorFlow.js, shared by the worker, Node scripts and tests.
 *
 * Pure tfjs: no DOM. The order of preference is WebGPU → WebGL → WASM → CPU. The WASM backend
 * is the fastest path on machines without a GPU, but tfjs 4.22 ships it without a
 * `Conv2DBackpropFilter` kernel, so convolution weights could not be trained on it. We register
 * that kernel here from the `Conv3DBackpropFilterV2` kernel WASM does have (a 2-D convolution is
 * a 3-D one of depth 1); `backend.test.ts` proves its gradients equal the CPU backend's. Stride 1
 * only: WASM's 3-D kernel is wrong for larger strides (measured), so models never use strided convs.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';

import type { BackendName } from './backendNames';
export { BACKENDS, isBackendName, type BackendName } from './backendNames';

type TensorInfo = { dataId: object; shape: number[]; dtype: string };
interface KernelBackendLike {
  disposeData(dataId: object, force?: boolean): boolean;
}

let conv2dFilterGradRegistered = false;

/** Registers `Conv2DBackpropFilter` for the WASM backend (NHWC, stride 1, 'same'/'valid', no dilation). */
export function registerWasmConv2DBackpropFilter(): void {
  if (conv2dFilterGradRegistered || tf.getKernel('Conv2DBackpropFilter', 'wasm')) return;
  conv2dFilterGradRegistered = true;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as unknown as { x: TensorInfo; dy: TensorInfo };
      const a = attrs as unknown as {
        strides: number | [number, number];
        pad: 'same' | 'valid' | number;
        dataFormat: 'NHWC' | 'NCHW';
        filterShape: [number, number, number, number];
      };
      if (a.dataFormat !== undefined && a.dataFormat !== 'NHWC') {
        throw new Error(`Conv2DBackpropFilter (wasm): only NHWC is supported, got ${a.dataFormat}`);
      }
      if (a.pad !== 'same' && a.pad !== 'valid') {
        throw new Error(`Conv2DBackpropFilter (wasm): only 'same' or 'valid' padding is supported, got ${String(a.pad)}`);
      }
      const [sh, sw] = typeof a.strides === 'number' ? [a.strides, a.strides] : a.strides;
      // Measured: WASM's Conv3DBackpropFilterV2 gives wrong values for strides > 1 (corners right,
      // inner taps wrong). Our models downsample with reshape-pooling instead of strided convs.
      if (sh !== 1 || sw !== 1) {
        throw new Error(`Conv2DBackpropFilter (wasm): only stride 1 is supported (got ${sh}×${sw}); downsample with pooling instead`);
      }
      const reshape = tf.getKernel('Reshape', 'wasm')!.kernelFunc;
      const conv3dFilterGrad = tf.getKernel('Conv3DBackpropFilterV2', 'wasm')!.kernelFunc;
      const b = backend as unknown as KernelBackendLike;
      const [n, h, w, c] = x.shape;
      const [, oh, ow, oc] = dy.shape;
      // Depth-1 views: x [n,1,h,w,c], dy [n,1,oh,ow,oc]; reshape shares the data (ref-counted).
      const x5 = reshape({ inputs: { x } as never, backend, attrs: { shape: [n, 1, h, w, c] } }) as TensorInfo;
      const dy5 = reshape({ inputs: { x: dy } as never, backend, attrs: { shape: [n, 1, oh, ow, oc] } }) as TensorInfo;
      const [fh, fw, ci, co] = a.filterShape;
      const dw5 = conv3dFilterGrad({
        inputs: { x: x5, dy: dy5 } as never,
        backend,
        attrs: { strides: [1, sh, sw], pad: a.pad, filterShape: [1, fh, fw, ci, co] },
      }) as TensorInfo;
      const dw = reshape({ inputs: { x: dw5 } as never, backend, attrs: { shape: [fh, fw, ci, co] } }) as TensorInfo;
      b.disposeData(x5.dataId);
      b.disposeData(dy5.dataId);
      b.disposeData(dw5.dataId);
      return dw as never;
    },
  });
}

let fastSumRegistered = false;
// Off by default: measured on the loaded 2-core machine (README, Speed), the matMul form did not make
// a training step faster (0.99× step by step, and more kernel time in Sum in tf.profile), although a
// lone Sum over leading axes of a [8,16,16,32] tensor ran 4–7× faster. Kept, tested, for `--ab fast-sum`.
let fastSumEnabled = false;
let fastSumCalls = 0;

/** How many `Sum` calls the replacement served as a matMul since start (tests check that it really runs). */
export function wasmFastSumCalls(): number {
  return fastSumCalls;
}

/** Switches the WASM `Sum` replacement on or off (off by default; `npm run bench -- --torch --ab fast-sum` times both). */
export function setWasmFastSum(enabled: boolean): void {
  fastSumEnabled = enabled;
}

export function wasmFastSumEnabled(): boolean {
  return fastSumEnabled;
}

/**
 * How a float32 `Sum` over `axes` of `shape` can be one matrix product by a ones vector, or null when
 * tfjs-wasm's own kernel is as good (the axes are already the innermost ones, or nothing is reduced):
 *   leading axes  [0..k−1]: x as [outer, inner] → ones[1,1,outer] · x[1,outer,inner]
 *   middle axes   [i..j]  : x as [pre, mid, post] → ones[1,1,mid] · x[pre,mid,post] (batch broadcast)
 * tfjs-wasm reduces only innermost axes, so for the others it first runs a Transpose of the whole
 * input; the backward pass's bias and broadcast gradients are all of this kind (issue 14's profile).
 */
export function sumAsMatMulPlan(shape: number[], axes: number[]): { pre: number; mid: number; post: number } | null {
  const r = shape.length;
  const ax = [...new Set(axes.map((a) => (a < 0 ? a + r : a)))].sort((a, b) => a - b);
  if (ax.length === 0 || ax.some((a) => a < 0 || a >= r)) return null;
  for (let i = 1; i < ax.length; i++) if (ax[i] !== ax[i - 1] + 1) return null; // not contiguous: leave it
  const lo = ax[0], hi = ax[ax.length - 1];
  if (hi === r - 1) return null; // innermost axes: the native kernel reduces them without a transpose
  const size = (a: number, b: number) => shape.slice(a, b).reduce((x, y) => x * y, 1);
  const plan = { pre: size(0, lo), mid: size(lo, hi + 1), post: size(hi + 1, r) };
  if (plan.mid <= 1) return null;
  return plan;
}

/**
 * Replaces WASM's `Sum` kernel for float32 reductions over leading or middle axes by a matrix
 * product with a ones vector (`sumAsMatMulPlan`); everything else goes to the original kernel. It
 * changes the summation order, so it is tested against the CPU backend with a tolerance
 * (backend.test.ts), and it is deterministic, so training stays bit-reproducible for a seed.
 */
export function registerWasmFastSum(): void {
  if (fastSumRegistered) return;
  const orig = tf.getKernel('Sum', 'wasm');
  if (!orig) return;
  fastSumRegistered = true;
  tf.unregisterKernel('Sum', 'wasm');
  tf.registerKernel({
    kernelName: 'Sum',
    backendName: 'wasm',
    setupFunc: orig.setupFunc,
    disposeFunc: orig.disposeFunc,
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args;
      const { x } = inputs as unknown as { x: TensorInfo };
      const { axis, keepDims } = attrs as unknown as { axis: number | number[]; keepDims: boolean };
      const axes = tf.util.parseAxisParam(axis, x.shape);
      const plan = fastSumEnabled && x.dtype === 'float32' ? sumAsMatMulPlan(x.shape, axes) : null;
      if (!plan) return orig.kernelFunc(args);
      fastSumCalls++;
      const reshape = tf.getKernel('Reshape', 'wasm')!.kernelFunc;
      const fill = tf.getKernel('Fill', 'wasm')!.kernelFunc;
      const bmm = tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc;
      const b = backend as unknown as KernelBackendLike;
      const ones = fill({ inputs: {}, backend, attrs: { shape: [1, 1, plan.mid], value: 1, dtype: 'float32' } } as never) as TensorInfo;
      const x3 = reshape({ inputs: { x } as never, backend, attrs: { shape: [plan.pre, plan.mid, plan.post] } }) as TensorInfo;
      const y3 = bmm({ inputs: { a: ones, b: x3 } as never, backend, attrs: { transposeA: false, transposeB: false } } as never) as TensorInfo; // [pre,1,post]
      const r = x.shape.length;
      const outShape = keepDims ? x.shape.map((d, i) => (axes.includes(i) || axes.includes(i - r) ? 1 : d)) : x.shape.filter((_, i) => !(axes.includes(i) || axes.includes(i - r)));
      const y = reshape({ inputs: { x: y3 } as never, backend, attrs: { shape: outShape } }) as TensorInfo;
      b.disposeData(ones.dataId);
      b.disposeData(x3.dataId);
      b.disposeData(y3.dataId);
      return y as never;
    },
  });
}

let fastSliceRegistered = false;
let fastSliceEnabled = true;
let fastSliceCalls = 0;

/** How many `Slice` and `SplitV` calls the replacements served since start (tests check that they really run). */
export function wasmFastSliceCalls(): number {
  return fastSliceCalls;
}
/** Switches the WASM `Slice`/`SplitV` replacements on or off (on by default; `npm run bench -- --torch --ab fast-slice`). */
export function setWasmFastSlice(enabled: boolean): void {
  fastSliceEnabled = enabled;
}
export function wasmFastSliceEnabled(): boolean {
  return fastSliceEnabled;
}

interface WasmBackendInternals {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  /** A view of a tensor's bytes in the WASM heap (Float32Array, Int32Array, or Uint8Array for bool). */
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/**
 * Copies `x[begin : begin + size]` into a new WASM tensor, reading `x` through a view of the heap.
 * Dimensions k.. form one contiguous run when every dimension after k is taken whole, so the copy is
 * one `set` per run.
 */
function sliceFromHeap(be: WasmBackendInternals, x: TensorInfo, b0: number[], s0: number[]): TensorInfo {
  const out = be.makeOutput(s0, x.dtype); // may grow the heap: take the views after it
  const n = tf.util.sizeFromShape(s0);
  if (n === 0) return out;
  const xv = be.typedArrayFromHeap(x);
  const ov = be.typedArrayFromHeap(out);
  const r = x.shape.length;
  const strides = [...tf.util.computeStrides(x.shape), 1]; // element strides, innermost 1
  let k = r - 1;
  while (k > 0 && b0[k] === 0 && s0[k] === x.shape[k]) k--;
  const run = s0.slice(k).reduce((p, c) => p * c, 1);
  const idx = new Array<number>(k).fill(0); // the index over the outer dimensions 0..k−1
  for (let o = 0; o < n; o += run) {
    let off = b0[k] * strides[k];
    for (let d = 0; d < k; d++) off += (b0[d] + idx[d]) * strides[d];
    ov.set(xv.subarray(off, off + run), o);
    for (let d = k - 1; d >= 0; d--) {
      if (++idx[d] < s0[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

const fastSliceable = (x: TensorInfo) => fastSliceEnabled && x.shape.length > 0 && (x.dtype === 'float32' || x.dtype === 'int32' || x.dtype === 'bool');

/**
 * Replaces WASM's `Slice` and `SplitV` kernels for numeric tensors. tfjs-wasm 4.22's Slice starts
 * with `backend.readSync(x.dataId)`, which copies the **whole input** out of the WASM heap
 * (`HEAPU8.slice`) on every call, however small the slice, and its SplitV calls that Slice once per
 * piece: slicing 109 pieces out of a 455k-float vector took 213 ms, splitting it 158 ms (measured).
 * These read the input through a view of the heap and copy only the slice. A copy, so bit-identical
 * to the original kernels (tested); strings, complex64 and scalars go to the originals.
 */
export function registerWasmFastSlice(): void {
  if (fastSliceRegistered) return;
  const slice = tf.getKernel('Slice', 'wasm');
  const split = tf.getKernel('SplitV', 'wasm');
  if (!slice || !split) return;
  fastSliceRegistered = true;
  tf.unregisterKernel('Slice', 'wasm');
  tf.registerKernel({
    ...slice,
    kernelFunc: (args) => {
      const x = (args.inputs as unknown as { x: TensorInfo }).x;
      if (!fastSliceable(x)) return slice.kernelFunc(args);
      fastSliceCalls++;
      const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
      const [b0, s0] = tf.slice_util.parseSliceParams(x as tf.TensorInfo, begin, size);
      return sliceFromHeap(args.backend as unknown as WasmBackendInternals, x, b0, s0) as never;
    },
  });
  tf.unregisterKernel('SplitV', 'wasm');
  tf.registerKernel({
    ...split,
    kernelFunc: (args) => {
      const x = (args.inputs as unknown as { x: TensorInfo }).x;
      if (!fastSliceable(x)) return split.kernelFunc(args);
      fastSliceCalls++;
      const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number | number[] };
      const ax = tf.util.parseAxisParam(axis, x.shape)[0];
      const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
      const begin = new Array<number>(x.shape.length).fill(0);
      return sizes.map((n) => {
        const size = [...x.shape];
        size[ax] = n;
        const out = sliceFromHeap(args.backend as unknown as WasmBackendInternals, x, [...begin], size);
        begin[ax] += n;
        return out;
      }) as never;
    },
  });
}

export interface InitBackendOptions {
  /** Where the WASM binaries live: a directory (Node) or URL prefix, or a map file name → URL (Vite). */
  wasmPaths?: string | Record<string, string>;
  /** Threads for the WASM backend (browser with cross-origin isolation only). */
  wasmThreads?: number;
}

/**
 * tfjs-wasm 4.22 caps its XNNPACK pool at half the logical cores, whatever `setThreadsCount` asks
 * (backend.cc: `min(requested, 8, emscripten_num_logical_cores() / 2)`, the "2 threads per core"
 * guess), so a 2-core machine always got a pool of 1 — the threaded build, computing on one thread.
 * `emscripten_num_logical_cores()` reads `navigator.hardwareConcurrency` once, while the module
 * starts; for that moment this reports 2 × `threads`, then puts the real value back (the returned
 * function). No-op where there is no `navigator` (Node 20, whose WASM build has no threads anyway).
 */
export function liftWasmCoreCap(threads: number): () => void {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (!nav || typeof nav.hardwareConcurrency !== 'number' || threads <= Math.floor(nav.hardwareConcurrency / 2)) return () => {};
  const own = Object.getOwnPropertyDescriptor(nav, 'hardwareConcurrency');
  try {
    Object.defineProperty(nav, 'hardwareConcurrency', { value: 2 * threads, configurable: true });
  } catch {
    return () => {};
  }
  return () => {
    if (own) Object.defineProperty(nav, 'hardwareConcurrency', own);
    else delete (nav as { hardwareConcurrency?: number }).hardwareConcurrency;
  };
}

/**
 * Tries to switch tfjs to `name`. Returns null on success or a plain-language reason on failure
 * (setBackend throws when a backend is not registered and returns false when it has no adapter).
 */
export async function trySetBackend(name: BackendName, opts: InitBackendOptions = {}): Promise<string | null> {
  try {
    if (name === 'wasm') {
      if (opts.wasmPaths) setWasmPaths(opts.wasmPaths as Parameters<typeof setWasmPaths>[0]);
      if (opts.wasmThreads) setThreadsCount(opts.wasmThreads);
      registerWasmConv2DBackpropFilter();
      registerWasmFastSum();
      registerWasmFastSlice();
    }
    const restore = name === 'wasm' && opts.wasmThreads ? liftWasmCoreCap(opts.wasmThreads) : () => {};
    let ok: boolean;
    try {
      ok = await tf.setBackend(name);
    } finally {
      restore();
    }
    if (!ok) return `tf.setBackend('${name}') returned false (the backend found no usable device)`;
    await tf.ready();
    return null;
  } catch (e) {
    return `${name} failed to initialise: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** Node only: the folder holding the WASM binaries of the installed package. */
export async function nodeWasmPaths(): Promise<string> {
  const { createRequire } = await import('node:module');
  const path = await import('node:path');
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + '/';
}

/**
 * Node: selects `name` ('wasm' by default: the fast path for convolution training here).
 * Throws with a reason if it cannot.
 */
export async function initNodeBackend(name: 'wasm' | 'cpu' = 'wasm'): Promise<void> {
  const reason = await trySetBackend(name, name === 'wasm' ? { wasmPaths: await nodeWasmPaths() } : {});
  if (reason) throw new Error(reason);
}
