/**
 * Benchmark of the reduced SD's UNet on the current tfjs backend: one forward pass and one
 * training step (forward + backward + Adam) at a fixed batch, median of several runs after
 * warm-up, with FLOPs counted from the kernels tfjs actually ran (convolutions and matrix
 * products; element-wise ops are not counted, so FLOP/s is a lower bound).
 * Runs anywhere tfjs runs: the bench page (headless Chromium, per backend) and Node.
 */
import * as tf from '@tensorflow/tfjs';
import { VOCAB, MAX_TOKENS } from './world';
import { defaultSDConfig, encodeText, initReducedSD, unetForward, countParams, disposeReducedSD, type ReducedSD } from './model/sd';
import { Rng } from './rng';
import { FlatAdam, flatAdamEnabled } from './optim';

export interface BenchResult {
  backend: string;
  batch: number;
  unetParams: number;
  forwardMs: number;
  trainStepMs: number;
  forwardGflop: number;
  trainGflop: number;
  runs: number;
}

const prod = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** FLOPs of one kernel invocation from its shapes (0 for kernels we do not count). */
export function kernelFlops(name: string, inputShapes: number[][], outputShapes: number[][]): number {
  const out = outputShapes[0];
  if (!out) return 0;
  switch (name) {
    case 'Conv2D':
    case 'FusedConv2D': {
      const [kh, kw, ci] = inputShapes[1]; // filter [kh,kw,ci,co]
      return 2 * prod(out) * kh * kw * ci; // out [b,oh,ow,co]
    }
    case 'Conv2DBackpropInput': {
      const [kh, kw, , co] = inputShapes[1]; // filter; out = dx [b,h,w,ci]
      return 2 * prod(out) * kh * kw * co;
    }
    case 'Conv2DBackpropFilter': {
      const dy = inputShapes[1]; // dy [b,oh,ow,co]; out = filter [kh,kw,ci,co]
      return 2 * prod(dy) * (prod(out) / out[3]);
    }
    case 'BatchMatMul':
    case '_FusedMatMul':
    case 'MatMul': {
      const a = inputShapes[0];
      const n = out[out.length - 1];
      const k = (prod(a) * n) / prod(out); // works whatever the transposes
      return 2 * prod(out) * k;
    }
    default:
      return 0;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function timeIt(fn: () => tf.Tensor, warmup: number, runs: number): Promise<number> {
  const once = async () => {
    const t0 = performance.now();
    const y = fn();
    await y.data(); // wait for the device
    y.dispose();
    return performance.now() - t0;
  };
  for (let i = 0; i < warmup; i++) await once();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) ms.push(await once());
  return median(ms);
}

async function countFlops(fn: () => tf.Tensor): Promise<number> {
  const info = await tf.profile(() => fn());
  let flops = 0;
  for (const k of info.kernels) flops += kernelFlops(k.name, k.inputShapes as number[][], k.outputShapes as number[][]);
  info.result instanceof tf.Tensor && info.result.dispose();
  return flops;
}

/** A seeded synthetic ε-prediction batch for timing a UNet: latents, noise, timesteps, tokens and their context (the caller disposes all five). */
export function syntheticUNetBatch(m: ReducedSD, batch: number, seed: number) {
  const cfg = m.config;
  const rng = new Rng(seed);
  const L = cfg.unet.latentSize, C = cfg.unet.latentChannels;
  const z = tf.tensor4d(rng.normals(batch * L * L * C), [batch, L, L, C]);
  const eps = tf.tensor4d(rng.normals(batch * L * L * C), [batch, L, L, C]);
  const t = tf.tensor1d(Array.from({ length: batch }, () => rng.int(1000)), 'float32');
  const tokens = tf.tensor2d(Array.from({ length: batch * MAX_TOKENS }, () => 1 + rng.int(VOCAB.length - 1)), [batch, MAX_TOKENS], 'int32');
  const ctx = tf.tidy(() => encodeText(m.text, cfg.text, tokens));
  return { z, eps, t, tokens, ctx };
}

/**
 * The bench's UNet, batch and training step, kept alive so that the same model can be timed again and
 * again (`npm run bench -- --torch` interleaves it with PyTorch). `dispose()` frees everything it made.
 */
export function createUNetBench(opts: { batch: number; seed?: number }) {
  const { batch, seed = 0 } = opts;
  const cfg = defaultSDConfig(VOCAB.length, MAX_TOKENS);
  const m = initReducedSD('bench', cfg, seed);
  const { z, eps, t, tokens, ctx } = syntheticUNetBatch(m, batch, seed);
  const vars = Object.values(m.unet);
  // Both optimisers, so that `--ab flat-adam` can alternate them on one model (each keeps its own moments).
  const optimizers = { flat: new FlatAdam(1e-4), tfjs: tf.train.adam(1e-4) };
  const forward = () => tf.tidy(() => unetForward(m.unet, cfg.unet, z, t, ctx));
  const trainStep = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => tf.losses.meanSquaredError(eps, unetForward(m.unet, cfg.unet, z, t, ctx)) as tf.Scalar, vars);
      if (flatAdamEnabled()) optimizers.flat.applyGradients(grads);
      else optimizers.tfjs.applyGradients(grads as Parameters<typeof optimizers.tfjs.applyGradients>[0]);
      return value;
    });
  return {
    model: m,
    batch,
    /** The synthetic batch's inputs (owned by the bench: do not dispose). */
    inputs: { z, t, ctx },
    forward,
    trainStep,
    /** Median wall time (ms) of `what` over `runs` after `warmup`, each waited for with `await data()`. */
    time: (what: 'forward' | 'train', warmup: number, runs: number) => timeIt(what === 'forward' ? forward : trainStep, warmup, runs),
    dispose: () => {
      optimizers.flat.dispose();
      optimizers.tfjs.dispose();
      tf.dispose([z, eps, t, tokens, ctx]);
      disposeReducedSD(m);
    },
  };
}

export async function benchUNet(opts: { batch: number; warmup?: number; runs?: number; seed?: number }): Promise<BenchResult> {
  const { batch, warmup = 2, runs = 5, seed = 0 } = opts;
  const b = createUNetBench({ batch, seed });
  try {
    const forwardMs = await b.time('forward', warmup, runs);
    const trainStepMs = await b.time('train', warmup, runs);
    const forwardGflop = (await countFlops(b.forward)) / 1e9;
    const trainGflop = (await countFlops(b.trainStep)) / 1e9;
    return { backend: tf.getBackend(), batch, unetParams: countParams(b.model.unet), forwardMs, trainStepMs, forwardGflop, trainGflop, runs };
  } finally {
    b.dispose();
  }
}
