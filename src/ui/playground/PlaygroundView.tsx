import type { WorkerClient } from '../../worker/client';
import type { BackendReport } from '../../worker/protocol';

/** The playground: arms side by side, live charts, results table, sample grids (issue 7). */
export function PlaygroundView(_props: { client: WorkerClient; report: BackendReport }) {
  return <section aria-label="Playground">Playground coming.</section>;
}
