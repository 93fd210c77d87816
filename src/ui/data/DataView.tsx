import { useCallback, useEffect, useState } from 'react';
import type { WorkerClient } from '../../worker/client';
import type { DataSummary } from '../../worker/protocol-views';
import { DatasetFigures, PromptLists } from './DatasetFigures';
import { PairBrowser } from './PairBrowser';

/** Browse the Pick-a-Shape training pairs and the dataset's figures (issue 3). */
export function DataView({ client }: { client: WorkerClient }) {
  const [summary, setSummary] = useState<DataSummary | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(() => {
    setError(null);
    return client.call({ type: 'data:summary' }).then(setSummary, (e: Error) => setError(e.message));
  }, [client]);
  useEffect(() => {
    void load();
  }, [load]);

  return (
    <section className="data-view" aria-label="Data">
      <p className="data-intro">
        Pick-a-Shape stands in for Pick-a-Pic: four generators draw each prompt with their own defects, simulated raters pick a winner
        with a probability that grows with the gap in true utility U, and near-ties are dropped. The alignment methods train on the
        <em> train</em> pairs below.
      </p>
      {error && (
        <div className="notice notice-error" role="alert">
          Could not build the dataset: {error} <button onClick={() => void load()}>Retry</button>
        </div>
      )}
      {!summary && !error && (
        <div className="data-loading" role="status">
          <progress aria-label="Building the dataset" /> Building the Pick-a-Shape dataset in the worker (a few seconds)…
        </div>
      )}
      {summary && (
        <>
          <DatasetFigures summary={summary} />
          <PairBrowser client={client} total={summary.splits[0].pairs} />
          <PromptLists summary={summary} />
        </>
      )}
    </section>
  );
}
