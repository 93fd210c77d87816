import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend, liftWasmCoreCap, setWasmFastSlice, setWasmFastSum, sumAsMatMulPlan, wasmFastSliceCalls, wasmFastSliceEnabled, wasmFastSumCalls, wasmFastSumEnabled } from './backend';

function convGrads(stride: number, pad: 'same' | 'valid') {
  return tf.tidy(() => {
    const x = tf.randomNormal([2, 8, 8, 5], 0, 1, 'float32', 1);
    const w = tf.randomNormal([3, 3, 5, 7], 0, 1, 'float32', 2);
    const g = tf.grads((xx: tf.Tensor, ww: tf.Tensor) =>
      tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, stride, pad).square().sum(),
    );
    const [dx, dw] = g([x, w]);
    return [dx.arraySync(), dw.arraySync()] as [number[][][][], number[][][][]];
  });
}

function maxAbsDiff(a: unknown, b: unknown): number {
  const fa = (a as number[]).flat(4) as number[];
  const fb = (b as number[]).flat(4) as number[];
  expect(fa.length).toBe(fb.length);
  return Math.max(...fa.map((v, i) => Math.abs(v - fb[i])));
}

describe('tfjs backends in Node', () => {
  it('runs a computation on the CPU backend', async () => {
    await initNodeBackend('cpu');
    expect(tf.getBackend()).toBe('cpu');
    const y = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]]));
    expect(Array.from(await y.data())).toEqual([17, 39]);
    y.dispose();
  });

  it('WASM conv2d filter gradient (registered from Conv3DBackpropFilterV2) equals the CPU backend', async () => {
    for (const [stride, pad] of [[1, 'same'], [1, 'valid']] as const) {
      await initNodeBackend('cpu');
      const [dxCpu, dwCpu] = convGrads(stride, pad);
      await initNodeBackend('wasm');
      expect(tf.getBackend()).toBe('wasm');
      const [dxWasm, dwWasm] = convGrads(stride, pad);
      const scale = Math.max(...(dwCpu.flat(4) as number[]).map(Math.abs));
      expect(maxAbsDiff(dwWasm, dwCpu) / scale).toBeLessThan(1e-5);
      expect(maxAbsDiff(dxWasm, dxCpu) / scale).toBeLessThan(1e-5);
    }
  });

  it('the WASM filter-gradient kernel refuses strides it would get wrong', async () => {
    await initNodeBackend('wasm');
    expect(() => convGrads(2, 'same')).toThrow(/only stride 1 is supported/);
  });

  it('the WASM filter-gradient kernel leaks no tensors', async () => {
    await initNodeBackend('wasm');
    const x = tf.randomNormal([2, 8, 8, 4]);
    const w = tf.variable(tf.randomNormal([3, 3, 4, 4]));
    const step = () => tf.tidy(() => tf.variableGrads(() => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same').square().sum(), [w]).grads[w.name].sum().dataSync());
    step();
    const before = tf.memory().numTensors;
    const bytesBefore = tf.memory().numBytes;
    for (let i = 0; i < 5; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.memory().numBytes).toBe(bytesBefore);
  });
});

