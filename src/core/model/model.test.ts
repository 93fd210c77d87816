import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend';
import { Rng } from '../rng';
import { conv2dSame, matMulFast, cloneParams, flipTaps, groupNorm, setGroupNormPerChannel } from './layers';
import { aeDecode, aeEncode } from './autoencoder';
import { tinySDConfig, decodeLatents, defaultSDConfig, disposeReducedSD, encodeImages, encodeText, initReducedSD, paramCounts, uncondContext, unetForward, type ReducedSD } from './sd';

const TINY = tinySDConfig();

function tokens(B: number, L: number, V: number, seed: number): tf.Tensor2D {
  const r = new Rng(seed);
  // Real tokens then PAD, like the tokenizer's output; row 0 is all PAD (the unconditional prompt).
  const d = new Int32Array(B * L).map((_, i) => (Math.floor(i / L) === 0 || i % L >= 7 ? 0 : 1 + r.int(V - 1)));
  return tf.tensor2d(d, [B, L], 'int32');
}

let m: ReducedSD;
beforeAll(async () => {
  await initNodeBackend('wasm');
  m = initReducedSD('t', TINY, 1);
});
afterAll(() => disposeReducedSD(m));

describe('fast gradients', () => {
  it('conv2dSame and matMulFast give the same gradients as tfjs', () => {
    const r = new Rng(3);
    const x = tf.tensor4d(r.normals(2 * 8 * 8 * 5), [2, 8, 8, 5]);
    const w = tf.tensor4d(r.normals(3 * 3 * 5 * 7), [3, 3, 5, 7]);
    const g = (f: (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor) => tf.grads((a: tf.Tensor, b: tf.Tensor) => f(a as tf.Tensor4D, b as tf.Tensor4D).square().sum())([x, w]);
    const [dx1, dw1] = g((a, b) => tf.conv2d(a, b, 1, 'same'));
    const [dx2, dw2] = g((a, b) => conv2dSame(a, b));
    const rel = (a: tf.Tensor, b: tf.Tensor) => tf.sub(a, b).abs().max().dataSync()[0] / tf.abs(a).max().dataSync()[0];
    expect(rel(dx1, dx2)).toBeLessThan(1e-5);
    expect(rel(dw1, dw2)).toBeLessThan(1e-5);
    const a = tf.tensor3d(r.normals(2 * 5 * 6), [2, 5, 6]);
    const b = tf.tensor3d(r.normals(2 * 6 * 4), [2, 6, 4]);
    const gm = (f: (p: tf.Tensor3D, q: tf.Tensor3D) => tf.Tensor) => tf.grads((p: tf.Tensor, q: tf.Tensor) => f(p as tf.Tensor3D, q as tf.Tensor3D).square().sum())([a, b]);
    const [da1, db1] = gm((p, q) => tf.matMul(p, q));
    const [da2, db2] = gm((p, q) => matMulFast(p, q));
    expect(rel(da1, da2)).toBeLessThan(1e-5);
    expect(rel(db1, db2)).toBeLessThan(1e-5);
    tf.dispose([x, w, dx1, dw1, dx2, dw2, a, b, da1, db1, da2, db2]);
  });
});

describe('flipTaps (the filter flip of conv2dSame\'s input gradient)', () => {
  const shapes: [number, number, number, number][] = [[3, 3, 5, 7], [3, 1, 2, 3], [1, 1, 4, 4], [5, 5, 3, 2]];
  const data = (s: number[], seed: number) => new Rng(seed).normals(s.reduce((a, b) => a * b, 1));
  /** On the current backend: flipTaps(w) and tf.reverse(w, [0, 1]) as arrays; conv2dSame's and tf.conv2d's gradients. */
  function onBackend() {
    return tf.tidy(() => {
      const flips = shapes.map((s, i) => {
        const w = tf.tensor4d(data(s, 10 + i), s);
        return { ours: Array.from(flipTaps(w).dataSync()), tfjs: Array.from(tf.reverse(w, [0, 1]).dataSync()) };
      });
      const x = tf.tensor4d(data([2, 8, 8, 5], 3), [2, 8, 8, 5]);
      const w = tf.tensor4d(data([3, 3, 5, 7], 4), [3, 3, 5, 7]);
      const g = (f: (a: tf.Tensor4D, b: tf.Tensor4D) => tf.Tensor) => tf.grads((a: tf.Tensor, b: tf.Tensor) => f(a as tf.Tensor4D, b as tf.Tensor4D).square().sum())([x, w]).map((t) => Array.from(t.dataSync()));
      return { flips, ours: g((a, b) => conv2dSame(a, b)), tfjs: g((a, b) => tf.conv2d(a, b, 1, 'same')) };
    });
  }
  it('equals tf.reverse bit for bit, on WASM and on the CPU backend, and conv2dSame\'s gradients on WASM match tf.conv2d\'s on CPU', async () => {
    try {
      await initNodeBackend('cpu');
      const cpu = onBackend();
      await initNodeBackend('wasm');
      const wasm = onBackend();
      for (let i = 0; i < shapes.length; i++) {
        expect(wasm.flips[i].ours).toEqual(wasm.flips[i].tfjs);
        expect(cpu.flips[i].ours).toEqual(cpu.flips[i].tfjs);
        expect(wasm.flips[i].ours).toEqual(cpu.flips[i].tfjs);
      }
      for (const k of [0, 1]) {
        const ref = cpu.tfjs[k];
        const scale = Math.max(...ref.map(Math.abs));
        expect(Math.max(...wasm.ours[k].map((v, j) => Math.abs(v - ref[j]))) / scale).toBeLessThan(1e-5);
        expect(Math.max(...cpu.ours[k].map((v, j) => Math.abs(v - ref[j]))) / scale).toBeLessThan(1e-5);
      }
    } finally {
      await initNodeBackend('wasm');
    }
  });
});

describe('groupNorm by per-channel statistics (issue 14; tf.moments the other path)', () => {
  // Forward and gradients (x, g, b) of a loss with non-uniform weights, at the UNet's shapes.
  const run = (perChannel: boolean, shape: [number, number, number, number], groups: number) => {
    setGroupNormPerChannel(perChannel);
    try {
      return tf.tidy(() => {
        const r = new Rng(shape.reduce((a, b) => a * 31 + b, 7));
        const n = shape.reduce((a, b) => a * b, 1), C = shape[3];
        const x = tf.tensor4d(Array.from(r.normals(n), (v, i) => v * 1.7 + 0.4 + (i % C) * 0.05), shape); // channel offsets
        const w = tf.tensor4d(r.normals(n), shape);
        const p = { 'gn/n/g': tf.variable(tf.tensor1d(Array.from(r.normals(C), (v) => 1 + 0.2 * v))), 'gn/n/b': tf.variable(tf.tensor1d(Array.from(r.normals(C), (v) => 0.1 * v))) };
        const f = (xx: tf.Tensor) => tf.sum(tf.mul(groupNorm(p, 'gn', 'n', xx as tf.Tensor4D, groups), w)) as tf.Scalar;
        const y = groupNorm(p, 'gn', 'n', x, groups).dataSync();
        const dx = tf.grad(f)(x).dataSync();
        const { grads } = tf.variableGrads(() => f(x), [p['gn/n/g'], p['gn/n/b']]);
        const out = { y: Array.from(y), dx: Array.from(dx), dg: Array.from(grads[p['gn/n/g'].name].dataSync()), db: Array.from(grads[p['gn/n/b'].name].dataSync()) };
        tf.dispose(Object.values(p));
        return out;
      });
    } finally {
      setGroupNormPerChannel(true);
    }
  };
  const relErr = (a: number[], b: number[]) => {
    expect(a.length).toBe(b.length);
    const scale = Math.max(...b.map(Math.abs)) || 1;
    return Math.max(...a.map((v, i) => Math.abs(v - b[i]))) / scale;
  };
  const shapes: [[number, number, number, number], number][] = [[[4, 8, 8, 32], 8], [[3, 4, 4, 64], 8], [[2, 16, 16, 32], 8], [[2, 5, 3, 12], 4]];

  it('equals tf.moments\' GroupNorm on the CPU backend, forward and gradients (x, g, b), within float rounding; the same on WASM', async () => {
    for (const [shape, groups] of shapes) {
      await initNodeBackend('cpu');
      const ref = run(false, shape, groups);
      const cpu = run(true, shape, groups);
      await initNodeBackend('wasm');
      const wasm = run(true, shape, groups);
      for (const k of ['y', 'dx', 'dg', 'db'] as const) {
        expect(relErr(cpu[k], ref[k]), `${shape} ${k} cpu`).toBeLessThan(2e-5);
        expect(relErr(wasm[k], ref[k]), `${shape} ${k} wasm`).toBeLessThan(2e-5);
      }
    }
  });

  it('normalises each (sample, group) to mean 0, variance 1 (g = 1, b = 0), gives the same bits twice and alone as in a batch, and leaks nothing', async () => {
    await initNodeBackend('wasm');
    const [B, H, W, C, G] = [2, 4, 4, 8, 2];
    const x = tf.tensor4d(Array.from(new Rng(5).normals(B * H * W * C), (v, i) => 3 * v + (i % C)), [B, H, W, C]);
    const p = { 'gn/n/g': tf.variable(tf.ones([C])), 'gn/n/b': tf.variable(tf.zeros([C])) };
    const y = () => tf.tidy(() => groupNorm(p, 'gn', 'n', x, G).dataSync());
    const y0 = y();
    for (let s = 0; s < B; s++)
      for (let g = 0; g < G; g++) {
        const vals: number[] = [];
        for (let i = 0; i < H * W; i++) for (let c = g * (C / G); c < (g + 1) * (C / G); c++) vals.push(y0[(s * H * W + i) * C + c]);
        const mu = vals.reduce((a, b) => a + b, 0) / vals.length;
        const v = vals.reduce((a, b) => a + (b - mu) ** 2, 0) / vals.length;
        expect(Math.abs(mu)).toBeLessThan(1e-5);
        expect(Math.abs(v - 1)).toBeLessThan(1e-3); // ε = 1e-5 against a variance of ~9
      }
    const before = tf.memory().numTensors;
    expect(y()).toEqual(y0);
    // a sample's result does not depend on the rest of the batch (chunked evaluation relies on it)
    const alone = tf.tidy(() => groupNorm(p, 'gn', 'n', x.slice([1, 0, 0, 0], [1, H, W, C]), G).dataSync());
    expect(Array.from(alone)).toEqual(Array.from(y0.subarray(H * W * C)));
    tf.tidy(() => tf.grad((xx: tf.Tensor) => groupNorm(p, 'gn', 'n', xx as tf.Tensor4D, G).square().sum())(x).dataSync());
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, ...Object.values(p)]);
  });
});

