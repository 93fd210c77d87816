import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend';
import { Rng } from '../rng';
import { defaultSDConfig, disposeReducedSD, initReducedSD, tinySDConfig, unetForward, type ReducedSD } from '../model/sd';
import { initUNet } from '../model/unet';
import { disposeParams } from '../model/layers';
import { UNET_BLOCKS, unetForwardWith } from '../model/unet';
import { createVideoUNet, disposeVideoUNet, levelChannels, motionModule, videoTrainableVariables, videoUnetForward, type VideoUNet } from './motion';
import { DEFAULT_LORA_TARGETS } from './lora';

const TINY = tinySDConfig();
const U = TINY.unet;
const F = 4, B = 2;
let sd: ReducedSD;
let n = 0;
const fresh = (lora?: { rank: number }) => createVideoUNet(`v${n++}`, sd.unet, U, { frames: F, heads: 2 }, 5, lora);

function inputs(seed: number) {
  const r = new Rng(seed);
  const z = tf.tensor4d(r.normals(B * F * 8 * 8 * 4), [B * F, 8, 8, 4]);
  const t = tf.tensor1d([100, 700]);
  const ctx = tf.tensor3d(r.normals(B * 12 * 16), [B, 12, 16]);
  return { z, t, ctx };
}
const arr = (x: tf.Tensor) => Array.from(x.dataSync());
const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.sub(a, b).abs().max().dataSync()[0]);

/** Sets every motion module's output projection to small random values (a module that has trained). */
function perturbMotion(m: VideoUNet, seed: number) {
  const r = new Rng(seed);
  for (const [k, v] of Object.entries(m.motion)) if (k.includes('/out/')) v.assign(tf.tensor(r.normals(v.size), v.shape).mul(0.1));
}

beforeAll(async () => {
  await initNodeBackend('wasm');
  sd = initReducedSD('img', TINY, 1);
});
afterAll(() => disposeReducedSD(sd));

describe('UNet hook', () => {
  it('an identity hook is called once per level in forward order and changes no bit of the output', () => {
    const { z, t, ctx } = inputs(1);
    const seen: string[] = [];
    const a = unetForward(sd.unet, U, z.slice(0, 2), t, ctx);
    const b = unetForwardWith(sd.unet, 'img/unet', U, z.slice(0, 2), t, ctx, (name, h) => (seen.push(`${name}:${h.shape}`), h));
    expect(arr(b)).toEqual(arr(a));
    expect(seen).toEqual(UNET_BLOCKS.map((nm) => `${nm}:${[2, nm === 'down0' || nm === 'up0' ? 8 : 4, nm === 'down0' || nm === 'up0' ? 8 : 4, levelChannels(U)[nm]]}`));
    tf.dispose([z, t, ctx, a, b]);
  });
});