describe('WASM Sum as a matMul by a ones vector (issue 14; off by default, switched on here)', () => {
  beforeEach(() => setWasmFastSum(true));
  afterEach(() => setWasmFastSum(false));
  it('is off unless switched on (it did not speed a training step up, README Speed)', async () => {
    setWasmFastSum(false);
    await initNodeBackend('wasm');
    expect(wasmFastSumEnabled()).toBe(false);
    const calls = wasmFastSumCalls();
    tf.tidy(() => tf.sum(tf.ones([16, 8]), 0).dataSync());
    expect(wasmFastSumCalls()).toBe(calls);
  });

  it('plans only leading or middle contiguous axes, never the innermost ones', () => {
    expect(sumAsMatMulPlan([8, 8, 8, 32], [0, 1, 2])).toEqual({ pre: 1, mid: 512, post: 32 });
    expect(sumAsMatMulPlan([8, 8, 8, 64], [1, 2])).toEqual({ pre: 8, mid: 64, post: 64 });
    expect(sumAsMatMulPlan([8, 8, 8, 64], [-3, -2])).toEqual({ pre: 8, mid: 64, post: 64 });
    expect(sumAsMatMulPlan([512, 32], [0])).toEqual({ pre: 1, mid: 512, post: 32 });
    expect(sumAsMatMulPlan([8, 8, 8, 64], [3])).toBeNull(); // innermost: the native kernel needs no transpose
    expect(sumAsMatMulPlan([8, 8, 8, 64], [0, 1, 2, 3])).toBeNull();
    expect(sumAsMatMulPlan([8, 64, 8, 4], [1, 3])).toBeNull(); // not contiguous
    expect(sumAsMatMulPlan([1, 1, 8, 4], [0, 1])).toBeNull(); // nothing to sum
    expect(sumAsMatMulPlan([8, 4], [])).toBeNull();
  });

  const cases: [number[], number[], boolean][] = [
    [[8, 8, 8, 32], [0, 1, 2], false],
    [[8, 16, 16, 32], [0, 1, 2], true],
    [[8, 8, 8, 64], [1, 2], false],
    [[8, 8, 8, 64], [1, 2], true],
    [[300, 17], [0], false],
    [[4, 6, 5, 3], [0, 1], true],
    [[8, 64, 8, 4], [1, 3], false], // goes to the native kernel
    [[8, 5], [1], false],
  ];

  it('equals the CPU backend (relative to the largest |sum|: < 1e-5, float32 sums of up to 2,048 terms in another order) and really runs as a matMul where planned', async () => {
    const results: Float32Array[] = [];
    await initNodeBackend('cpu');
    for (const [shape, axes, keep] of cases) {
      const x = tf.randomNormal(shape, 0.5, 1, 'float32', 7);
      const y = tf.sum(x, axes, keep);
      results.push(y.dataSync() as Float32Array);
      tf.dispose([x, y]);
    }
    await initNodeBackend('wasm');
    for (const [i, [shape, axes, keep]] of cases.entries()) {
      const x = tf.randomNormal(shape, 0.5, 1, 'float32', 7);
      const calls = wasmFastSumCalls();
      const y = tf.sum(x, axes, keep);
      expect(wasmFastSumCalls() - calls, `${shape} over ${axes}`).toBe(sumAsMatMulPlan(shape, axes) ? 1 : 0);
      const want = results[i];
      expect(y.shape).toEqual(tf.tidy(() => tf.zeros(shape).sum(axes, keep).shape));
      const got = y.dataSync();
      const scale = Math.max(...Array.from(want, Math.abs));
      let d = 0;
      for (let k = 0; k < want.length; k++) d = Math.max(d, Math.abs(got[k] - want[k]));
      expect(d / scale, `${shape} over ${axes}`).toBeLessThan(1e-5);
      tf.dispose([x, y]);
    }
    // int32 sums and a switched-off replacement go to the native kernel
    const calls = wasmFastSumCalls();
    expect(Array.from(tf.tidy(() => tf.sum(tf.ones([4, 3], 'int32'), 0).dataSync()))).toEqual([4, 4, 4]);
    setWasmFastSum(false);
    try {
      tf.tidy(() => tf.sum(tf.ones([4, 3]), 0).dataSync());
    } finally {
      setWasmFastSum(true);
    }
    expect(wasmFastSumCalls()).toBe(calls);
  });

  it('leaves no tensors and no bytes behind, forward and in gradients', async () => {
    await initNodeBackend('wasm');
    const x = tf.randomNormal([4, 8, 8, 16]);
    const b = tf.variable(tf.zeros([16]));
    const step = () => tf.tidy(() => tf.variableGrads(() => tf.add(x, b).square().sum([0, 1, 2]).sum(), [b]).grads[b.name].dataSync());
    step();
    const before = tf.memory().numTensors, bytes = tf.memory().numBytes, calls = wasmFastSumCalls();
    for (let i = 0; i < 5; i++) step();
    expect(wasmFastSumCalls()).toBeGreaterThan(calls);
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.memory().numBytes).toBe(bytes);
    tf.dispose([x, b]);
  });
});