describe('reduced SD', () => {
  it('has the documented output shapes and a ~1M-parameter default UNet', () => {
    tf.tidy(() => {
      const x = tf.tanh(tf.tensor4d(new Rng(2).normals(3 * 32 * 32 * 3), [3, 32, 32, 3]));
      const z = encodeImages(m, x);
      expect(z.shape).toEqual([3, 8, 8, 4]);
      const y = decodeLatents(m, z);
      expect(y.shape).toEqual([3, 32, 32, 3]);
      expect(y.abs().max().dataSync()[0]).toBeLessThanOrEqual(1);
      const ctx = encodeText(m.text, TINY.text, tokens(3, 12, 30, 1));
      expect(ctx.shape).toEqual([3, 12, 16]);
      expect(Number.isFinite(ctx.sum().dataSync()[0])).toBe(true); // the all-PAD row must not be NaN
      const e = unetForward(m.unet, TINY.unet, z, tf.tensor1d([0, 500, 999]), ctx);
      expect(e.shape).toEqual([3, 8, 8, 4]);
      expect(uncondContext(m.text, TINY.text, 2).shape).toEqual([2, 12, 16]);
    });
    const big = initReducedSD('big', defaultSDConfig(30, 12), 1);
    const c = paramCounts(big);
    expect(c.unet).toBeGreaterThan(300_000);
    expect(c.unet).toBeLessThan(1_100_000);
    disposeReducedSD(big);
  });

  it('rejects bad inputs with clear messages', () => {
    tf.tidy(() => {
      expect(() => unetForward(m.unet, TINY.unet, tf.zeros([1, 4, 4, 4]) as tf.Tensor4D, tf.zeros([1]) as tf.Tensor1D, tf.zeros([1, 12, 16]) as tf.Tensor3D)).toThrow(/latents must be \[B,8,8,4\]/);
      expect(() => encodeText(m.text, TINY.text, tf.zeros([1, 5], 'int32') as tf.Tensor2D)).toThrow(/expected 12 tokens/);
      expect(() => encodeText(m.unet, TINY.text, tf.zeros([1, 12], 'int32') as tf.Tensor2D)).toThrow(/tok_emb/);
    });
  });

  it('initialisation is deterministic for a seed (no tf.random)', () => {
    const a = initReducedSD('a', TINY, 7), b = initReducedSD('b', TINY, 7), c = initReducedSD('c', TINY, 8);
    const w = (x: ReducedSD) => Array.from(x.unet[Object.keys(x.unet).find((k) => k.endsWith('down0/res/conv1/w'))!].dataSync());
    expect(w(a)).toEqual(w(b));
    expect(w(a)).not.toEqual(w(c));
    [a, b, c].forEach(disposeReducedSD);
  });

  it('every parameter of the AE, text encoder and UNet receives a non-zero gradient', () => {
    const zeroGrads: string[] = [];
    tf.tidy(() => {
      const x = tf.tanh(tf.tensor4d(new Rng(4).normals(2 * 32 * 32 * 3), [2, 32, 32, 3]));
      const pAE = 't/ae';
      const ga = tf.variableGrads(() => tf.losses.meanSquaredError(x, aeDecode(m.ae, pAE, TINY.ae, aeEncode(m.ae, pAE, TINY.ae, x))) as tf.Scalar, Object.values(m.ae));
      const vars = [...Object.values(m.text), ...Object.values(m.unet)];
      const gd = tf.variableGrads(() => {
        const ctx = encodeText(m.text, TINY.text, tokens(3, 12, 30, 5));
        const z = tf.tensor4d(new Rng(6).normals(3 * 256), [3, 8, 8, 4]);
        return unetForward(m.unet, TINY.unet, z, tf.tensor1d([10, 400, 900]), ctx).sub(z).square().mean() as tf.Scalar;
      }, vars);
      for (const [name, g] of Object.entries({ ...ga.grads, ...gd.grads })) {
        if (!(g.abs().sum().dataSync()[0] > 0)) zeroGrads.push(name);
      }
      expect(Object.keys(ga.grads).length + Object.keys(gd.grads).length).toBe(Object.keys({ ...m.ae, ...m.text, ...m.unet }).length);
    });
    expect(zeroGrads).toEqual([]);
  });

  it('cloneParams makes frozen copies that do not follow the source', () => {
    const ref = cloneParams(m.unet, 'ref0');
    const names = Object.keys(ref);
    expect(names.every((n) => n.startsWith('ref0/unet/'))).toBe(true);
    expect(Object.values(ref).every((v) => !v.trainable)).toBe(true);
    const src = m.unet['t/unet/conv_in/b'];
    const before = Array.from(src.dataSync());
    src.assign(tf.onesLike(src));
    expect(Array.from(ref['ref0/unet/conv_in/b'].dataSync())).toEqual(before);
    src.assign(tf.tensor(before, src.shape));
    Object.values(ref).forEach((v) => v.dispose());
  });
});

