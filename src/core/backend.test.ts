import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from './backend';

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
