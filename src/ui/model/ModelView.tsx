import type { WorkerClient } from '../../worker/client';

/** Sample the base model from a typed prompt, step by step, with its metrics (issues 4 and 5). */
export function ModelView(_props: { client: WorkerClient }) {
  return <section aria-label="Model">Model view coming.</section>;
}
