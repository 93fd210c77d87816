/**
 * The headless runner's body, the same in headless Chromium (src/runner/main.ts) and in Node
 * (scripts/experiment.ts --engine node): load the base model, scorers and dataset with the
 * worker's loaders (fetch in the browser, files in Node), run the Experiment to the end and return
 * its results. No DOM, no Node APIs here.
 */
import type { ExperimentConfig } from '../core/config';
import type { StepResult } from '../core/align/records';
import { Experiment } from '../core/align/trainer';
import type { ExperimentResults, RunMeta } from '../core/align/report';
import { sampleImagesAsync as sampleImagesAsyncCore } from '../core/diffusion/sample';
import { evaluate, type Scorers } from '../core/eval/evaluate';
import { rewardFunctions } from '../core/eval/reward';
import { defaultScorerConfig, describeScorer, disposeScorer, initScorer } from '../core/eval/scorer';
import { disposeReducedSD, initReducedSD, type ReducedSD, type SDConfig } from '../core/model/sd';
import { MAX_TOKENS, idealWinners, tokenize, VOCAB, type Prompt } from '../core/world';
import { getDataset, loadBaseModel, loadScorers } from '../worker/assets';

export interface RunnerInput {
  config: ExperimentConfig;
  preset: string | null;
  /** Dry run without shipped weights: a tiny randomly initialised model and untrained scorers. */
  randomBase: boolean;
  /**
   * 'ideal' (a control, `--winners ideal`): every training pair's winner is the ideal render of its
   * prompt (world's idealWinners), the losers unchanged. Default 'data': the world's winners.
   */
  winners?: 'data' | 'ideal';
}

/** The tiny random model of `--random-base` (the same sizes the engine's unit tests use). */
export const TINY_SD: SDConfig = {
  ae: { imageSize: 32, imageChannels: 3, latentChannels: 4, channels: [8, 8, 8], groups: 4 },
  text: { vocabSize: VOCAB.length, maxTokens: MAX_TOKENS, dim: 16, heads: 2, mlpMult: 2 },
  unet: { latentChannels: 4, latentSize: 8, channels: [16, 16], timeDim: 16, ctxDim: 16, heads: 2, groups: 4 },
};

export interface RunnerHooks {
  log: (msg: string) => void;
  step?: (r: StepResult, wallMs: number) => void;
  /** Results so far, after every step that saved checkpoints (so a stopped run leaves its data). */
  partial?: (r: ExperimentResults) => void | Promise<void>;
}

/** One progress line per update: each arm's loss, implicit accuracy and AAF rate (reward arms: their training reward). */
export function stepLine(r: StepResult, total: number, wallMs: number): string {
  const parts = r.records.map((x) => {
    const acc = x.implicitAcc === null ? '' : x.aafRate === null ? ` acc ${x.implicitAcc.toFixed(2)}` : ` acc ${x.implicitAcc.toFixed(2)} aaf ${x.aafRate.toFixed(2)}`;
    const rw = x.trainReward === undefined ? '' : ` ${x.rewardModel} ${x.trainReward.toFixed(3)}${x.clipFrac === undefined ? '' : ` clip ${x.clipFrac.toFixed(2)}`}`;
    return `${x.arm}: loss ${x.loss.toFixed(4)}${acc}${rw} (${x.ms.toFixed(0)} ms)`;
  });
  const cps = r.checkpoints.map((c) => `${c.arm} eval PickScore ${c.metrics?.pickScore?.toFixed(2) ?? '—'} U ${c.metrics?.trueUtility?.toFixed(3) ?? '—'} (${c.ms.toFixed(0)} ms)`);
  const halted = r.halted.map((h) => `HALTED ${h.message}`);
  return [`update ${r.update}/${total} [${(wallMs / 1000).toFixed(1)} s]`, ...parts, ...cps, ...halted].join(' | ');
}