describe('patchify (the UNet on p×p latent patches)', () => {
  it('cuts 2×2 patches into channels in (row, column, channel) order, and unpatchify inverts it', async () => {
    const { patchify, unpatchify } = await import('./unet');
    // [1,2,2,1] holding 1..4 → one pixel with channels [1, 2, 3, 4] (row-major within the patch).
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const p = patchify(x, 2);
    expect(p.shape).toEqual([1, 1, 1, 4]);
    expect(Array.from(p.dataSync())).toEqual([1, 2, 3, 4]);
    const r = new Rng(4);
    const big = tf.tensor4d(r.normals(2 * 16 * 16 * 4), [2, 16, 16, 4]);
    const pb = patchify(big, 2);
    expect(pb.shape).toEqual([2, 8, 8, 16]);
    // pixel (y=3, x=5) of image 1, channel 2 sits in patch (1, 2) at channel ((3%2)·2 + 5%2)·4 + 2.
    expect(pb.arraySync()[1][1][2][((3 % 2) * 2 + (5 % 2)) * 4 + 2]).toBeCloseTo(big.arraySync()[1][3][5][2], 6);
    const back = unpatchify(pb, 2);
    expect(Array.from(back.dataSync())).toEqual(Array.from(big.dataSync()));
    tf.dispose([x, p, big, pb, back]);
  });

  it('a patched UNet maps [B,16,16,4] to [B,16,16,4] and trains (gradients reach conv_in), leak-free', () => {
    const cfg = { ...TINY, ae: { ...TINY.ae, channels: [8, 8] }, unet: { ...TINY.unet, latentSize: 16, patch: 2 } };
    const pm = initReducedSD('patched', cfg, 2);
    const r = new Rng(5);
    const z = tf.tensor4d(r.normals(2 * 16 * 16 * 4), [2, 16, 16, 4]);
    const t = tf.tensor1d([10, 500]);
    const ctx = tf.tidy(() => encodeText(pm.text, cfg.text, tokens(2, 12, 30, 1)));
    const n0 = tf.memory().numTensors;
    const out = tf.tidy(() => unetForward(pm.unet, cfg.unet, z, t, ctx));
    expect(out.shape).toEqual([2, 16, 16, 4]);
    const convIn = Object.keys(pm.unet).find((k) => k.endsWith('conv_in/w'))!;
    expect(pm.unet[convIn].shape).toEqual([3, 3, 16, cfg.unet.channels[0]]);
    const gradSum = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => unetForward(pm.unet, cfg.unet, z, t, ctx).square().mean() as tf.Scalar, [pm.unet[convIn]]);
      return grads[convIn].abs().sum();
    });
    expect(gradSum.dataSync()[0]).toBeGreaterThan(0);
    tf.dispose([out, gradSum]);
    expect(tf.memory().numTensors).toBe(n0);
    tf.dispose([z, t, ctx]);
    disposeReducedSD(pm);
  });
});

