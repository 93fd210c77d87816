/** The playground's toolbar: Play/Pause, Step, Reset, the update counter and status, the worker's readout, permalink, back to the live run. */
import type { ExperimentConfig } from '../../core/config';
import type { WorkerClient } from '../../worker/client';
import { RunStats } from './RunStats';
import type { RunState } from './runState';

const STATUS_TEXT: Record<string, string> = {
  idle: 'idle',
  loading: 'loading…',
  ready: 'ready',
  running: 'training…',
  paused: 'paused',
  done: 'finished',
  error: 'failed',
};

export interface ToolbarProps {
  client: WorkerClient;
  state: RunState | null;
  /** The experiment on screen (the imported one while it is viewed). */
  shown: ExperimentConfig;
  status: string;
  loading: boolean;
  canTrain: boolean;
  running: boolean;
  live: boolean;
  onPlayPause: () => void;
  onStep: () => void;
  onReset: () => void;
  onCopyPermalink: () => void;
  onBackToLive: () => void;
}

export function Toolbar(p: ToolbarProps) {
  const { state, status, loading, canTrain, running, live } = p;
  return (
    <div className="pg-toolbar" role="toolbar" aria-label="Experiment">
      <button type="button" className="pg-btn pg-primary" onClick={p.onPlayPause} disabled={!canTrain && !running} aria-keyshortcuts="Space" data-testid="pg-play">
        {running ? 'Pause' : 'Play'}
      </button>
      <button type="button" className="pg-btn" onClick={p.onStep} disabled={!canTrain || running} aria-keyshortcuts="S" title="One update for every arm (s)">
        Step
      </button>
      <button type="button" className="pg-btn" onClick={p.onReset} disabled={!live || loading || !state} aria-keyshortcuts="R" title="Same seed, same initial weights, same run again; deletes this experiment's saved run (r)">
        Reset
      </button>
      <span className="pg-counter" aria-live="polite">
        update <strong data-testid="pg-update">{state?.update ?? 0}</strong> / {p.shown.updates}
        <span className={`pg-status pg-status-${status}`} data-testid="pg-status">
          {loading ? 'loading…' : STATUS_TEXT[status]}
        </span>
        {state?.savedUpdate ? <span className="pg-muted" data-testid="pg-saved"> · saved @{state.savedUpdate}</span> : null}
      </span>
      <span className="pg-keys pg-muted">space play/pause · s step · r reset</span>
      <RunStats client={p.client} update={state?.source === 'live' ? state.update : 0} running={running} />
      <span className="pg-spacer" />
      <button type="button" className="pg-btn" onClick={p.onCopyPermalink}>
        Copy permalink
      </button>
      {!live && (
        <button type="button" className="pg-btn" onClick={p.onBackToLive}>
          Back to live run
        </button>
      )}
    </div>
  );
}
