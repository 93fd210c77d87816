import { useEffect, useMemo, useState } from 'react';
import { parseBackendParam, parseThreadsParam } from './backendParam';
import { BackendBadge, BackendNotice } from './BackendBadge';
import { useWorker } from './useWorker';
import { PlaygroundView } from './playground/PlaygroundView';
import { DataView } from './data/DataView';
import { configFromUrl } from './playground/urlState';
import { ModelView } from './model/ModelView';
import { VideoView } from './video/VideoView';

const VIEWS = ['playground', 'data', 'model', 'video'] as const;
type View = (typeof VIEWS)[number];
const VIEW_LABEL: Record<View, string> = { playground: 'Playground', data: 'Data', model: 'Model', video: 'Video' };

function initialView(): View {
  const v = new URLSearchParams(window.location.search).get('view');
  return (VIEWS as readonly string[]).includes(v ?? '') ? (v as View) : 'playground';
}

/** A 2×2 product the worker computes at start: proof that tfjs runs there on the chosen backend. */
const CHECK_A = [[1, 2], [3, 4]];
const CHECK_B = [[5, 6], [7, 8]];

export function App() {
  const { request, warning } = useMemo(() => parseBackendParam(window.location.search), []);
  // The playground shows its own URL message; the other views say when the URL's experiment is unusable too.
  const expMessage = useMemo(() => configFromUrl(window.location.search, 'wasm').message, []);
  const threads = useMemo(() => parseThreadsParam(window.location.search), []);
  const worker = useWorker(request, threads);
  const [check, setCheck] = useState<string>('running…');
  const [view, setView] = useState<View>(initialView);

  const chooseView = (v: View) => {
    setView(v);
    const url = new URL(window.location.href);
    if (v === 'playground') url.searchParams.delete('view');
    else url.searchParams.set('view', v);
    window.history.replaceState(null, '', url);
  };

  // Test hooks (e2e): lose the worker's WebGPU device as a GPU reset would; fill the worker's disk.
  useEffect(() => {
    if (worker.status !== 'ready') return;
    (window as unknown as { __seppoDebug?: unknown }).__seppoDebug = {
      loseDevice: () => worker.client.call({ type: 'debug.loseDevice' }),
      fullDisk: () => worker.client.call({ type: 'debug.fullDisk' }),
      memory: () => worker.client.call({ type: 'memory' }),
    };
  }, [worker]);

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
        <nav className="tabs" role="tablist" aria-label="Views">
          {VIEWS.map((v) => (
            <button key={v} role="tab" aria-selected={view === v} className={view === v ? 'tab active' : 'tab'} onClick={() => chooseView(v)}>
              {VIEW_LABEL[v]}
            </button>
          ))}
        </nav>
        <BackendBadge report={report} />
      </header>
      {warning && (
        <div className="notice notice-warn" role="alert" data-testid="url-warning">
          {warning}
        </div>
      )}
      {expMessage && view !== 'playground' && (
        <div className="notice notice-warn" role="alert" data-testid="url-exp-warning">
          {expMessage} (This view does not use it; the Playground will show the defaults.)
        </div>
      )}
      {worker.lost && (
        <div className="notice notice-warn" role="status" data-testid="device-lost-notice">
          The WebGPU device was lost ({worker.lost.reason}{worker.lost.message ? `: ${worker.lost.message}` : ''}). The page started a fresh worker on a new device
          {worker.status === 'ready' ? ' and resumed the experiment from its last save' : ''}; the updates since that checkpoint are redone.
        </div>
      )}
      {worker.status === 'failed' && (
        <div className="notice notice-error" role="alert">
          The training worker failed to start: {worker.message}
        </div>
      )}
      {report && <BackendNotice report={report} />}
      {worker.status === 'ready' && view === 'playground' && <PlaygroundView key={worker.lost?.count ?? 0} client={worker.client} report={worker.report} />}
      {worker.status === 'ready' && view === 'data' && <DataView client={worker.client} />}
      {worker.status === 'ready' && view === 'model' && <ModelView client={worker.client} />}
      {worker.status === 'ready' && view === 'video' && <VideoView client={worker.client} />}
      <p className="worker-check">
        Worker check (matMul in the worker): <span data-testid="worker-check">{check}</span>
      </p>
    </div>
  );
}