describe('motion modules', () => {
  it('keep shapes: [B·F,H,W,C] in and out, one module per level, output projection zero', () => {
    const m = fresh();
    const c = levelChannels(U);
    for (const lvl of UNET_BLOCKS) {
      expect(m.motion[`${m.motionPrefix}/${lvl}/q/w`].shape).toEqual([c[lvl], c[lvl]]);
      expect(Math.max(...arr(m.motion[`${m.motionPrefix}/${lvl}/out/w`]).map(Math.abs))).toBe(0);
    }
    const h = tf.tensor4d(new Rng(2).normals(B * F * 4 * 4 * 32), [B * F, 4, 4, 32]);
    perturbMotion(m, 3);
    const y = motionModule(m.motion, m.motionPrefix, 'mid', h, F, 2);
    expect(y.shape).toEqual([B * F, 4, 4, 32]);
    expect(() => motionModule(m.motion, m.motionPrefix, 'mid', h.slice(0, 3), F, 2)).toThrow(/multiple of 4 frames/);
    const { z, t, ctx } = inputs(2);
    const eps = videoUnetForward(m, z, t, ctx);
    expect(eps.shape).toEqual([B * F, 8, 8, 4]);
    expect(() => videoUnetForward(m, z.slice(0, 6), t, ctx)).toThrow(/6 latents for 2 clips of 4 frames/);
    tf.dispose([h, y, z, t, ctx, eps]);
    disposeVideoUNet(m);
  });

  it('zero-initialised: the video model equals the image model frame by frame (exactly on the same batch)', () => {
    const m = fresh();
    const { z, t, ctx } = inputs(3);
    const video = videoUnetForward(m, z, t, ctx);
    // the image model on the same B·F frames, each with its clip's t and text
    const tF = tf.tensor1d([100, 100, 100, 100, 700, 700, 700, 700]);
    const ctxF = tf.concat([tf.tile(ctx.slice([0, 0, 0], [1, 12, 16]), [F, 1, 1]), tf.tile(ctx.slice([1, 0, 0], [1, 12, 16]), [F, 1, 1])]) as tf.Tensor3D;
    const image = unetForward(sd.unet, U, z, tF, ctxF);
    expect(arr(video)).toEqual(arr(image)); // out = 0 exactly, h + 0 = h: bit-identical
    // and one frame at a time (a batch of 1: other kernels' summation order, so a tolerance)
    for (const i of [0, 5]) {
      const one = unetForward(sd.unet, U, z.slice(i, 1), tF.slice(i, 1), ctxF.slice(i, 1));
      expect(maxAbsDiff(one, video.slice(i, 1))).toBeLessThan(1e-5);
      one.dispose();
    }
    tf.dispose([z, t, ctx, video, tF, ctxF, image]);
    disposeVideoUNet(m);
  });

  it('zero-initialised on the shipped UNet\'s structure too (16×16 latents on 2×2 patches, full-resolution head)', () => {
    const cfg = defaultSDConfig(31, 12).unet;
    const unet = initUNet('ship/unet', cfg, new Rng(2));
    const m = createVideoUNet('vship', unet, cfg, { frames: F, heads: 4 }, 1, { rank: 4 });
    const r = new Rng(3);
    const z = tf.tensor4d(r.normals(B * F * 16 * 16 * 4), [B * F, 16, 16, 4]);
    const ctx = tf.tensor3d(r.normals(B * 12 * 64), [B, 12, 64]);
    const video = videoUnetForward(m, z, tf.tensor1d([10, 900]), ctx);
    const image = unetForward(unet, cfg, z, tf.tensor1d([10, 10, 10, 10, 900, 900, 900, 900]), tf.concat([tf.tile(ctx.slice([0, 0, 0], [1, 12, 64]), [F, 1, 1]), tf.tile(ctx.slice([1, 0, 0], [1, 12, 64]), [F, 1, 1])]) as tf.Tensor3D);
    expect(video.shape).toEqual([B * F, 16, 16, 4]);
    expect(arr(video)).toEqual(arr(image));
    tf.dispose([z, ctx, video, image]);
    disposeVideoUNet(m);
    disposeParams(unet);
  });

  it('once trained (out ≠ 0), frames of a clip talk to each other and clips do not', () => {
    const m = fresh();
    perturbMotion(m, 4);
    const { z, t, ctx } = inputs(4);
    const y0 = videoUnetForward(m, z, t, ctx);
    // change frame 0 of clip 0 only
    const bump = tf.tensor4d(new Float32Array(B * F * 256).map((_, i) => (i < 256 ? 1 : 0)), [B * F, 8, 8, 4]);
    const y1 = videoUnetForward(m, tf.add(z, bump) as tf.Tensor4D, t, ctx);
    expect(maxAbsDiff(y0.slice(1, 1), y1.slice(1, 1))).toBeGreaterThan(1e-4); // frame 1 of clip 0 moved
    expect(maxAbsDiff(y0.slice(F, F), y1.slice(F, F))).toBe(0); // clip 1 untouched
    // the image model has no such path: its frame 1 ignores frame 0
    const i0 = unetForward(m.base, U, z, tf.tensor1d(Array(B * F).fill(100)), tf.tile(ctx.slice([0, 0, 0], [1, 12, 16]), [B * F, 1, 1]) as tf.Tensor3D);
    const i1 = unetForward(m.base, U, tf.add(z, bump) as tf.Tensor4D, tf.tensor1d(Array(B * F).fill(100)), tf.tile(ctx.slice([0, 0, 0], [1, 12, 16]), [B * F, 1, 1]) as tf.Tensor3D);
    expect(maxAbsDiff(i0.slice(1, 1), i1.slice(1, 1))).toBe(0);
    tf.dispose([z, t, ctx, y0, y1, bump, i0, i1]);
    disposeVideoUNet(m);
  });
});

