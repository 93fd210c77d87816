/**
 * The video alignment loop (issue 17; the paper's §5.3 / Table 3 at this world's scale): Algorithm 1
 * of the paper on the video model, with the image engine's loss (align/loss.ts) and reference
 * strategies (align/pool.ts), fine-tuning through LoRA adapters only (Hu et al. 2021) as the paper
 * fine-tunes AnimateDiff. The frozen parts: the image base (autoencoder, text encoder, UNet) and the
 * pretrained motion modules.
 *
 *   per update u (the same items, t, ε and reference noise for every arm: functions of (seed, u)):
 *     SFT:    L = mean_b m_w[b]                                     (on the pairs' winning videos)
 *     SePPO:  θ_ref = a LoRA snapshot from the pool (init / latest / random, §4.1),
 *             x^l = DDIM sample of θ_ref for the winner's prompt (the reference's own video),
 *             L = −log σ(−½β((m_w + s·m_l) − (r_w + s·r_l)))        (eq. 8, s from the AAF, eq. 9)
 *   where m = the per-clip denoising error, mean over frames and pixels of (ε_θ(x_t, t, c) − ε)²:
 *   "per-sample errors averaged over frames", one t and fresh ε per frame for each clip.
 *
 * Evaluation: P prompts × R noises clips per model (clip i: prompt i mod P, noise i, identical for
 * every model, so every clip of an arm pairs with the raw model's), decoded by the frozen decoder and
 * measured against the world's ideal video for the same prompt. Nothing here imports React or
 * touches the DOM; every step is leak-free (tested).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { perSampleMse, seppoLoss, sftLoss } from '../align/loss';
import { pickReferenceIndex } from '../align/pool';
import { comparePaired, type PairedComparison } from '../eval/intervals';
import { qSample, scheduleFor, type Schedule } from '../diffusion/schedule';
import { loadIntoParams } from '../model/checkpoint';
import { encodeImages, type Params, type ReducedSD } from '../model/sd';
import { armBeta, armLr, type VideoArm, type VideoConfig } from './config';
import { fidLike, fvdLike, ssim, videoPsnr } from './metrics';
import { CLIP_METRIC_KEYS, type VideoCheckpointRecord, type VideoClipMetrics, type VideoUpdateRecord } from './records';

export { CLIP_METRIC_KEYS, type VideoCheckpointRecord, type VideoClipMetrics, type VideoUpdateRecord };
import { createVideoUNet, disposeVideoUNet, videoUnetForward, type VideoUNet } from './motion';
import { sampleVideos, sampleVideoLatents, videoNoise } from './sample';
import { videoContext, videoTokens } from './train';
import { buildVideoDataset, renderIdealVideo, videoPromptText, videoUtilityParts, videoWeightedTotal, VIDEO_UTILITY_WEIGHTS, type VideoDataset, type VideoPrompt } from './world';
import { createAdam, type StepOptimizer } from '../optim';

/** What the experiment needs of the feature networks (features.ts): LPIPS-like per clip, and the features behind FID-like / FVD-like. */
export interface VideoFeatureScorer {
  lpipsLike(a: Float32Array, b: Float32Array, frames: number): number;
  featureSets(videos: Float32Array[], frames: number): Promise<{ frame: Float32Array[]; clip: Float32Array[] }>;
}

export interface VideoModelEval {
  name: string;
  clips: VideoClipMetrics[];
  /** Fréchet distances against the ideal videos' features (NaN without feature networks). */
  fid: number;
  fvd: number;
  /** Paired comparison with the raw model, per clip metric (absent for the raw model itself). */
  vsRaw?: Record<(typeof CLIP_METRIC_KEYS)[number], PairedComparison>;
  frameFeatures?: Float32Array[];
  clipFeatures?: Float32Array[];
}

interface LoraSnapshot {
  k: number;
  update: number;
  params: Params;
}

interface ArmState {
  cfg: VideoArm;
  video: VideoUNet;
  vars: tf.Variable[];
  opt: StepOptimizer;
  pool: LoraSnapshot[];
  nextK: number;
  updates: VideoUpdateRecord[];
  checkpoints: VideoCheckpointRecord[];
  halted: string | null;
}

/** A shallow view of `m` whose LoRA adapters are `params` (a snapshot with the same keys). */
function withAdapters(m: VideoUNet, params: Params): VideoUNet {
  if (!m.lora) throw new Error('withAdapters: the video model has no LoRA adapters');
  return { ...m, lora: { ...m.lora, params } };
}

