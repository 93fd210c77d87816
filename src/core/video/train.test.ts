import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend';
import { Rng } from '../rng';
import { VOCAB } from '../world/prompt';
import { makeSchedule } from '../diffusion/schedule';
import { disposeReducedSD, initReducedSD, tinySDConfig, type ReducedSD } from '../model/sd';
import { createVideoUNet, disposeVideoUNet } from './motion';
import { makeVideoTrainer, videoContext, videoTokens, type VideoBatch } from './train';
import { allVideoPrompts } from './world';

const TINY = tinySDConfig(VOCAB.length, 12);
const F = 4, B = 2;
let sd: ReducedSD;
beforeAll(async () => {
  await initNodeBackend('wasm');
  sd = initReducedSD('img', TINY, 1);
});
afterAll(() => disposeReducedSD(sd));

function batch(seed: number): VideoBatch {
  const r = new Rng(seed);
  const prompts = [allVideoPrompts()[10], allVideoPrompts()[20000]];
  const { start, end } = videoTokens(prompts);
  return { latents: r.normals(B * F * 256), eps: r.normals(B * F * 256), t: Int32Array.of(50, 500), start, end, batch: B };
}

describe('motion-module pretraining step', () => {
  it('conditions on start and end prompts: context [B, 2L, D]', () => {
    const b = batch(1);
    const ctx = videoContext(sd, b.start, b.end, B);
    expect(ctx.shape).toEqual([B, 24, 16]);
    ctx.dispose();
  });

  it('lowers the loss on a fixed batch, moves only motion weights, and leaks nothing', () => {
    const video = createVideoUNet('vt', sd.unet, TINY.unet, { frames: F, heads: 2 }, 3);
    const trainer = makeVideoTrainer(sd, video, makeSchedule(), 3e-3);
    const b = batch(2);
    const baseBefore = Object.values(video.base).map((v) => Array.from(v.dataSync()));
    const imageBefore = Array.from(sd.unet['img/unet/conv_in/w'].dataSync());
    const losses: number[] = [];
    const l0 = trainer.step(b);
    losses.push(l0.dataSync()[0]);
    l0.dispose();
    const n0 = tf.memory().numTensors;
    for (let i = 0; i < 15; i++) {
      const l = trainer.step(b);
      losses.push(l.dataSync()[0]);
      l.dispose();
    }
    expect(tf.memory().numTensors).toBe(n0);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.98);
    Object.values(video.base).forEach((v, i) => expect(Array.from(v.dataSync())).toEqual(baseBefore[i]));
    expect(Array.from(sd.unet['img/unet/conv_in/w'].dataSync())).toEqual(imageBefore);
    const outMoved = Object.entries(video.motion).filter(([k]) => k.endsWith('/out/w')).map(([, v]) => tf.tidy(() => v.abs().max().dataSync()[0]));
    expect(Math.min(...outMoved)).toBeGreaterThan(0);
    trainer.dispose();
    disposeVideoUNet(video);
  });
});
