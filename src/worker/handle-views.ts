import type { ViewsReplyMap, ViewsRequest } from './protocol-views';
import type { WorkerEvent } from './protocol';

/** Handles the Data and Model views' requests inside the worker. */
export async function handleViews(req: ViewsRequest, _emit: (e: WorkerEvent) => void): Promise<ViewsReplyMap[keyof ViewsReplyMap]> {
  throw new Error(`unknown views request ${JSON.stringify(req)}`);
}