describe('the UNet\'s full-resolution head (UNetConfig.fullResHead)', () => {
  it('adds a time-conditioned conv stack at the latent\'s resolution whose output is added to the trunk\'s ε; trains, leak-free', () => {
    const unet = { ...TINY.unet, latentSize: 16, patch: 2 };
    const cfgPlain = { ...TINY, ae: { ...TINY.ae, channels: [8, 8] }, unet };
    const cfgHead = { ...cfgPlain, unet: { ...unet, fullResHead: 8 } };
    const plain = initReducedSD('nohead', cfgPlain, 4);
    const head = initReducedSD('head', cfgHead, 4);
    // the head's parameters and only them are new; the trunk is initialised identically
    const extra = Object.keys(head.unet).filter((k) => k.includes('/head/')).map((k) => k.split('/unet/')[1] ?? k);
    expect(extra.length).toBe(8); // conv1 w/b, temb w/b, gn γ/β, conv2 w/b
    expect(Object.keys(head.unet).length - Object.keys(plain.unet).length).toBe(extra.length);
    const r = new Rng(6);
    const z = tf.tensor4d(r.normals(2 * 16 * 16 * 4), [2, 16, 16, 4]);
    const t = tf.tensor1d([10, 900]);
    const ctx = tf.tidy(() => encodeText(head.text, cfgHead.text, tokens(2, 12, 30, 1)));
    const n0 = tf.memory().numTensors;
    const out = tf.tidy(() => unetForward(head.unet, cfgHead.unet, z, t, ctx));
    expect(out.shape).toEqual([2, 16, 16, 4]);
    // with the head's last conv zeroed, the output is the trunk's alone (same trunk weights)
    const conv2 = Object.keys(head.unet).filter((k) => k.includes('/head/conv2/'));
    const saved = conv2.map((k) => tf.clone(head.unet[k]));
    tf.tidy(() => conv2.forEach((k) => head.unet[k].assign(tf.zerosLike(head.unet[k]))));
    const trunkOnly = tf.tidy(() => unetForward(head.unet, cfgHead.unet, z, t, ctx));
    for (const k of Object.keys(plain.unet)) plain.unet[k].assign(head.unet[k.replace('nohead/', 'head/')]);
    const noHead = tf.tidy(() => unetForward(plain.unet, cfgPlain.unet, z, t, ctx));
    expect(Array.from(trunkOnly.dataSync())).toEqual(Array.from(noHead.dataSync()));
    conv2.forEach((k, i) => head.unet[k].assign(saved[i]));
    expect(tf.tidy(() => tf.sub(out, trunkOnly).abs().max().dataSync()[0])).toBeGreaterThan(0);
    // gradients reach the head's first conv and its time embedding
    const keys = Object.keys(head.unet).filter((k) => k.endsWith('head/conv1/w') || k.endsWith('head/temb/w'));
    expect(keys.length).toBe(2);
    const sums = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => unetForward(head.unet, cfgHead.unet, z, t, ctx).square().mean() as tf.Scalar, keys.map((k) => head.unet[k]));
      return keys.map((k) => grads[k].abs().sum().dataSync()[0]);
    });
    sums.forEach((v) => expect(v).toBeGreaterThan(0));
    tf.dispose([out, trunkOnly, noHead, ...saved]);
    expect(tf.memory().numTensors).toBe(n0);
    tf.dispose([z, t, ctx]);
    disposeReducedSD(plain);
    disposeReducedSD(head);
  });
});

