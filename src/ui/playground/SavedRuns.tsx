/**
 * The "Saved runs" list (issue 18): every experiment's saved run, newest first, with its date,
 * updates, size and a Delete button; Open resumes it. Reads IndexedDB directly (the worker
 * writes it) and refreshes whenever any tab saves or deletes (BroadcastChannel).
 */
import { useCallback, useEffect, useState } from 'react';
import { PRESET_NAMES, presetConfig, type ExperimentConfig } from '../../core/config';
import { deleteRunByKey, formatBytes, listRuns, onRunsChanged, runKey, type SavedRunSummary } from '../../worker/experiment-store';
import { sameConfig } from './urlState';

export function useSavedRuns(): { runs: SavedRunSummary[] | null; error: string | null; refresh: () => void; remove: (key: string) => Promise<void> } {
  const [runs, setRuns] = useState<SavedRunSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const refresh = useCallback(() => {
    listRuns()
      .then((r) => {
        setRuns(r);
        setError(null);
      })
      .catch((e) => setError(`The saved runs could not be read: ${e instanceof Error ? e.message : String(e)}`));
  }, []);
  useEffect(() => {
    refresh();
    return onRunsChanged(refresh);
  }, [refresh]);
  const remove = useCallback(
    async (key: string) => {
      try {
        await deleteRunByKey(key);
      } catch (e) {
        setError(`Could not delete the saved run: ${e instanceof Error ? e.message : String(e)}`);
      }
      refresh();
    },
    [refresh],
  );
  return { runs, error, refresh, remove };
}

/** "smoke", "reference-strategies", or "custom (3 arms, seed 7)". */
export function experimentName(c: ExperimentConfig): string {
  for (const p of PRESET_NAMES) if (sameConfig(presetConfig(p), c)) return p;
  return `custom (${c.arms.length} arm${c.arms.length === 1 ? '' : 's'}: ${c.arms.map((a) => a.name).join(', ')}; seed ${c.seed})`;
}

export function SavedRuns({
  runs,
  error,
  current,
  onOpen,
  onDelete,
  disabled,
}: {
  runs: SavedRunSummary[] | null;
  error: string | null;
  /** The experiment this tab shows (its row is marked). */
  current: ExperimentConfig | null;
  onOpen: (c: ExperimentConfig) => void;
  onDelete: (key: string) => void;
  disabled: boolean;
}) {
  const currentKey = current ? runKey(current) : null;
  const total = (runs ?? []).reduce((a, r) => a + r.bytes, 0);
  return (
    <section className="pg-card" aria-labelledby="pg-saved-h" data-testid="pg-saved-runs">
      <div className="pg-card-head">
        <h2 id="pg-saved-h">Saved runs</h2>
        <span className="pg-muted">
          each experiment's run is saved in this browser at every checkpoint and kept until you delete it{runs && runs.length > 0 ? ` · ${runs.length} saved, ${formatBytes(total)}` : ''}
        </span>
      </div>
      {error && (
        <div className="notice notice-error" role="alert">
          {error}
        </div>
      )}
      {runs === null ? (
        <p className="pg-hint">Reading the saved runs…</p>
      ) : runs.length === 0 ? (
        <p className="pg-hint" data-testid="pg-saved-empty">
          No saved runs yet: a run is saved at its first checkpoint.
        </p>
      ) : (
        <div className="pg-table-wrap">
          <table className="pg-results pg-saved" aria-label="Saved runs">
            <thead>
              <tr>
                <th scope="col">Experiment</th>
                <th scope="col">Saved</th>
                <th scope="col">Updates</th>
                <th scope="col">Size</th>
                <th scope="col">
                  <span className="pg-sr">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => {
                const isCurrent = r.key === currentKey;
                return (
                  <tr key={r.key} data-testid="pg-saved-row" data-key={r.key} data-update={r.update}>
                    <th scope="row" className="pg-saved-name" title={experimentName(r.config)}>
                      {experimentName(r.config)}
                      {isCurrent && <span className="pg-muted"> · this tab</span>}
                    </th>
                    <td>{new Date(r.savedAt).toLocaleString()}</td>
                    <td>
                      {r.update} / {r.config.updates}
                    </td>
                    <td>{formatBytes(r.bytes)}</td>
                    <td className="pg-saved-actions">
                      <button type="button" className="pg-link" disabled={disabled || isCurrent} onClick={() => onOpen(r.config)}>
                        Open
                      </button>{' '}
                      <button
                        type="button"
                        className="pg-link"
                        aria-label={`Delete the saved run of ${experimentName(r.config)}`}
                        title={isCurrent ? 'Deletes the saved copy; this tab saves again at its next checkpoint' : 'Delete this saved run'}
                        onClick={() => {
                          if (window.confirm(`Delete the saved run of ${experimentName(r.config)} (update ${r.update}, ${formatBytes(r.bytes)})?`)) onDelete(r.key);
                        }}
                      >
                        Delete
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