describe('WASM Slice that copies only the slice (issue 14; tfjs-wasm 4.22 copies the whole input first)', () => {
  afterEach(() => setWasmFastSlice(true));
  // [shape, begin, size]: contiguous, strided, merged trailing dims, rank 1–5, size −1, empty.
  const cases: [number[], number[], number[]][] = [
    [[100], [7], [50]],
    [[100], [0], [100]],
    [[6, 7], [2, 0], [3, 7]],
    [[6, 7], [1, 2], [4, 3]],
    [[6, 7], [0, 6], [6, 1]],
    [[4, 5, 6], [1, 0, 0], [2, 5, 6]],
    [[4, 5, 6], [1, 2, 0], [3, 2, 6]],
    [[4, 5, 6], [0, 1, 3], [4, 3, -1]],
    [[3, 4, 5, 6], [1, 1, 1, 1], [2, 2, 3, 4]],
    [[3, 4, 5, 6], [0, 0, 2, 0], [-1, -1, 2, -1]],
    [[2, 3, 4, 5, 6], [1, 0, 1, 2, 3], [1, 3, 2, 2, 3]],
    [[4, 5], [2, 1], [0, 3]],
  ];
  const run = (dtype: 'float32' | 'int32' | 'bool') =>
    cases.map(([shape, begin, size]) =>
      tf.tidy(() => {
        const n = shape.reduce((a, b) => a * b, 1);
        const vals = Array.from({ length: n }, (_, i) => (dtype === 'bool' ? Number((i * 7) % 3 === 0) : dtype === 'int32' ? i * 3 - 50 : Math.sin(i) * 1e3));
        const x = tf.tensor(vals, shape, dtype);
        const y = tf.slice(x, begin, size);
        return { shape: y.shape, dtype: y.dtype, data: Array.from(y.dataSync() as ArrayLike<number>) };
      }),
    );

  it('is on by default and equals the CPU backend bit for bit (float32, int32, bool; ranks 1–5; size −1; empty)', async () => {
    expect(wasmFastSliceEnabled()).toBe(true);
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      await initNodeBackend('cpu');
      const cpu = run(dtype);
      await initNodeBackend('wasm');
      const calls = wasmFastSliceCalls();
      const fast = run(dtype);
      expect(wasmFastSliceCalls() - calls, dtype).toBe(cases.length);
      setWasmFastSlice(false);
      const native = run(dtype);
      setWasmFastSlice(true);
      expect(fast, dtype).toEqual(cpu);
      expect(native, dtype).toEqual(cpu);
    }
  });

  it('serves SplitV too (bit-equal to the CPU backend on every axis, uneven pieces)', async () => {
    const pieces = () =>
      tf.tidy(() => {
        const x = tf.tensor(Array.from({ length: 4 * 6 * 5 }, (_, i) => Math.cos(i) * 100), [4, 6, 5]);
        return [0, 1, 2].flatMap((ax) => tf.split(x, ax === 0 ? [1, 3] : ax === 1 ? [2, 0, 4] : 5, ax).map((p) => ({ shape: p.shape, data: Array.from(p.dataSync()) })));
      });
    await initNodeBackend('cpu');
    const cpu = pieces();
    await initNodeBackend('wasm');
    const calls = wasmFastSliceCalls();
    expect(pieces()).toEqual(cpu);
    expect(wasmFastSliceCalls() - calls).toBe(3);
  });

  it('serves slices and splits inside gradients, the same bits as the native kernels, and leaves no tensors or bytes behind', async () => {
    await initNodeBackend('wasm');
    const x = tf.variable(tf.randomNormal([12, 9], 0, 1, 'float32', 4));
    const loss = () => tf.split(x, [3, 4, 5]).map((p, i) => p.square().sum().mul(i + 1)).reduce((a, b) => a.add(b)).add(tf.slice(x, [2, 3], [5, 4]).sum()) as tf.Scalar;
    const step = () => tf.tidy(() => tf.variableGrads(loss, [x]).grads[x.name].dataSync());
    const g0 = step();
    const before = tf.memory().numTensors, bytes = tf.memory().numBytes, calls = wasmFastSliceCalls();
    for (let i = 0; i < 3; i++) expect(step()).toEqual(g0);
    expect(wasmFastSliceCalls() - calls).toBe(6);
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.memory().numBytes).toBe(bytes);
    setWasmFastSlice(false);
    expect(step()).toEqual(g0);
    x.dispose();
  });
});