describe('autoencoder with a lossless 2× input (space-to-depth in, sub-pixel out)', () => {
  it('maps [B,32,32,3] to [B,16,16,c] and back, two blocks a level, leak-free; one block keeps the old parameter names', () => {
    const ae = { imageSize: 32, imageChannels: 3, latentChannels: 4, channels: [8], groups: 4, fullResBlock: true, inputPatch: 2, blocks: 2 };
    const cfg = { ...TINY, ae, unet: { ...TINY.unet, latentSize: 16, patch: 2 } };
    const pm = initReducedSD('aep', cfg, 3);
    expect(Object.keys(pm.ae).some((k) => k.endsWith('enc/res0b/conv1/w'))).toBe(true);
    expect(pm.ae[Object.keys(pm.ae).find((k) => k.endsWith('enc/in/w'))!].shape).toEqual([3, 3, 12, 8]);
    const x = tf.tensor4d(new Rng(8).normals(2 * 32 * 32 * 3).map(Math.tanh), [2, 32, 32, 3]);
    const n0 = tf.memory().numTensors;
    const z = encodeImages(pm, x);
    expect(z.shape).toEqual([2, 16, 16, 4]);
    const y = decodeLatents(pm, z);
    expect(y.shape).toEqual([2, 32, 32, 3]);
    tf.dispose([z, y]);
    expect(tf.memory().numTensors).toBe(n0);
    x.dispose();
    disposeReducedSD(pm);
    const one = initReducedSD('ae1', TINY, 3);
    expect(Object.keys(one.ae).some((k) => /res\db\//.test(k))).toBe(false);
    disposeReducedSD(one);
  });
});
