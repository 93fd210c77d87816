/**
 * Pretraining the motion modules (AnimateDiff §4.2): the image model frozen, the ε-prediction MSE
 * of DDPM (Ho et al. 2020, eq. 14) on clips, one timestep per clip shared by its frames and fresh
 * noise per frame, as AnimateDiff's training loop does. Only `videoTrainableVariables` move.
 *
 * Text: the frozen text encoder has no rows for the video words (world.ts VIDEO_VOCAB), so a clip is
 * conditioned on its start and end states: context = [encodeText(start prompt); encodeText(end prompt)]
 * along the token axis, [B, 2L, D]. Cross-attention takes any number of tokens; together the two
 * prompts say what changes and how far (a provisional choice: README.md).
 */
import * as tf from '@tensorflow/tfjs';
import { encodeText, type ReducedSD } from '../model/sd';
import { qSample, type Schedule } from '../diffusion/schedule';
import { tokenize } from '../world/prompt';
import { endPrompt, type VideoPrompt } from './world';
import { videoTrainableVariables, videoUnetForward, type VideoUNet } from './motion';

/** Start- and end-prompt tokens of each clip, B·L each (image-world tokenizer, MAX_TOKENS). */
export function videoTokens(prompts: readonly VideoPrompt[]): { start: Int32Array; end: Int32Array } {
  const L = prompts.length ? tokenize(prompts[0].start).length : 0;
  const start = new Int32Array(prompts.length * L), end = new Int32Array(prompts.length * L);
  prompts.forEach((v, i) => {
    start.set(tokenize(v.start), i * L);
    end.set(tokenize(endPrompt(v)), i * L);
  });
  return { start, end };
}

/** [encodeText(start); encodeText(end)]: tokens B·L each → context [B, 2L, D]. */
export function videoContext(sd: ReducedSD, start: Int32Array, end: Int32Array, batch: number): tf.Tensor3D {
  const L = sd.config.text.maxTokens;
  return tf.tidy(() => {
    const a = encodeText(sd.text, sd.config.text, tf.tensor2d(start, [batch, L], 'int32')); // [B,L,D]
    const b = encodeText(sd.text, sd.config.text, tf.tensor2d(end, [batch, L], 'int32')); // [B,L,D]
    return tf.concat([a, b], 1) as tf.Tensor3D; // [B,2L,D]
  });
}

export interface VideoBatch {
  latents: Float32Array; // B·F·S·S·C, scaled, clip-major
  start: Int32Array; // B·L (all-PAD rows where the prompt is dropped)
  end: Int32Array; // B·L
  t: Int32Array; // B, one per clip
  eps: Float32Array; // B·F·S·S·C standard normals
  batch: number;
}

export interface VideoTrainer {
  step(b: VideoBatch): tf.Scalar;
  setLearningRate(lr: number): void;
  readonly optimizer: tf.Optimizer;
  readonly variables: tf.Variable[];
  dispose(): void;
}

/** Adam on the motion modules (and adapters, if any) of `video`; `sd` gives the frozen text encoder. */
export function makeVideoTrainer(sd: ReducedSD, video: VideoUNet, schedule: Schedule, lr: number): VideoTrainer {
  const opt = tf.train.adam(lr);
  const vars = videoTrainableVariables(video); // fixed order for Adam's slots
  const ucfg = video.unetCfg, F = video.motionCfg.frames;
  const S = ucfg.latentSize, C = ucfg.latentChannels;
  return {
    step(b) {
      return tf.tidy(() => {
        const BF = b.batch * F;
        const z0 = tf.tensor4d(b.latents, [BF, S, S, C]);
        const eps = tf.tensor4d(b.eps, [BF, S, S, C]);
        const t = tf.tensor1d(b.t, 'int32'); // [B]
        const tF = tf.tile(t.reshape([b.batch, 1]), [1, F]).reshape([BF]) as tf.Tensor1D; // [B·F]
        const zt = qSample(z0, tF, eps, schedule); // [B·F,S,S,C]
        const ctx = videoContext(sd, b.start, b.end, b.batch); // [B,2L,D], frozen: outside the tape
        const { value, grads } = tf.variableGrads(() => {
          const pred = videoUnetForward(video, zt, t.toFloat() as tf.Tensor1D, ctx); // [B·F,S,S,C]
          return tf.losses.meanSquaredError(eps, pred) as tf.Scalar;
        }, vars);
        opt.applyGradients(grads as tf.NamedTensorMap as never);
        return value;
      });
    },
    setLearningRate(v) {
      (opt as unknown as { learningRate: number }).learningRate = v;
    },
    optimizer: opt,
    variables: vars,
    dispose() {
      opt.dispose();
    },
  };
}
