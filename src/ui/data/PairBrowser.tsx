import { useEffect, useState } from 'react';
import type { WorkerClient } from '../../worker/client';
import type { PairsPage } from '../../worker/protocol-views';
import { PairCard } from './PairCard';

export const PAGE_SIZE = 6;

/** Pages through the train pairs (fetched from the worker one page at a time). */
export function PairBrowser({ client, total }: { client: WorkerClient; total: number }) {
  const [page, setPage] = useState(0);
  const [data, setData] = useState<PairsPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));

  useEffect(() => {
    let alive = true;
    setError(null);
    client
      .call({ type: 'data:pairs', offset: page * PAGE_SIZE, limit: PAGE_SIZE })
      .then((r) => alive && setData(r))
      .catch((e: Error) => alive && setError(e.message));
    return () => {
      alive = false;
    };
  }, [client, page]);

  const go = (p: number) => setPage(Math.max(0, Math.min(pages - 1, p)));
  const loading = !data || data.offset !== page * PAGE_SIZE;
  return (
    <section className="data-browser" aria-label="Training pairs">
      <div className="data-pager">
        <h3>Training pairs</h3>
        <button onClick={() => go(0)} disabled={page === 0} aria-label="First page">«</button>
        <button onClick={() => go(page - 1)} disabled={page === 0} aria-label="Previous page">‹ Previous</button>
        <span data-testid="data-page" aria-live="polite">
          page {page + 1} of {pages} (pairs {page * PAGE_SIZE + 1}–{Math.min(total, (page + 1) * PAGE_SIZE)} of {total})
        </span>
        <button onClick={() => go(page + 1)} disabled={page >= pages - 1} aria-label="Next page">Next ›</button>
        <button onClick={() => go(pages - 1)} disabled={page >= pages - 1} aria-label="Last page">»</button>
        {loading && !error && <span className="data-n">loading…</span>}
      </div>
      {error && <div className="notice notice-error" role="alert">Could not load pairs: {error}</div>}
      <div className={loading ? 'data-pairs data-stale' : 'data-pairs'}>
        {data?.pairs.map((p) => <PairCard key={p.index} pair={p} />)}
      </div>
    </section>
  );
}
