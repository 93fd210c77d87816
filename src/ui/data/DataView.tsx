import type { WorkerClient } from '../../worker/client';

/** Browse the Pick-a-Shape training pairs and the dataset's figures (issue 3). */
export function DataView(_props: { client: WorkerClient }) {
  return <section aria-label="Data">Data view coming.</section>;
}