describe('LoRA adapters', () => {
  it('adapt the attention projections; a zero adapter (B = 0) changes nothing, a non-zero one does', () => {
    const plain = fresh();
    const m = fresh({ rank: 2 });
    expect(m.lora!.targets.length).toBe(UNET_BLOCKS.length * 4);
    for (const name of m.lora!.targets) expect(DEFAULT_LORA_TARGETS.test(name.slice(m.basePrefix.length + 1))).toBe(true);
    perturbMotion(plain, 6);
    perturbMotion(m, 6);
    const { z, t, ctx } = inputs(5);
    const a = videoUnetForward(plain, z, t, ctx);
    const b = videoUnetForward(m, z, t, ctx);
    expect(arr(b)).toEqual(arr(a)); // W + (α/r)·A·0 = W exactly
    const r = new Rng(7);
    for (const [k, v] of Object.entries(m.lora!.params)) if (k.endsWith('/B')) v.assign(tf.tensor(r.normals(v.size), v.shape).mul(0.05));
    const c = videoUnetForward(m, z, t, ctx);
    expect(maxAbsDiff(a, c)).toBeGreaterThan(1e-4);
    tf.dispose([z, t, ctx, a, b, c]);
    disposeVideoUNet(plain);
    disposeVideoUNet(m);
    expect(() => createVideoUNet('bad', sd.unet, U, { frames: F, heads: 2 }, 1, { rank: 0 })).toThrow(/rank must be a positive integer/);
  });

  it('only motion-module and adapter weights get gradients; the base is frozen by construction', () => {
    const m = fresh({ rank: 2 });
    perturbMotion(m, 8); // else q, k, v of the motion modules have zero gradient (out = 0), as in AnimateDiff at step 0
    const { z, t, ctx } = inputs(6);
    const target = tf.tensor4d(new Rng(9).normals(B * F * 256), [B * F, 8, 8, 4]);
    const loss = () => tf.mean(tf.square(tf.sub(videoUnetForward(m, z, t, ctx), target))) as tf.Scalar;
    // no var list: tfjs takes every trainable variable the loss touches
    const { value, grads } = tf.variableGrads(loss);
    const expected = videoTrainableVariables(m).map((v) => v.name).sort();
    expect(Object.keys(grads).sort()).toEqual(expected);
    for (const v of Object.values(m.base)) expect(v.trainable).toBe(false);
    expect(Object.values(sd.unet).every((v) => v.trainable)).toBe(true); // the image model itself is untouched
    // with B = 0, ∂L/∂A = 0 and ∂L/∂B ≠ 0 (the LoRA paper's init); the motion modules all move
    const norm = (k: string) => tf.tidy(() => grads[k].abs().max().dataSync()[0]);
    const names = Object.keys(m.lora!.params);
    expect(Math.max(...names.filter((k) => k.endsWith('/A')).map(norm))).toBe(0);
    expect(Math.min(...names.filter((k) => k.endsWith('/B')).map(norm))).toBeGreaterThan(0);
    for (const k of Object.keys(m.motion).filter((k) => k.endsWith('/w'))) expect(norm(k), k).toBeGreaterThan(0);
    tf.dispose([value, ...Object.values(grads), z, t, ctx, target]);
    disposeVideoUNet(m);
  });

  it('forward and gradient steps are leak-free', () => {
    const m = fresh({ rank: 2 });
    const { z, t, ctx } = inputs(7);
    const vars = videoTrainableVariables(m);
    const step = () => {
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(videoUnetForward(m, z, t, ctx))) as tf.Scalar, vars);
      tf.dispose([value, ...Object.values(grads)]);
      tf.tidy(() => videoUnetForward(m, z, t, ctx)).dispose(); // tidy keeps the result it returns
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([z, t, ctx]);
    disposeVideoUNet(m);
  });
});
