/**
 * Per-kernel profiles for `npm run bench -- --profile` (issue 14, "Profile first"): one UNet
 * training step (forward, backward, Adam) and one full SePPO update (reference sampling, the
 * reference's forward, the policy's forward/backward, read-back, Adam), on whatever backend is set.
 *
 * Kernel times come from `tf.profile`. On WASM (and CPU) the backend's timer is `util.now()` around
 * the synchronous kernel call, so `kernelTimeMs` is the kernel's wall time, JS set-up included; what
 * it leaves out is tfjs's engine around the kernels (tape, tidy, tensor bookkeeping), which the
 * result reports as the gap between the kernels' sum and the profiled wall time. Kernels are
 * labelled with the phase they ran in by marks at phase ends (`PhaseMark`: the kernel count then).
 * `tf.customGrad` ops (layers.ts's conv2dSame, matMulFast) also appear in tfjs's list, as scopes whose
 * time includes their inner kernels: they are set aside (`scopes`), not counted twice.
 */
import * as tf from '@tensorflow/tfjs';
import { parseExperimentConfig, ARM_LIBRARY, DEFAULTS } from './config';
import { Experiment } from './align/trainer';
import { UPDATE_PHASES } from './align/armUpdate';
import { unetForward, type ReducedSD } from './model/sd';
import { alignmentOnlyDataset } from './world';
import { syntheticUNetBatch } from './bench';
import { aggregateKernels, phaseOfIndex, sumPhases, type KernelAggregate, type KernelRecord, type PhaseMark } from './profileTables';
import { createAdam } from './optim';

export interface KernelProfile {
  /** Registered kernels only, labelled by phase. */
  records: KernelRecord[];
  /** tf.customGrad scopes (their time includes their inner kernels', so they are not in `records`). */
  scopes: KernelRecord[];
  /** Wall time of the profiled run (ms). */
  wallMs: number;
}

/**
 * Runs `run` under tf.profile. `mark(phase)` ends the current phase: the kernels since the previous
 * mark are labelled `phase`; those after the last mark are labelled `rest`.
 */
export async function profileKernels(run: (mark: (phase: string) => void) => unknown, rest = 'other'): Promise<KernelProfile> {
  const marks: PhaseMark[] = [];
  const engine = tf.engine();
  const mark = (phase: string) => marks.push({ phase, end: engine.state.activeProfile.kernels.length });
  let wallMs = 0;
  const info = await tf.profile(async () => {
    const t0 = performance.now();
    await run(mark);
    wallMs = performance.now() - t0;
    return [] as tf.Tensor[];
  });
  const backend = tf.getBackend();
  const records: KernelRecord[] = [];
  const scopes: KernelRecord[] = [];
  info.kernels.forEach((k, i) => {
    const r = { name: k.name, ms: k.kernelTimeMs as number, phase: phaseOfIndex(i, marks, rest) };
    (tf.getKernel(k.name, backend) ? records : scopes).push(r);
  });
  return { records, scopes, wallMs };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export interface TrainStepProfile {
  backend: string;
  batch: number;
  /** Unprofiled medians (ms) of `runs` runs after warm-up. */
  forwardMs: number;
  stepMs: number;
  runs: number;
  /** `profiledRuns` profiled steps, aggregated per step (phases 'forward', 'backward', 'optimizer'). */
  kernels: KernelAggregate;
  /** Mean wall time of a profiled step (ms). */
  profiledWallMs: number;
  scopes: KernelAggregate;
}

/**
 * One UNet training step of `model` at `batch` (MSE to ε, Adam 1e-4: the bench's step), timed
 * unprofiled (median of `runs` after `warmup`), then profiled `profiledRuns` times. Trains the
 * model's UNet in place (the caller's copy is changed).
 */
export async function profileTrainStep(
  model: ReducedSD,
  o: { batch: number; warmup?: number; runs?: number; profiledRuns?: number; seed?: number },
): Promise<TrainStepProfile> {
  const { batch, warmup = 2, runs = 5, profiledRuns = 3, seed = 0 } = o;
  const cfg = model.config;
  const { z, eps, t, tokens, ctx } = syntheticUNetBatch(model, batch, seed);
  const vars = Object.values(model.unet);
  const opt = createAdam(1e-4); // the engine's Adam
  const forward = () => tf.tidy(() => unetForward(model.unet, cfg.unet, z, t, ctx));
  const step = (mark: (phase: string) => void = () => {}) =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const loss = tf.losses.meanSquaredError(eps, unetForward(model.unet, cfg.unet, z, t, ctx)) as tf.Scalar;
        mark('forward');
        return loss;
      }, vars);
      mark('backward');
      opt.applyGradients(grads as tf.NamedTensorMap);
      mark('optimizer');
      return value;
    });
  const once = async (f: () => tf.Tensor) => {
    const t0 = performance.now();
    const y = f();
    await y.data();
    y.dispose();
    return performance.now() - t0;
  };
  try {
    for (let i = 0; i < warmup; i++) await once(forward), await once(() => step());
    const fw: number[] = [], st: number[] = [];
    for (let i = 0; i < runs; i++) fw.push(await once(forward));
    for (let i = 0; i < runs; i++) st.push(await once(() => step()));
    const records: KernelRecord[] = [], scopes: KernelRecord[] = [];
    let wall = 0;
    for (let i = 0; i < profiledRuns; i++) {
      const p = await profileKernels(async (mark) => {
        const y = step(mark);
        await y.data();
        y.dispose();
      }, 'read-back');
      records.push(...p.records);
      scopes.push(...p.scopes);
      wall += p.wallMs;
    }
    return {
      backend: tf.getBackend(),
      batch,
      forwardMs: median(fw),
      stepMs: median(st),
      runs,
      kernels: aggregateKernels(records, profiledRuns),
      profiledWallMs: wall / profiledRuns,
      scopes: aggregateKernels(scopes, profiledRuns),
    };
  } finally {
    opt.dispose();
    tf.dispose([z, eps, t, tokens, ctx]);
  }
}

