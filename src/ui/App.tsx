import { useEffect, useMemo, useState } from 'react';
import { parseBackendParam } from './backendParam';
import { BackendBadge, BackendNotice } from './BackendBadge';
import { useWorker } from './useWorker';

/** A 2×2 product the worker computes at start: proof that tfjs runs there on the chosen backend. */
const CHECK_A = [[1, 2], [3, 4]];
const CHECK_B = [[5, 6], [7, 8]];

export function App() {
  const { request, warning } = useMemo(() => parseBackendParam(window.location.search), []);
  const worker = useWorker(request);
  const [check, setCheck] = useState<string>('running…');

  useEffect(() => {
    if (worker.status !== 'ready') return;
    worker.client
      .call({ type: 'matmul', a: CHECK_A, b: CHECK_B })
      .then((r) => setCheck(`[${r.values.map((row) => row.join(', ')).join('; ')}] on ${r.backend}`))
      .catch((e: Error) => setCheck(`failed: ${e.message}`));
  }, [worker]);

  const report = worker.status === 'ready' ? worker.report : null;
  return (
    <div className="app">
      <header className="app-header">
        <h1>SePPO Playground</h1>
        <span className="subtitle">semi-policy preference optimisation of a small diffusion model, in your browser</span>
        <BackendBadge report={report} />
      </header>
      {warning && (
        <div className="notice notice-warn" role="alert" data-testid="url-warning">
          {warning}
        </div>
      )}
      {worker.status === 'failed' && (
        <div className="notice notice-error" role="alert">
          The training worker failed to start: {worker.message}
        </div>
      )}
      {report && <BackendNotice report={report} />}
      <p className="worker-check">
        Worker check (matMul in the worker): <span data-testid="worker-check">{check}</span>
      </p>
    </div>
  );
}