function snapshot(p: Params): Params {
  return Object.fromEntries(Object.entries(p).map(([k, v]) => [k, tf.keep(v.clone()) as unknown as tf.Variable]));
}

const disposeSnapshot = (p: Params) => Object.values(p).forEach((v) => v.dispose());

/** Per-clip denoising error: [B·F, S, S, C] → [B], the mean over frames and pixels. */
export function perClipMse(pred: tf.Tensor4D, eps: tf.Tensor4D, clips: number): tf.Tensor1D {
  return perSampleMse(pred.reshape([clips, -1]), eps.reshape([clips, -1]));
}

export interface VideoExperimentInit {
  sd: ReducedSD;
  /** The pretrained motion modules (motion.safetensors of scripts/pretrain-video.ts). */
  motionBytes: Uint8Array;
  config: VideoConfig;
  features?: VideoFeatureScorer | null;
  /** A prebuilt dataset (tests); otherwise buildVideoDataset({ seed: dataSeed, … }). */
  dataset?: VideoDataset;
  log?: (s: string) => void;
}

/** The batch of update u, shared by every arm: pair indices, t per clip, ε per frame, the reference samples' noise. */
export function videoUpdateBatch(c: VideoConfig, u: number, nPairs: number, latentLen: number, T: number): { idx: number[]; t: Int32Array; eps: Float32Array; refNoise: Float32Array } {
  const r = new Rng(c.seed).fork(`video/batch/${u}`);
  const B = c.batchSize, F = c.frames;
  const idx = Array.from({ length: B }, () => r.int(nPairs));
  const t = Int32Array.from({ length: B }, () => r.int(T));
  return { idx, t, eps: r.fork('eps').normals(B * F * latentLen), refNoise: r.fork('ref').normals(B * F * latentLen) };
}

let nextInstance = 0;

export class VideoExperiment {
  readonly config: VideoConfig;
  readonly dataset: VideoDataset;
  readonly schedule: Schedule;
  readonly arms: ArmState[] = [];
  private readonly sd: ReducedSD;
  private readonly raw: VideoUNet;
  private features: VideoFeatureScorer | null;
  private readonly log: (s: string) => void;
  private readonly latLen: number;
  private winnerLatents: Float32Array;
  private start: Int32Array;
  private end: Int32Array;
  private rawCheckpointClips: VideoClipMetrics[] | null = null;
  update = 0;
  private readonly id: string;

  constructor(o: VideoExperimentInit) {
    this.config = o.config;
    this.sd = o.sd;
    this.features = o.features ?? null;
    this.log = o.log ?? (() => {});
    const c = o.config, ucfg = o.sd.config.unet;
    this.schedule = scheduleFor(ucfg);
    this.latLen = ucfg.latentSize * ucfg.latentSize * ucfg.latentChannels;
    this.dataset = o.dataset ?? buildVideoDataset({ seed: c.dataSeed, frames: c.frames, nTrainPairs: c.nTrainPairs });
    if (this.dataset.train.length < c.batchSize) throw new Error(`video experiment: ${this.dataset.train.length} training pairs, fewer than the batch ${c.batchSize}`);
    const split = c.evalSplit === 'tuning' ? this.dataset.tuning : this.dataset.evaluation;
    if (split.length < c.evalPrompts) throw new Error(`video experiment: evalPrompts ${c.evalPrompts} exceeds the ${c.evalSplit} split's ${split.length} prompts`);

    const F = c.frames;
    const id = `vx${nextInstance++}`; // variable names are global: one prefix per experiment
    this.id = id;
    const mcfg = { frames: F, heads: c.heads };
    const withMotion = (m: VideoUNet) => {
      try {
        loadIntoParams(m.motion, o.motionBytes, m.motionPrefix);
      } catch (e) {
        disposeVideoUNet(m);
        throw new Error(`video experiment: the motion modules do not fit (${c.frames} frames, ${c.heads} heads): ${e instanceof Error ? e.message : String(e)}`);
      }
      return m;
    };
    this.raw = withMotion(createVideoUNet(`${id}raw`, o.sd.unet, ucfg, mcfg, c.seed));
    c.arms.forEach((a, i) => {
      const video = withMotion(createVideoUNet(`${id}arm${i}`, o.sd.unet, ucfg, mcfg, c.seed, { rank: c.loraRank }));
      const vars = Object.values(video.lora!.params); // LoRA only: the motion modules stay as pretrained
      const state: ArmState = { cfg: a, video, vars, opt: createAdam(armLr(c, a)), pool: [], nextK: 0, updates: [], checkpoints: [], halted: null };
      this.saveSnapshot(state);
      this.arms.push(state);
    });

    // The training winners, encoded once by the frozen encoder: pair p's clip at p·F·LAT.
    const n = this.dataset.train.length;
    this.winnerLatents = new Float32Array(n * F * this.latLen);
    for (let p = 0; p < n; p++) {
      const z = tf.tidy(() => encodeImages(o.sd, tf.tensor4d(this.dataset.train[p].winner, [F, 32, 32, 3])));
      this.winnerLatents.set(z.dataSync(), p * F * this.latLen);
      z.dispose();
    }
    const tok = videoTokens(this.dataset.train.map((p) => p.prompt));
    this.start = tok.start;
    this.end = tok.end;
  }

