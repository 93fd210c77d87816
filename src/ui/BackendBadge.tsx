import { useEffect, useState } from 'react';
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

/** Whether presenter mode is on (LessonPanel sets `presenting` on the body). */
function usePresenting(): boolean {
  const [on, setOn] = useState(() => document.body.classList.contains('presenting'));
  useEffect(() => {
    const obs = new MutationObserver(() => setOn(document.body.classList.contains('presenting')));
    obs.observe(document.body, { attributes: true, attributeFilter: ['class'] });
    return () => obs.disconnect();
  }, []);
  return on;
}

/**
 * The plain explanation shown when the backend in use is not WebGPU: one line (which backend and why),
 * then the details (each backend's failure, how to get WebGPU) in an expandable part, open by default
 * and collapsed to the one line in presenter mode, where the projector's screen is short.
 */
export function BackendNotice({ report }: { report: BackendReport }) {
  const presenting = usePresenting();
  if (report.backend === 'webgpu') return null;
  const reasons = Object.entries(report.failures);
  return (
    <div className="notice backend-notice" role="status" data-testid="backend-notice">
      <details key={presenting ? 'presenting' : 'page'} open={!presenting} data-testid="backend-notice-details">
        <summary data-testid="backend-notice-summary">
          <strong>Running on {LABEL[report.backend]}, not WebGPU.</strong>{' '}
          {report.rule ? (
            <span data-testid="backend-rule">{report.rule}</span>
          ) : report.requested === report.backend ? (
            `You asked for ${LABEL[report.backend]} in the URL; remove ?backend= to use WebGPU when available.`
          ) : (
            'Training will be slower; the default experiment is sized for it.'
          )}
        </summary>
        {report.wasmThreads && <span data-testid="backend-threads">{threadsText(report.wasmThreads)}.</span>}
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
      </details>
    </div>
  );
}

/** "WASM runs multi-threaded (…)" / "WASM runs single-threaded: …". */
export function threadsText(t: { threaded: boolean; count: number; why: string }): string {
  return t.threaded ? `WASM runs multi-threaded (${t.why})` : `WASM runs single-threaded: ${t.why}`;
}
