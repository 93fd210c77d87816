import type { BackendReport } from '../worker/protocol';

const LABEL = { webgpu: 'WebGPU', webgl: 'WebGL', wasm: 'WASM', cpu: 'CPU' } as const;

export function BackendBadge({ report }: { report: BackendReport | null }) {
  const text = report ? LABEL[report.backend] : '…';
  const kind = !report ? 'pending' : report.backend === 'webgpu' ? 'good' : 'fallback';
  return (
    <span className={`badge badge-${kind}`} data-testid="backend-badge" title={report?.wasmThreads ? threadsText(report.wasmThreads) : report?.adapterInfo ?? ''}>
      {text}
    </span>
  );
}

/** The plain explanation shown when the backend in use is not WebGPU. */
export function BackendNotice({ report }: { report: BackendReport }) {
  if (report.backend === 'webgpu') return null;
  const reasons = Object.entries(report.failures);
  return (
    <div className="notice" role="status" data-testid="backend-notice">
      <strong>Running on {LABEL[report.backend]}, not WebGPU.</strong>{' '}
      {report.rule ? (
        <span data-testid="backend-rule">{report.rule}</span>
      ) : report.requested === report.backend ? (
        `You asked for ${LABEL[report.backend]} in the URL; remove ?backend= to use WebGPU when available.`
      ) : (
        'Training will be slower; the default experiment is sized for it.'
      )}
      {report.wasmThreads && (
        <span data-testid="backend-threads"> {threadsText(report.wasmThreads)}.</span>
      )}
      {reasons.length > 0 && (
        <ul>
          {reasons.map(([name, why]) => (
            <li key={name}>
              {LABEL[name as keyof typeof LABEL]}: {why}
            </li>
          ))}
        </ul>
      )}
      {report.failures.webgpu && !report.rule && (
        <p>To get WebGPU: use a recent Chrome or Chromium on a machine with a GPU (on Linux start it with --enable-unsafe-webgpu).</p>
      )}
    </div>
  );
}

/** "WASM runs multi-threaded (…)" / "WASM runs single-threaded: …". */
export function threadsText(t: { threaded: boolean; count: number; why: string }): string {
  return t.threaded ? `WASM runs multi-threaded (${t.why})` : `WASM runs single-threaded: ${t.why}`;
}