  private saveSnapshot(a: ArmState): void {
    a.pool.push({ k: a.nextK++, update: this.update, params: snapshot(a.video.lora!.params) });
    if (a.pool.length > this.config.maxCheckpoints) {
      const [old] = a.pool.splice(1, 1); // θ₀ stays (so 'init' keeps its meaning)
      disposeSnapshot(old.params);
    }
  }

  private rows(tokens: Int32Array, idx: number[]): Int32Array {
    const L = this.sd.config.text.maxTokens;
    const out = new Int32Array(idx.length * L);
    idx.forEach((p, b) => out.set(tokens.subarray(p * L, (p + 1) * L), b * L));
    return out;
  }

  /** One update of every arm that has not halted; then, every checkpointEvery updates, a snapshot (and the small evaluation). */
  async step(): Promise<void> {
    const c = this.config, F = c.frames, B = c.batchSize, ucfg = this.sd.config.unet;
    const S = ucfg.latentSize, C = ucfg.latentChannels;
    const u = this.update;
    const b = videoUpdateBatch(c, u, this.dataset.train.length, this.latLen, this.schedule.T);
    const lat = new Float32Array(B * F * this.latLen);
    b.idx.forEach((p, i) => lat.set(this.winnerLatents.subarray(p * F * this.latLen, (p + 1) * F * this.latLen), i * F * this.latLen));
    const start = this.rows(this.start, b.idx), end = this.rows(this.end, b.idx);
    for (const a of this.arms) {
      if (a.halted) continue;
      const t0 = Date.now();
      const refIdx = a.cfg.method === 'seppo' ? pickReferenceIndex(a.cfg.refStrategy, a.pool.length, new Rng(c.seed).fork(`video/ref/${u}`)) : -1;
      const ref = refIdx >= 0 ? withAdapters(a.video, a.pool[refIdx].params) : null;
      const xl = ref ? sampleVideoLatents(this.sd, ref, start, end, b.refNoise, B, { steps: c.refSteps, guidance: c.refGuidance, schedule: this.schedule }) : null; // [B·F,S,S,C]
      const kept: tf.Tensor[] = [];
      const { value, grads } = tf.tidy(() => {
        const t = tf.tensor1d(b.t, 'int32');
        const tF = tf.tile(t.reshape([B, 1]), [1, F]).reshape([B * F]) as tf.Tensor1D;
        const eps = tf.tensor4d(b.eps, [B * F, S, S, C]);
        const ztW = qSample(tf.tensor4d(lat, [B * F, S, S, C]), tF, eps, this.schedule);
        const ctx = videoContext(this.sd, start, end, B);
        if (!ref || !xl) {
          return tf.variableGrads(() => sftLoss(perClipMse(videoUnetForward(a.video, ztW, t.toFloat() as tf.Tensor1D, ctx), eps, B)), a.vars);
        }
        const zt = tf.concat([ztW, qSample(xl, tF, eps, this.schedule)], 0) as tf.Tensor4D; // [2B·F]: winners, then reference samples
        const t2 = tf.concat([t, t]).toFloat() as tf.Tensor1D, ctx2 = tf.concat([ctx, ctx], 0) as tf.Tensor3D, eps2 = tf.concat([eps, eps], 0) as tf.Tensor4D;
        const [refW, refL] = tf.split(perClipMse(videoUnetForward(ref, zt, t2, ctx2), eps2, 2 * B), 2) as tf.Tensor1D[]; // no gradient: outside the tape
        return tf.variableGrads(() => {
          const [modelW, modelL] = tf.split(perClipMse(videoUnetForward(a.video, zt, t2, ctx2), eps2, 2 * B), 2) as tf.Tensor1D[];
          const r = seppoLoss({ modelW, modelL, refW, refL }, { beta: armBeta(c, a.cfg), flip: a.cfg.flip });
          kept.push(tf.keep(r.aafRate), tf.keep(r.implicitAcc));
          return r.loss;
        }, a.vars);
      });
      xl?.dispose();
      const loss = (await value.data())[0];
      const [aafRate, implicitAcc] = kept.length ? (await Promise.all(kept.map((x) => x.data()))).map((d) => d[0]) : [NaN, NaN];
      kept.forEach((x) => x.dispose());
      value.dispose();
      if (!Number.isFinite(loss)) {
        a.halted = `${a.cfg.name}: loss ${loss} at update ${u + 1}; this arm is halted, the others go on`;
        Object.values(grads).forEach((g) => g.dispose());
        this.log(a.halted);
        continue;
      }
      a.opt.applyGradients(grads as never);
      Object.values(grads).forEach((g) => g.dispose());
      a.updates.push({ update: u + 1, loss, aafRate, implicitAcc, refK: refIdx >= 0 ? a.pool[refIdx].k : -1, ms: Date.now() - t0 });
    }
    this.update++;
    if (this.update % c.checkpointEvery === 0 || this.update === c.updates) {
      for (const a of this.arms) if (!a.halted) this.saveSnapshot(a);
      if (c.checkpointEvalClips > 0) await this.checkpointEval();
    }
  }