describe('a UNet training step on WASM with the Sum replacement', () => {
  beforeEach(() => setWasmFastSum(true));
  afterEach(() => setWasmFastSum(false));
  it('gives the gradients of the native kernel (relative to the largest |gradient| of each tensor: < 1e-4) and the same bits twice', async () => {
    const { tinySDConfig, initReducedSD, unetForward, disposeReducedSD } = await import('./model/sd');
    await initNodeBackend('wasm');
    const cfg = tinySDConfig();
    const m = initReducedSD('fs', cfg, 3);
    const B = 4, L = cfg.unet.latentSize, C = cfg.unet.latentChannels;
    const z = tf.randomNormal([B, L, L, C], 0, 1, 'float32', 1) as tf.Tensor4D;
    const eps = tf.randomNormal([B, L, L, C], 0, 1, 'float32', 2) as tf.Tensor4D;
    const t = tf.tensor1d([10, 200, 500, 900]);
    const ctx = tf.randomNormal([B, cfg.text.maxTokens, cfg.unet.ctxDim], 0, 1, 'float32', 3) as tf.Tensor3D;
    const vars = Object.values(m.unet);
    const grads = () =>
      tf.tidy(() => {
        const { grads: g } = tf.variableGrads(() => tf.losses.meanSquaredError(eps, unetForward(m.unet, cfg.unet, z, t, ctx)) as tf.Scalar, vars);
        return vars.map((v) => g[v.name].dataSync() as Float32Array);
      });
    try {
      const calls = wasmFastSumCalls();
      const fast = grads();
      expect(wasmFastSumCalls() - calls).toBeGreaterThan(20); // bias and broadcast gradients
      const again = grads();
      for (const [i, g] of fast.entries()) expect(again[i]).toEqual(g); // bit for bit
      setWasmFastSum(false);
      const native = grads();
      setWasmFastSum(true);
      for (const [i, g] of fast.entries()) {
        const scale = Math.max(...Array.from(native[i], Math.abs)) || 1;
        let d = 0;
        for (let k = 0; k < g.length; k++) d = Math.max(d, Math.abs(g[k] - native[i][k]));
        expect(d / scale, vars[i].name).toBeLessThan(1e-4);
      }
    } finally {
      setWasmFastSum(true);
      tf.dispose([z, eps, t, ctx]);
      disposeReducedSD(m);
    }
  });
});

describe('liftWasmCoreCap (tfjs-wasm pools half the logical cores, read once at start)', () => {
  it('reports 2 × threads while the module starts, then the real value again, and does nothing where it need not', () => {
    const g = globalThis as { navigator?: unknown };
    const had = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
    class FakeNavigator {
      get hardwareConcurrency() {
        return 2; // a getter on the prototype, as WorkerNavigator's
      }
    }
    const nav = new FakeNavigator();
    Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true, writable: true });
    try {
      const restore = liftWasmCoreCap(2);
      expect(nav.hardwareConcurrency).toBe(4);
      restore();
      expect(nav.hardwareConcurrency).toBe(2);
      expect(Object.getOwnPropertyDescriptor(nav, 'hardwareConcurrency')).toBeUndefined();
      const noop = liftWasmCoreCap(1); // 1 ≤ 2 / 2: tfjs gives it anyway
      expect(nav.hardwareConcurrency).toBe(2);
      noop();
      Object.defineProperty(globalThis, 'navigator', { value: undefined, configurable: true, writable: true });
      expect(() => liftWasmCoreCap(4)()).not.toThrow(); // Node 20: no navigator
    } finally {
      if (had) Object.defineProperty(globalThis, 'navigator', had);
      else delete g.navigator;
    }
  });
});