/** The prompts' images from fixed noise, read back asynchronously (see core/diffusion/sample.ts). */
export function sampleImagesAsync(model: ReducedSD, prompts: Prompt[], o: { seed: number; steps: number; guidance: number }): Promise<Float32Array[]> {
  return sampleImagesAsyncCore(model, prompts.map((p) => tokenize(p)), o);
}

export async function runExperimentHere(input: RunnerInput, meta: Omit<RunMeta, 'wallMs' | 'assets' | 'startedAt'>, hooks: RunnerHooks): Promise<ExperimentResults> {
  const { config } = input;
  const t0 = performance.now();
  const startedAt = new Date().toISOString();
  const noEmit = () => {};
  let base: ReducedSD;
  let scorers: Scorers;
  let assets: string;
  let owned = false;
  if (input.randomBase) {
    hooks.log('assets: tiny randomly initialised model and untrained scorers (--random-base dry run)');
    base = initReducedSD('base', TINY_SD, config.seed);
    const sc = defaultScorerConfig(VOCAB.length, MAX_TOKENS);
    scorers = { pickScore: initScorer('pickscore-mini', 'runner/pick', sc, 1), hps: initScorer('hps-mini', 'runner/hps', sc, 2) };
    assets = 'random tiny model + untrained scorers (dry run; metrics meaningless)';
    owned = true;
  } else {
    hooks.log('loading the base model (public/models/base/)');
    const b = await loadBaseModel(noEmit);
    base = b.model;
    hooks.log(`base model: ${b.params.total} parameters (UNet ${b.params.unet}), ${(b.bytes / 1e6).toFixed(1)} MB`);
    hooks.log('loading PickScore-mini and HPS-mini (public/models/)');
    scorers = await loadScorers(noEmit);
    assets = `pretrained base model + shipped ${describeScorer(scorers.pickScore)} + ${describeScorer(scorers.hps)}`;
  }
  try {
    hooks.log(`building the Pick-a-Shape dataset (seed ${config.dataSeed})`);
    const { dataset, buildMs } = getDataset(config.dataSize > 1000 ? { seed: config.dataSeed, nTrainPairs: config.dataSize } : { seed: config.dataSeed });
    hooks.log(`dataset: ${dataset.train.length} train pairs in ${(buildMs / 1000).toFixed(1)} s; encoding ${config.dataSize} pairs and evaluating the base`);
    let lastStage = '';
    const train = input.winners === 'ideal' ? idealWinners(dataset.train.slice(0, config.dataSize)) : dataset.train;
    if (input.winners === 'ideal') hooks.log('control: every training winner replaced by the ideal render of its prompt (--winners ideal)');
    const exp = await Experiment.create(config, base, { train, validationUnique: dataset.validationUnique, tuning: dataset.scorerTestPrompts, oodComposition: dataset.oodComposition, oodRaters: dataset.oodRaters }, {
      onProgress: (stage) => {
        if (stage !== lastStage) hooks.log((lastStage = stage));
      },
      evaluate: async (m, prompts, o) => {
        const images = await sampleImagesAsync(m, prompts, o);
        const r = await evaluate(prompts, images, scorers);
        return { mean: { ...r.mean }, perImage: r.perImage.map((x) => ({ ...x })) }; // images not kept
      },
      // The reward-model arms (DDPO, D3PO) train on the very scorers the evaluation reports.
      rewards: rewardFunctions(scorers),
    });
    try {
      hooks.log(`base: ${JSON.stringify(exp.baseEval?.mean)}`);
      await exp.run({
        onStep: async (r) => {
          hooks.step?.(r, performance.now() - t0);
          if (hooks.partial && r.checkpoints.length > 0 && !exp.done) {
            await hooks.partial({ ...exp.results(), meta: { ...meta, assets, startedAt, wallMs: performance.now() - t0 } });
          }
        },
      });
      return { ...exp.results(), meta: { ...meta, assets, startedAt, wallMs: performance.now() - t0 } };
    } finally {
      exp.dispose();
    }
  } finally {
    if (owned) {
      disposeReducedSD(base);
      disposeScorer(scorers.pickScore);
      disposeScorer(scorers.hps);
    }
  }
}
