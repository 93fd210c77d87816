import { useEffect, useState } from 'react';
import type { WorkerClient } from '../../worker/client';
import type { PairFilter, PairsPage } from '../../worker/protocol-views';
import { PairCard } from './PairCard';

export const PAGE_SIZE = 6;

const FILTER_LABEL: Record<PairFilter, string> = {
  all: 'all pairs',
  upset: 'raters chose the lower-utility image',
  close: 'close calls (utility gap < 0.1)',
};

/** Pages through the train pairs (fetched from the worker one page at a time). */
export function PairBrowser({ client, total: totalAll }: { client: WorkerClient; total: number }) {
  const [page, setPage] = useState(0);
  const [filter, setFilter] = useState<PairFilter>('all');
  const [data, setData] = useState<(PairsPage & { filter: PairFilter }) | null>(null);
  const [error, setError] = useState<string | null>(null);
  const known = data?.filter === filter || filter === 'all';
  const total = data && data.filter === filter ? data.total : filter === 'all' ? totalAll : 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));

  useEffect(() => {
    let alive = true;
    setError(null);
    client
      .call({ type: 'data:pairs', offset: page * PAGE_SIZE, limit: PAGE_SIZE, filter })
      .then((r) => alive && setData({ ...r, filter }))
      .catch((e: Error) => alive && setError(e.message));
    return () => {
      alive = false;
    };
  }, [client, page, filter]);

  const go = (p: number) => setPage(Math.max(0, Math.min(pages - 1, p)));
  const loading = !data || data.filter !== filter || (data.offset !== page * PAGE_SIZE && total > 0);
  return (
    <section className="data-browser" aria-label="Training pairs">
      <div className="data-pager">
        <h3>Training pairs</h3>
        <label className="data-filter">
          Show{' '}
          <select
            value={filter}
            onChange={(e) => {
              setFilter(e.target.value as PairFilter);
              setPage(0);
            }}
          >
            {(Object.keys(FILTER_LABEL) as PairFilter[]).map((f) => (
              <option key={f} value={f}>
                {FILTER_LABEL[f]}
              </option>
            ))}
          </select>
        </label>
        <button onClick={() => go(0)} disabled={page === 0} aria-label="First page">«</button>
        <button onClick={() => go(page - 1)} disabled={page === 0} aria-label="Previous page">‹ Previous</button>
        <span data-testid="data-page" aria-live="polite">
          {!known ? 'counting…' : <>page {page + 1} of {pages} ({total === 0 ? 'no pairs' : `pairs ${page * PAGE_SIZE + 1}–${Math.min(total, (page + 1) * PAGE_SIZE)} of ${total}`}
          {filter !== 'all' && `, out of ${totalAll}`})</>}
        </span>
        <button onClick={() => go(page + 1)} disabled={page >= pages - 1} aria-label="Next page">Next ›</button>
        <button onClick={() => go(pages - 1)} disabled={page >= pages - 1} aria-label="Last page">»</button>
        {loading && !error && <span className="data-n">loading…</span>}
      </div>
      {error && <div className="notice notice-error" role="alert">Could not load pairs: {error}</div>}
      <div className={loading ? 'data-pairs data-stale' : 'data-pairs'}>
        {data?.filter === filter && data.pairs.map((p) => <PairCard key={p.index} pair={p} />)}
      </div>
    </section>
  );
}