  /** The prompts and noise of evaluation clip set `kind`: clip i is prompt i mod P with its own noise i. */
  evalClips(kind: 'final' | 'checkpoint'): { prompts: VideoPrompt[]; noiseSeed: number } {
    const c = this.config;
    const split = c.evalSplit === 'tuning' ? this.dataset.tuning : this.dataset.evaluation;
    const n = kind === 'final' ? c.evalPrompts * c.evalNoises : c.checkpointEvalClips;
    const P = kind === 'final' ? c.evalPrompts : Math.min(c.checkpointEvalClips, split.length);
    const seed = new Rng(c.evalSeed).fork(`video/${kind}`).int(2 ** 31 - 1);
    return { prompts: Array.from({ length: n }, (_, i) => split[i % P]), noiseSeed: seed };
  }

  /** Samples and decodes clips of `model` for `prompts` (clip i from noise i of `noiseSeed`), `batch` clips at a time. */
  async sampleClips(model: VideoUNet, prompts: readonly VideoPrompt[], noiseSeed: number, steps: number, batch = 4): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < prompts.length; i += batch) {
      const ps = prompts.slice(i, i + batch);
      const { start, end } = videoTokens(ps);
      const noise = videoNoise(noiseSeed, ps.length, this.config.frames, this.latLen, i);
      out.push(...sampleVideos(this.sd, model, start, end, noise, ps.length, { steps, guidance: this.config.evalGuidance, schedule: this.schedule }));
      await new Promise((r) => setTimeout(r, 0)); // let a worker answer messages between batches
    }
    return out;
  }

  /** Per-clip metrics against the ideal video of each clip's prompt. */
  clipMetrics(prompts: readonly VideoPrompt[], clips: readonly Float32Array[]): VideoClipMetrics[] {
    const F = this.config.frames;
    return clips.map((v, i) => {
      const ideal = renderIdealVideo(prompts[i], F);
      const parts = videoUtilityParts(prompts[i], v, F);
      return {
        trueUtility: videoWeightedTotal(parts, VIDEO_UTILITY_WEIGHTS),
        frame: parts.frame,
        temporal: parts.temporal,
        follow: parts.follow,
        ssim: ssim(v, ideal),
        psnr: videoPsnr(v, ideal),
        lpips: this.features ? this.features.lpipsLike(v, ideal, F) : NaN,
      };
    });
  }

  private async checkpointEval(): Promise<void> {
    const c = this.config;
    const { prompts, noiseSeed } = this.evalClips('checkpoint');
    if (!this.rawCheckpointClips) this.rawCheckpointClips = this.clipMetrics(prompts, await this.sampleClips(this.raw, prompts, noiseSeed, c.evalSteps));
    for (const a of this.arms) {
      if (a.halted) continue;
      const m = this.clipMetrics(prompts, await this.sampleClips(a.video, prompts, noiseSeed, c.evalSteps));
      const cmp = comparePaired(m, this.rawCheckpointClips, ['trueUtility'] as const).trueUtility;
      a.checkpoints.push({ update: this.update, trueUtility: cmp.delta.mean + mean(this.rawCheckpointClips.map((x) => x.trueUtility)), deltaVsRaw: cmp });
    }
  }

  /** The final evaluation: the raw model, the image model frame by frame (if asked) and every arm, on the same clips. */
  async finalEval(onModel?: (name: string) => void, features?: VideoFeatureScorer | null): Promise<{ prompts: string[]; models: VideoModelEval[]; samples: Record<string, Float32Array[]>; idealFeatures: { frame: Float32Array[]; clip: Float32Array[] } | null }> {
    if (features !== undefined) this.features = features; // the runner may load the feature networks only now
    const c = this.config, F = c.frames;
    const { prompts, noiseSeed } = this.evalClips('final');
    const ideal = prompts.map((p) => renderIdealVideo(p, F));
    const idealSets = this.features ? await this.features.featureSets(ideal, F) : null;
    const models: { name: string; model: VideoUNet; dispose?: boolean }[] = [{ name: 'raw (motion modules, no LoRA)', model: this.raw }];
    if (c.evalImageModel) models.push({ name: 'image model frame by frame', model: createVideoUNet(`${this.id}img`, this.sd.unet, this.sd.config.unet, { frames: F, heads: c.heads }, c.seed), dispose: true });
    for (const a of this.arms) models.push({ name: a.cfg.name, model: a.video });
    const out: VideoModelEval[] = [];
    const samples: Record<string, Float32Array[]> = {};
    try {
      for (const m of models) {
        onModel?.(m.name);
        const t0 = Date.now();
        const clips = await this.sampleClips(m.model, prompts, noiseSeed, c.evalSteps);
        if (m.dispose) {
          disposeVideoUNet(m.model);
          m.dispose = false;
        }
        const metrics = this.clipMetrics(prompts, clips);
        const sets = this.features ? await this.features.featureSets(clips, F) : null;
        const ev: VideoModelEval = {
          name: m.name,
          clips: metrics,
          fid: sets && idealSets ? fidLike(sets.frame, idealSets.frame) : NaN,
          fvd: sets && idealSets ? fvdLike(sets.clip, idealSets.clip) : NaN,
          ...(sets ? { frameFeatures: sets.frame, clipFeatures: sets.clip } : {}),
        };
        if (out.length > 0) ev.vsRaw = comparePaired(metrics, out[0].clips, CLIP_METRIC_KEYS);
        out.push(ev);
        samples[m.name] = clips.slice(0, 4);
        this.log(`final evaluation: ${m.name}, ${clips.length} clips in ${((Date.now() - t0) / 1000).toFixed(1)} s, true preference ${mean(metrics.map((x) => x.trueUtility)).toFixed(4)}`);
      }
    } finally {
      for (const m of models) if (m.dispose) disposeVideoUNet(m.model); // a throw (or an onModel that stops the evaluation) leaks nothing
    }
    return { prompts: prompts.map(videoPromptText), models: out, samples, idealFeatures: idealSets };
  }

  /** Sampled clips of every model for a few evaluation prompts (the page's animated grid; same noise for every model). */
  async sampleGrid(n: number, steps = this.config.evalSteps): Promise<{ prompts: string[]; rows: { name: string; clips: Float32Array[] }[] }> {
    const { prompts, noiseSeed } = this.evalClips('checkpoint');
    const ps = Array.from({ length: n }, (_, i) => prompts.length ? prompts[i % prompts.length] : this.dataset.evaluation[i]);
    const rows = [{ name: 'raw', clips: await this.sampleClips(this.raw, ps, noiseSeed, steps) }];
    for (const a of this.arms) rows.push({ name: a.cfg.name, clips: await this.sampleClips(a.video, ps, noiseSeed, steps) });
    return { prompts: ps.map(videoPromptText), rows };
  }

  dispose(): void {
    disposeVideoUNet(this.raw);
    for (const a of this.arms) {
      a.pool.forEach((s) => disposeSnapshot(s.params));
      a.opt.dispose();
      disposeVideoUNet(a.video);
    }
    this.arms.length = 0;
  }
}

function mean(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
}


