import type { ExperimentReplyMap, ExperimentRequest } from './protocol-experiment';
import type { WorkerEvent } from './protocol';

/** Handles the playground's experiment requests inside the worker. */
export async function handleExperiment(
  req: ExperimentRequest,
  _emit: (e: WorkerEvent) => void,
): Promise<ExperimentReplyMap[keyof ExperimentReplyMap]> {
  throw new Error(`unknown experiment request ${JSON.stringify(req)}`);
}
