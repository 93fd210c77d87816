/**
 * The playground (issue 7): experiment controls, Play/Pause/Step/Reset, live charts, the results
 * table, diagnostics and sample grids, all fed by one typed hook (useExperiment). The URL holds
 * the whole experiment; a running experiment is saved in IndexedDB (by the worker) at every
 * checkpoint and resumes after a reload.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { PRESET_NAMES, presetConfig, safeParseExperimentConfig, type ExperimentConfig } from '../../core/config';
import type { WorkerClient } from '../../worker/client';
import type { BackendReport } from '../../worker/protocol';
import { AafPickScoreChart, ArmLegend, CheckpointMetricChart, UpdateMetricChart } from './Charts';
import { armColour } from './colours';
import { Controls, KNOBS } from './Controls';
import { Diagnostics } from './Diagnostics';
import { chartsToPng, downloadBlob, downloadText } from './download';
import { Explanations } from './Explanations';
import { resultsFromState, type ResultsMeta } from './results';
import { importFile } from './importFile';
import { pageLimitErrors } from '../../worker/browser-dataset';
import { ResultsTable } from './ResultsTable';
import { SampleGrid } from './SampleGrid';
import { useExperiment } from './useExperiment';
import { SavedRuns, useSavedRuns } from './SavedRuns';
import { RunStats } from './RunStats';
import { listRuns, runKey } from '../../worker/experiment-store';
import { configFromUrl, sameConfig, searchWithConfig } from './urlState';

const BACKEND_LABEL = { webgpu: 'WebGPU', webgl: 'WebGL', wasm: 'WASM', cpu: 'CPU' } as const;

const STATUS_TEXT: Record<string, string> = {
  idle: 'idle',
  loading: 'loading…',
  ready: 'ready',
  running: 'training…',
  paused: 'paused',
  done: 'finished',
  error: 'failed',
};

function isTyping(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  if (!el || !el.tagName) return false;
  const tag = el.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable;
}

export function PlaygroundView({ client, report }: { client: WorkerClient; report: BackendReport }) {
  const initial = useMemo(() => configFromUrl(window.location.search, report.backend), [report.backend]);
  const [config, setConfig] = useState<ExperimentConfig>(initial.config);
  const [preset, setPreset] = useState<string>(initial.preset ?? (initial.source === 'default' ? 'reference-strategies' : matchPreset(initial.config)));
  const [urlMessage, setUrlMessage] = useState<string | null>(initial.message);
  const [errors, setErrors] = useState<string[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const [exportArm, setExportArm] = useState(0);
  const exp = useExperiment(client);
  const saved = useSavedRuns();
  // Controls start collapsed on a narrow screen, so the charts are reachable without scrolling past every knob.
  const [sideOpen, setSideOpen] = useState(() => !window.matchMedia?.('(max-width: 700px)').matches);
  const { state } = exp;
  const chartsRef = useRef<HTMLDivElement>(null);
  const started = useRef(false);
  const importedBackend = useRef('unknown');
  const startedAt = useRef(new Date().toISOString());
  useEffect(() => {
    if (state?.source === 'live') startedAt.current = new Date().toISOString();
  }, [state?.run, state?.source]);

  const writeUrl = useCallback((c: ExperimentConfig) => {
    const url = new URL(window.location.href);
    url.search = searchWithConfig(url.search, c);
    window.history.replaceState(null, '', url);
  }, []);

  /** After a configure: say when a saved run was resumed, and keep playing if it was playing. */
  const afterConfigure = useCallback(
    async (snap: Awaited<ReturnType<typeof exp.configure>>, playing: boolean) => {
      if (snap && snap.resumedFrom !== null) {
        setNotice(`Resumed the run saved at update ${snap.resumedFrom} (a reload loses at most the updates since the last checkpoint).`);
        if (playing) await exp.play();
      }
    },
    [exp],
  );

  // Start-up: the URL's experiment, resuming its saved run if there is one; with no experiment in the URL, the most recently saved run.
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    void (async () => {
      const runs = await listRuns().catch(() => []);
      const latest = initial.source === 'default' && !initial.message ? runs[0] : undefined;
      const config = latest ? latest.config : initial.config;
      if (latest) {
        setConfig(latest.config);
        setPreset(matchPreset(latest.config));
        writeUrl(latest.config);
      } else if (initial.source !== 'default') writeUrl(initial.config);
      const saved = runs.find((r) => r.key === runKey(config));
      const snap = await exp.configure(config, true);
      await afterConfigure(snap, saved?.playing ?? false);
    })();
  }, [client, exp, initial, writeUrl, afterConfigure]);

  const apply = useCallback(
    (candidate: ExperimentConfig, presetName: string) => {
      const bad = KNOBS.filter((k) => Number.isNaN(candidate[k.key] as number)).map((k) => `${k.label}: not a number`);
      const badArms = candidate.arms.filter((a) => a.beta !== undefined && Number.isNaN(a.beta)).map((a) => `β of arm ${a.name}: not a number`);
      if (bad.length || badArms.length) {
        setErrors([...bad, ...badArms]);
        return;
      }
      const r = safeParseExperimentConfig(candidate);
      if (!r.ok) {
        setErrors(r.errors);
        return;
      }
      const limits = pageLimitErrors(r.config);
      if (limits.length) {
        setErrors(limits);
        return;
      }
      setErrors([]);
      if (sameConfig(r.config, config) && presetName === 'custom') return; // nothing changed: keep the run
      setNotice(null);
      setConfig(r.config);
      setPreset(presetName === 'custom' ? matchPreset(r.config) : presetName);
      writeUrl(r.config);
      // Every experiment keeps its own saved run: coming back to one resumes it.
      void (async () => {
        const saved = (await listRuns().catch(() => [])).find((x) => x.key === runKey(r.config));
        await afterConfigure(await exp.configure(r.config, true), saved?.playing ?? false);
      })();
    },
    [exp, writeUrl, config, afterConfigure],
  );

  const live = state?.source !== 'imported';
  /** The controls show the imported run's config while one is viewed (without touching the live one or the URL). */
  const shown = live || !state ? config : state.config;
  const status = state?.status ?? 'idle';
  const loading = exp.configuring !== null || status === 'loading';
  const canTrain = live && !!state && !loading && status !== 'done' && status !== 'error';
  const running = status === 'running';

  const onPlayPause = useCallback(() => {
    if (!canTrain && !running) return;
    void (running ? exp.pause() : exp.play());
  }, [canTrain, running, exp]);
  const onStep = useCallback(() => {
    if (canTrain && !running) void exp.step();
  }, [canTrain, running, exp]);
  const onReset = useCallback(() => {
    if (!live || loading || !state) return;
    setNotice(null);
    void exp.reset();
  }, [live, loading, state, exp]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return;
      if (e.key === ' ' || e.code === 'Space') {
        if ((e.target as HTMLElement | null)?.tagName === 'BUTTON') return; // the button's own click handles it
        e.preventDefault();
        onPlayPause();
      } else if (e.key === 's' || e.key === 'S') onStep();
      else if (e.key === 'r' || e.key === 'R') onReset();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onPlayPause, onStep, onReset]);

  const copyPermalink = async () => {
    // The experiment on screen: the imported run's while one is viewed.
    const url = new URL(window.location.href);
    url.search = searchWithConfig(url.search, shown);
    try {
      await navigator.clipboard.writeText(url.toString());
      setNotice('Permalink copied: opening it reproduces this experiment (same seed, same arms, same knobs).');
    } catch {
      setNotice(`Permalink: ${url.toString()}`);
    }
  };

  const meta = (): ResultsMeta => {
    const s = state!;
    const wallMs = Object.values(s.records).flat().reduce((a, r) => a + r.ms, 0) + Object.values(s.checkpoints).flat().reduce((a, c) => a + c.ms, 0);
    return {
      engine: 'browser',
      backend: live ? report.backend : importedBackend.current,
      preset: matchPreset(s.config) === 'custom' ? null : matchPreset(s.config),
      assets: 'shipped public/models/base + pickscore-mini + hps-mini',
      startedAt: startedAt.current,
      wallMs,
      notes: { source: live ? 'playground page (worker)' : 'imported into the playground', wallMs: 'sum of update and checkpoint times of every arm' },
    };
  };
  const exportCsv = async () => {
    if (!state) return;
    try {
      const r = await client.call({ type: 'exp.csv', results: resultsFromState(state, meta()) });
      downloadText(r.csv, 'metrics.csv', 'text/csv');
    } catch (e) {
      setFileError(`CSV export failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const exportJson = () => state && downloadText(JSON.stringify(resultsFromState(state, meta()), null, 1), 'results.json', 'application/json');
  const exportPng = async () => {
    if (!chartsRef.current || !state) return;
    try {
      const blob = await chartsToPng(chartsRef.current, state.config.arms.map((a, i) => ({ name: a.name, colour: armColour(a, i) })), `SePPO Playground — update ${state.update}`);
      downloadBlob(blob, 'charts.png');
    } catch (e) {
      setFileError(e instanceof Error ? e.message : String(e));
    }
  };
  const exportCheckpoint = async () => {
    if (!state) return;
    const arm = state.config.arms[Math.min(exportArm, state.config.arms.length - 1)];
    try {
      const r = await client.call({ type: 'exp.exportCheckpoint', arm: arm.name });
      downloadBlob(new Blob([r.bytes as BlobPart], { type: 'application/octet-stream' }), r.fileName);
    } catch (e) {
      setFileError(`Checkpoint export failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  const [importing, setImporting] = useState<string | null>(null);
  const onImport = async (file: File | undefined) => {
    if (!file) return;
    setImporting(file.name);
    const r = await importFile(file);
    setImporting(null);
    if (!r.ok) {
      setFileError(`Could not import ${file.name}: ${r.errors.join('; ')}. Nothing was changed.`);
      return;
    }
    setFileError(null);
    importedBackend.current = r.backend;
    if (running) await exp.pause();
    exp.showImported(r.snapshot);
    setNotice(`Viewing ${file.name}: a finished run (${r.snapshot.config.arms.length} arms, ${r.snapshot.update} updates, backend ${r.backend}). Controls are locked; “Back to live run” returns.`);
  };

  const progress = exp.configuring ?? state?.progress ?? null;
  const bytes = exp.loadProgress;

  return (
    <section aria-label="Playground" className="pg">
      {urlMessage && (
        <div className="notice notice-warn" role="alert" data-testid="pg-url-message">
          {urlMessage}{' '}
          <button type="button" className="pg-link" onClick={() => setUrlMessage(null)}>
            Dismiss
          </button>
        </div>
      )}
      {report.backend !== 'webgpu' && initial.source === 'default' && (
        <div className="notice" role="status" data-testid="pg-fallback">
          {report.rule ? 'No GPU here' : 'No WebGPU here'}: training runs on {BACKEND_LABEL[report.backend]} and the default experiment is smaller ({config.updates} updates, {config.dataSize} pairs, {config.evalPrompts} evaluation prompts).
        </div>
      )}
      {notice && (
        <div className="notice" role="status" data-testid="pg-notice">
          {notice}
        </div>
      )}
      {fileError && (
        <div className="notice notice-error" role="alert" data-testid="pg-file-error">
          {fileError}{' '}
          <button type="button" className="pg-link" onClick={() => setFileError(null)}>
            Dismiss
          </button>
        </div>
      )}
      {exp.warning && (
        <div className="notice notice-warn" role="alert" data-testid="pg-warning">
          {exp.warning}
        </div>
      )}
      {exp.error && (
        <div className="notice notice-error" role="alert" data-testid="pg-error">
          {exp.error}
        </div>
      )}
      {state && Object.keys(state.halted).length > 0 && (
        <div className="notice notice-warn" role="alert" data-testid="pg-halted">
          {Object.values(state.halted).map((m) => (
            <div key={m}>{m}</div>
          ))}
        </div>
      )}

      <div className="pg-toolbar" role="toolbar" aria-label="Experiment">
        <button type="button" className="pg-btn pg-primary" onClick={onPlayPause} disabled={!canTrain && !running} aria-keyshortcuts="Space" data-testid="pg-play">
          {running ? 'Pause' : 'Play'}
        </button>
        <button type="button" className="pg-btn" onClick={onStep} disabled={!canTrain || running} aria-keyshortcuts="S" title="One update for every arm (s)">
          Step
        </button>
        <button type="button" className="pg-btn" onClick={onReset} disabled={!live || loading || !state} aria-keyshortcuts="R" title="Same seed, same initial weights, same run again; deletes this experiment's saved run (r)">
          Reset
        </button>
        <span className="pg-counter" aria-live="polite">
          update <strong data-testid="pg-update">{state?.update ?? 0}</strong> / {shown.updates}
          <span className={`pg-status pg-status-${status}`} data-testid="pg-status">
            {loading ? 'loading…' : STATUS_TEXT[status]}
          </span>
          {state?.savedUpdate ? <span className="pg-muted" data-testid="pg-saved"> · saved @{state.savedUpdate}</span> : null}
        </span>
        <span className="pg-keys pg-muted">space play/pause · s step · r reset</span>
        <RunStats client={client} update={state?.source === 'live' ? state.update : 0} running={running} />
        <span className="pg-spacer" />
        <button type="button" className="pg-btn" onClick={copyPermalink}>
          Copy permalink
        </button>
        {!live && (
          <button type="button" className="pg-btn" onClick={() => { setNotice(null); void exp.backToLive(); }}>
            Back to live run
          </button>
        )}
      </div>
      {(progress || bytes) && (
        <div className="pg-progress" role="status" aria-label="Progress" data-testid="pg-progress">
          <span>{progressText(loading ? bytes : null, progress)}</span>
          <progress value={loading && bytes && bytes.total > 1 ? bytes.done / bytes.total : progress?.fraction || undefined} max={1} aria-label="Progress of the current step" />
        </div>
      )}

      <div className="pg-layout">
        <aside className="pg-side" aria-label="Experiment controls">
          <details className="pg-side-details" open={sideOpen} onToggle={(e) => setSideOpen((e.currentTarget as HTMLDetailsElement).open)}>
            <summary className="pg-side-summary" data-testid="pg-controls-toggle">
              Experiment controls{' '}
              <span className="pg-muted">
                ({shown.arms.length} arm{shown.arms.length === 1 ? '' : 's'}, {shown.updates} updates, seed {shown.seed})
              </span>
            </summary>
            <div className="pg-side-body">
              <Controls
                config={shown}
                preset={live ? preset : matchPreset(shown)}
                errors={errors}
                disabled={!live}
                onPreset={(name) => {
                  if ((PRESET_NAMES as readonly string[]).includes(name)) apply(presetConfig(name), name);
                }}
                onChange={(next) => apply(next, 'custom')}
              />
              <Explanations />
            </div>
          </details>
        </aside>
        <div className="pg-main">
          {state ? (
            <>
              <ArmLegend config={state.config} halted={state.halted} />
              <div className="pg-charts" ref={chartsRef}>
                <AafPickScoreChart state={state} />
                <CheckpointMetricChart state={state} />
                <UpdateMetricChart state={state} metric="loss" title="Loss" note="mean(−log σ(inside)); SFT: mean denoising error. Diffusion-DPO's loss stays near log 2 ≈ 0.69 for long: read the diagnostics." />
                <UpdateMetricChart state={state} metric="implicitAcc" title="Implicit accuracy" domain={[0, 1]} note="Share of pairs with inside > 0 in the batch; 0.5 is chance." />
              </div>
              <section className="pg-card" aria-labelledby="pg-results-h">
                <div className="pg-card-head">
                  <h2 id="pg-results-h">Results</h2>
                  <span className="pg-muted">latest checkpoint of each arm; win rate = share of prompts where the arm beats the base (same prompt, same noise)</span>
                </div>
                <ResultsTable state={state} />
              </section>
              <SampleGrid state={state} />
              <Diagnostics state={state} />
            </>
          ) : (
            <p className="pg-hint">{exp.error ? 'The experiment could not be loaded.' : 'Loading the experiment…'}</p>
          )}
          <SavedRuns
            runs={saved.runs}
            error={saved.error}
            current={live && state ? state.config : null}
            disabled={!live}
            onOpen={(c) => apply(c, matchPreset(c))}
            onDelete={(key) => void saved.remove(key)}
          />
          <section className="pg-card pg-files" aria-label="Export and import">
            <h2>Export and import</h2>
            <div className="pg-file-row">
              <button type="button" className="pg-btn" onClick={exportCsv} disabled={!state}>
                Export metrics CSV
              </button>
              <button type="button" className="pg-btn" onClick={exportJson} disabled={!state}>
                Export results JSON
              </button>
              <button type="button" className="pg-btn" onClick={exportPng} disabled={!state}>
                Export charts PNG
              </button>
              <span className="pg-inline">
                <select aria-label="Arm to export" value={exportArm} onChange={(e) => setExportArm(Number(e.target.value))}>
                  {shown.arms.map((a, i) => (
                    <option key={i} value={i}>
                      {a.name}
                    </option>
                  ))}
                </select>
                <button type="button" className="pg-btn" onClick={exportCheckpoint} disabled={!state || !live || loading}>
                  Export checkpoint .safetensors
                </button>
              </span>
              <label className="pg-btn pg-file">
                {importing ? `Reading ${importing}…` : 'Import results JSON'}
                <input type="file" accept=".json,application/json" aria-label="Import results JSON" onChange={(e) => { void onImport(e.target.files?.[0]); e.target.value = ''; }} />
              </label>
            </div>
          </section>
        </div>
      </div>
    </section>
  );
}

/** The line beside the progress bar: a download in MB, or the worker's current stage. */
function progressText(bytes: { stage: string; done: number; total: number; message?: string } | null, progress: { stage: string } | null): string {
  if (bytes && bytes.total > 1024) return `${bytes.message ?? bytes.stage}: ${(bytes.done / 1e6).toFixed(1)} of ${(bytes.total / 1e6).toFixed(1)} MB`;
  if (bytes?.message) return bytes.message;
  return progress?.stage ?? '';
}

/** The preset a config equals, or 'custom'. */
function matchPreset(c: ExperimentConfig): string {
  for (const p of PRESET_NAMES) if (sameConfig(presetConfig(p), c)) return p;
  return 'custom';
}
