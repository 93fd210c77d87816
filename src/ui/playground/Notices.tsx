/** The playground's banners: URL problems, the no-GPU fallback, notices, file errors, worker warnings and errors, halted arms. */
import type { ExperimentConfig } from '../../core/config';
import type { BackendReport } from '../../worker/protocol';

const BACKEND_LABEL = { webgpu: 'WebGPU', webgl: 'WebGL', wasm: 'WASM', cpu: 'CPU' } as const;

export interface NoticesProps {
  urlMessage: string | null;
  onDismissUrl: () => void;
  /** Shown when the page trains without WebGPU on its default experiment. */
  fallback: { report: BackendReport; config: ExperimentConfig } | null;
  notice: string | null;
  fileError: string | null;
  onDismissFile: () => void;
  warning: string | null;
  error: string | null;
  halted: Record<string, string>;
  /** About the base's evaluation: cached from a date, or cut short (runState.ts's baseEvalNote). */
  baseNote: { kind: 'info' | 'warn'; text: string } | null;
}

export function Notices(p: NoticesProps) {
  return (
    <>
      {p.urlMessage && (
        <div className="notice notice-warn" role="alert" data-testid="pg-url-message">
          {p.urlMessage}{' '}
          <button type="button" className="pg-link" onClick={p.onDismissUrl}>
            Dismiss
          </button>
        </div>
      )}
      {p.fallback && (
        <div className="notice" role="status" data-testid="pg-fallback">
          {p.fallback.report.rule ? 'No GPU here' : 'No WebGPU here'}: training runs on {BACKEND_LABEL[p.fallback.report.backend]} and the default experiment is the teaching preset sized for it ({p.fallback.config.updates} updates, {p.fallback.config.dataSize} pairs, {p.fallback.config.evalPrompts} evaluation prompts).
        </div>
      )}
      {p.notice && (
        <div className="notice" role="status" data-testid="pg-notice">
          {p.notice}
        </div>
      )}
      {p.baseNote && (
        <div className={p.baseNote.kind === 'warn' ? 'notice notice-warn' : 'notice'} role="status" data-testid="pg-base-eval">
          {p.baseNote.text}
        </div>
      )}
      {p.fileError && (
        <div className="notice notice-error" role="alert" data-testid="pg-file-error">
          {p.fileError}{' '}
          <button type="button" className="pg-link" onClick={p.onDismissFile}>
            Dismiss
          </button>
        </div>
      )}
      {p.warning && (
        <div className="notice notice-warn" role="alert" data-testid="pg-warning">
          {p.warning}
        </div>
      )}
      {p.error && (
        <div className="notice notice-error" role="alert" data-testid="pg-error">
          {p.error}
        </div>
      )}
      {Object.keys(p.halted).length > 0 && (
        <div className="notice notice-warn" role="alert" data-testid="pg-halted">
          {Object.values(p.halted).map((m) => (
            <div key={m}>{m}</div>
          ))}
        </div>
      )}
    </>
  );
}