export interface SeppoUpdateProfile {
  backend: string;
  batch: number;
  refSteps: number;
  refGuidance: number;
  /** Phases summed over `runs` timed (unprofiled) updates after `warmup` (armUpdate.ts's UPDATE_PHASES). */
  phases: { phase: string; ms: number }[];
  runs: number;
  /** Mean wall time of a timed update (the update record's ms). */
  updateMs: number;
  /** One profiled update: kernels labelled by update phase. */
  kernels: KernelAggregate;
  profiledWallMs: number;
  scopes: KernelAggregate;
}

/**
 * One arm (SePPOʷ: winners, θ_ref drawn from the pool — θ₀ in the first iteration, 'sign' AAF) of an
 * Experiment on the given base, batch `batch`, with the default reference sampling (DDIM `refSteps`,
 * guidance `refGuidance`, fresh samples every update): `warmup` updates, then `runs` updates timed
 * by the update timer, then one update under tf.profile. No evaluation, probe or AAF skill.
 */
export async function profileSeppoUpdate(
  base: ReducedSD,
  o: { batch: number; refSteps?: number; refGuidance?: number; warmup?: number; runs?: number; dataSeed?: number },
): Promise<SeppoUpdateProfile> {
  const { batch, refSteps = 10, refGuidance = 5, warmup = 1, runs = 3, dataSeed = 1 } = o;
  const total = warmup + runs + 1;
  const config = parseExperimentConfig({
    ...DEFAULTS,
    dataSeed,
    dataSize: batch,
    batchSize: batch,
    updates: total + 1,
    checkpointEvery: total + 1,
    maxCheckpoints: 2,
    refSteps,
    refGuidance,
    refRegenerateEvery: 1,
    evalPrompts: 1,
    arms: [{ ...ARM_LIBRARY['SePPOʷ'] }],
  });
  const ds = alignmentOnlyDataset(dataSeed, batch, 1);
  let sink: ((phase: string, ms: number) => void) | null = null;
  const x = await Experiment.create(config, base, ds, { updateTimer: (_arm, phase, ms) => sink?.(phase, ms) });
  try {
    for (let i = 0; i < warmup; i++) await x.step();
    const events: { phase: string; ms: number }[] = [];
    sink = (phase, ms) => events.push({ phase, ms });
    let ms = 0;
    for (let i = 0; i < runs; i++) ms += (await x.step()).records[0].ms;
    sink = null;
    const p = await profileKernels(async (mark) => {
      sink = (phase) => mark(phase);
      await x.step();
      sink = null;
    });
    return {
      backend: tf.getBackend(),
      batch,
      refSteps,
      refGuidance,
      phases: sumPhases(events, UPDATE_PHASES),
      runs,
      updateMs: ms / runs,
      kernels: aggregateKernels(p.records),
      profiledWallMs: p.wallMs,
      scopes: aggregateKernels(p.scopes),
    };
  } finally {
    x.dispose();
  }
}
