import * as tf from '@tensorflow/tfjs';
import type { ExperimentReplyMap, ExperimentRequest } from './protocol-experiment';
import type { WorkerEvent } from './protocol';
import { ExperimentSession, type AssetLoader } from './experiment-session';
import { getDataset, loadBaseModel, loadScorers, scorersIdentity } from './assets';
import { baseEvalStore } from './base-eval-store';
import { evaluate } from '../core/eval/evaluate';
import { rewardFunctions } from '../core/eval/reward';
import { metricsCsv } from '../core/align/report';
import { sampleImagesAsync } from '../core/diffusion/sample';
import { tokenize } from '../core/world';
import { indexedDbStore } from './experiment-store';

/**
 * The playground's assets: the shipped base model and scorers (loaded once, cached by assets.ts)
 * and the Pick-a-Shape dataset of the experiment's data seed. Progress of each long step goes to
 * the page as `exp.progress` (the assets' own byte-level 'progress' events pass through too).
 */
const loadAssets: AssetLoader = async (config, emit, progress) => {
  progress('loading the base model', 0);
  const base = await loadBaseModel(emit);
  progress('loading PickScore-mini and HPS-mini', 0.4);
  const scorers = await loadScorers(emit);
  progress(`building the Pick-a-Shape dataset (seed ${config.dataSeed})`, 0.7);
  await new Promise((r) => setTimeout(r, 0));
  const { dataset } = getDataset(config.dataSize > 1000 ? { seed: config.dataSeed, nTrainPairs: config.dataSize } : { seed: config.dataSeed }, emit);
  progress('encoding the training data and evaluating the base model', 0.9);
  return {
    base: base.model,
    dataset,
    // Asynchronous read-back only: a synchronous read on software WebGPU destroys the device (core/diffusion/sample.ts).
    identity: { model: base.id, scorers: scorersIdentity() },
    // The reward-model arms (DDPO, D3PO) train on the scorers loaded for evaluation (the same ones).
    rewards: rewardFunctions(scorers),
    // Batches of 8 (the noise of image i does not depend on the batch: core/diffusion/sample.ts), so
    // progress is shown and a Cut short lands between batches.
    evaluate: async (model, prompts, o, _subject, onBatch) => {
      const images = await sampleImagesAsync(model, prompts.map((p) => tokenize(p)), { ...o, batchSize: 8 }, onBatch);
      const r = await evaluate(prompts, images, scorers);
      return { mean: { ...r.mean }, perImage: r.perImage.map((m) => ({ ...m })), images };
    },
  };
};

let session: ExperimentSession | null = null;

/** Handles the playground's experiment requests inside the worker. */
export async function handleExperiment(
  req: ExperimentRequest,
  emit: (e: WorkerEvent) => void,
): Promise<ExperimentReplyMap[keyof ExperimentReplyMap]> {
  if (!session) {
    session = new ExperimentSession(emit, { loadAssets, backend: () => tf.getBackend(), store: indexedDbStore, baseCache: baseEvalStore });
  }
  switch (req.type) {
    case 'exp.configure':
      return session.configure(req.config, req.resume ?? false);
    case 'exp.play':
      return session.play();
    case 'exp.pause':
      return session.pause();
    case 'exp.step':
      return session.step();
    case 'exp.reset':
      return session.reset();
    case 'exp.exportCheckpoint':
      return session.exportCheckpoint(req.arm);
    case 'exp.stored':
      return session.stored();
    case 'exp.forget':
      return session.forget();
    case 'exp.snapshot':
      return session.current();
    case 'exp.cutBaseEval':
      return session.cutBaseEval();
    case 'exp.csv':
      return { csv: metricsCsv(req.results as unknown as Parameters<typeof metricsCsv>[0]) };
  }
  throw new Error(`unknown experiment request ${JSON.stringify(req)}`);
}
