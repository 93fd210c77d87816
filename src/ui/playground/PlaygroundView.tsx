/**
 * The playground (issue 7): the experiment from the URL (resuming its saved run), validated edits
 * from the controls, and the layout — controls, live charts, the results table, diagnostics and
 * sample grids, all fed by one typed hook (useExperiment). Its parts live beside it: Notices
 * (banners), Toolbar (play/step/reset, counter, permalink), ResultFiles (export/import),
 * useKeyboardShortcuts, SavedRuns. A running experiment is saved in IndexedDB (by the worker) at
 * every checkpoint and resumes after a reload.
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { PRESET_NAMES, presetConfig, safeParseExperimentConfig, type ExperimentConfig } from '../../core/config';
import type { WorkerClient } from '../../worker/client';
import type { BackendReport } from '../../worker/protocol';
import { AafPickScoreChart, ArmLegend, CheckpointMetricChart, UpdateMetricChart } from './Charts';
import { Controls, KNOBS } from './Controls';
import { Diagnostics } from './Diagnostics';
import { Explanations } from './Explanations';
import { pageLimitErrors } from '../../worker/browser-dataset';
import { ResultsTable } from './ResultsTable';
import { SampleGrid } from './SampleGrid';
import { ComparePanel, type CompareChoice, type CompareRequest } from './ComparePanel';
import { CMP_A, CMP_B, CMP_MODE, CMP_RATE, compareFromUrl, searchWithCompare, type CompareUrl } from './compare';
import { useExperiment } from './useExperiment';
import { SavedRuns, useSavedRuns } from './SavedRuns';
import { listRuns, runKey } from '../../worker/experiment-store';
import { DEFAULT_PRESET, configFromUrl, matchPreset, sameConfig, searchWithConfig } from './urlState';
import { Notices } from './Notices';
import { Toolbar } from './Toolbar';
import { ResultFilesCard, useResultFiles } from './ResultFiles';
import { useKeyboardShortcuts } from './useKeyboardShortcuts';
import { baseEvalNote } from './runState';
import { FinalEvalTable } from './FinalEvalTable';
import type { FinalSummaries } from './results';
import { RecordedBanner, RecordedGallery } from '../recorded/RecordedGallery';
import { fetchManifest, fetchRecorded } from '../recorded/loadRecorded';
import { recordedFromUrl, searchWithRecorded } from '../recorded/recordedUrl';
import { smallLiveVersion, type BesideSize, type RecordedEntry } from '../../core/recorded';
import { BesidePanel, BesideStart, type BesideRun } from '../recorded/Beside';
import { LessonList, LessonPanel } from '../lessons/LessonPanel';
import { experimentSearch, lessonFromUrl, searchWithLesson } from '../lessons/lessonUrl';
import { compareForStep } from '../lessons/conditions';

export function PlaygroundView({ client, report }: { client: WorkerClient; report: BackendReport }) {
  // A lesson in the URL (issue 16) brings its preset unless the URL names an experiment.
  const lessonInit = useMemo(() => lessonFromUrl(window.location.search), []);
  const [lessonStep, setLessonStep] = useState(lessonInit.step);
  const [presenting, setPresenting] = useState(lessonInit.present);
  const initial = useMemo(() => configFromUrl(experimentSearch(window.location.search, lessonInit.lesson), report.backend), [report.backend, lessonInit]);
  // `?recorded=<id>` (and `&beside=smoke|first-look`): a recorded run to open at start, and a live run to start beside it.
  const recordedInit = useMemo(() => recordedFromUrl(window.location.search), []);
  const [config, setConfig] = useState<ExperimentConfig>(initial.config);
  const [preset, setPreset] = useState<string>(initial.preset ?? (initial.source === 'default' ? DEFAULT_PRESET : matchPreset(initial.config)));
  const [urlMessage, setUrlMessage] = useState<string | null>(() => [initial.message, ...recordedInit.messages].filter(Boolean).join(' ') || null);
  const [errors, setErrors] = useState<string[]>([]);
  const [notice, setNotice] = useState<string | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const exp = useExperiment(client);
  const saved = useSavedRuns();
  // Recorded runs (issue 16): the gallery's manifest, the entry on screen, and an imported file's final evaluations.
  const [gallery, setGallery] = useState<{ runs: RecordedEntry[] | null; errors: string[] }>({ runs: null, errors: [] });
  const [recorded, setRecorded] = useState<RecordedEntry | null>(null);
  const [opening, setOpening] = useState<string | null>(null);
  const [finals, setFinals] = useState<FinalSummaries | null>(null);
  // A small live run beside a recorded one (issue 16): the recorded run kept as it was read.
  const [beside, setBeside] = useState<BesideRun | null>(null);
  // Controls start collapsed on a narrow screen, so the charts are reachable without scrolling past every knob.
  const [sideOpen, setSideOpen] = useState(() => !window.matchMedia?.('(max-width: 700px)').matches);
  const { state } = exp;
  const chartsRef = useRef<HTMLDivElement>(null);
  const started = useRef(false);
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

  /** The recorded run on screen (or beside the live one, with its size) in the URL; null removes both. */
  const setRecordedParam = useCallback((id: string | null, besideSize: BesideSize | null = null) => {
    const url = new URL(window.location.href);
    url.search = searchWithRecorded(url.search, id, besideSize);
    window.history.replaceState(null, '', url);
  }, []);

  /** Shows a recorded run: fetched and checked off the main thread, then viewed like an imported file (the live run is paused, never touched). */
  const openRecorded = useCallback(
    async (entry: RecordedEntry) => {
      setOpening(entry.id);
      const r = await fetchRecorded(entry);
      setOpening(null);
      if (!r.ok) {
        setFileError(`Could not open the recorded run '${entry.id}': ${r.errors.join('; ')}. Nothing was changed.`);
        return false;
      }
      setFileError(null);
      if (exp.state?.status === 'running') await exp.pause();
      exp.showImported(r.snapshot);
      setFinals(r.finals);
      setRecorded(entry);
      setRecordedParam(entry.id);
      setNotice(null);
      return true;
    },
    [exp, setRecordedParam],
  );

  useEffect(() => {
    let alive = true;
    void fetchManifest().then((m) => alive && setGallery(m));
    return () => {
      alive = false;
    };
  }, []);

  // `?recorded=<id>`: open that recorded run once the live experiment has loaded (and the manifest is read).
  const recordedAsked = useRef(recordedInit.recorded);
  // `&beside=<size>`: once that recorded run is on screen, the small live run is started beside it.
  const besideAsked = useRef(recordedInit.beside);
  useEffect(() => {
    const id = recordedAsked.current;
    if (!id || !gallery.runs || !state || state.source !== 'live' || exp.configuring) return;
    recordedAsked.current = null;
    const entry = gallery.runs.find((r) => r.id === id);
    if (entry) {
      void openRecorded(entry).then((ok) => {
        if (!ok) besideAsked.current = null;
      });
    } else {
      const b = besideAsked.current;
      besideAsked.current = null;
      setRecordedParam(null);
      const msg = `Unknown recorded run '${id}' in the URL; the gallery lists ${gallery.runs.map((r) => r.id).join(', ') || 'none'}. The live experiment is shown instead${b ? `, with no live run started beside it (beside=${b})` : ''}.`;
      setUrlMessage((m) => (m ? `${m} ${msg}` : msg));
    }
  }, [gallery.runs, state, exp.configuring, openRecorded, setRecordedParam]);

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
      setRecordedParam(null); // a changed experiment is no longer the live run beside a recorded one
      setConfig(r.config);
      setPreset(presetName === 'custom' ? matchPreset(r.config) : presetName);
      writeUrl(r.config);
      // Every experiment keeps its own saved run: coming back to one resumes it.
      void (async () => {
        const saved = (await listRuns().catch(() => [])).find((x) => x.key === runKey(r.config));
        await afterConfigure(await exp.configure(r.config, true), saved?.playing ?? false);
      })();
    },
    [exp, writeUrl, config, afterConfigure, setRecordedParam],
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

  useKeyboardShortcuts(onPlayPause, onStep, onReset);

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

  const files = useResultFiles({
    client, report, exp, state, live, running, chartsRef, startedAt, setNotice, setFileError,
    onImported: (f) => {
      setFinals(f);
      setRecorded(null);
      setRecordedParam(null);
    },
  });

  /** From the recorded run on screen: a small live version of its arms and seed, trained (and played) beside it. */
  const startBeside = useCallback(
    async (size: BesideSize) => {
      if (!recorded || !state || state.source !== 'imported') return;
      const r = smallLiveVersion(state.config, presetConfig(size));
      const errs = r.ok ? pageLimitErrors(r.config) : r.errors;
      if (!r.ok || errs.length) {
        setFileError(`Could not start a small live version of the recorded run '${recorded.id}': ${errs.join('; ')}. Nothing was changed.`);
        return;
      }
      setFileError(null);
      setBeside({ entry: recorded, state, size });
      setRecorded(null);
      setFinals(null);
      setNotice(null);
      setErrors([]);
      setConfig(r.config);
      setPreset(matchPreset(r.config));
      writeUrl(r.config);
      // The URL says what is on screen, so a copied link opens the same pair: ?recorded=<id>&beside=<size>.
      setRecordedParam(recorded.id, size);
      const snap = await exp.configure(r.config, true);
      if (snap && snap.status !== 'done') await exp.play();
    },
    [recorded, state, exp, writeUrl, setRecordedParam],
  );

  // A comparison in the URL at load wins over the opening lesson step's own, until the viewer changes step.
  const urlCompareHolds = useRef([CMP_A, CMP_B, CMP_MODE, CMP_RATE].some((k) => new URLSearchParams(window.location.search).has(k)));
  const lessonStepRef = useRef(lessonStep);
  // `?recorded=<id>&beside=<size>`: the recorded run from the URL is on screen; start the live run beside it.
  useEffect(() => {
    const size = besideAsked.current;
    if (!size || !recorded || recorded.id !== recordedInit.recorded || !state || state.source !== 'imported' || loading) return;
    besideAsked.current = null;
    void startBeside(size);
  }, [recorded, recordedInit, state, loading, startBeside]);

  const writeLesson = useCallback(
    (step: number, present: boolean) => {
      if (!lessonInit.lesson) return;
      const n = lessonInit.lesson.steps.length;
      const s = Math.max(0, Math.min(n - 1, step));
      if (s !== lessonStepRef.current) urlCompareHolds.current = false;
      lessonStepRef.current = s;
      setLessonStep(s);
      setPresenting(present);
      const url = new URL(window.location.href);
      url.search = searchWithLesson(url.search, lessonInit.lesson.id, s, present);
      window.history.replaceState(null, '', url);
    },
    [lessonInit],
  );

  // Compare samples (issue 16): the URL's comparison, read against the first run on screen; choices are written back.
  const compareInit = useRef<CompareUrl | null>(null);
  if (state && !compareInit.current) compareInit.current = compareFromUrl(window.location.search, state.config);
  const onCompareChoice = useCallback((c: CompareChoice | null) => {
    const url = new URL(window.location.href);
    const next = searchWithCompare(url.search, c);
    if (next === url.search || (next === '' && url.search === '')) return;
    url.search = next;
    window.history.replaceState(null, '', url);
  }, []);

  // A lesson step with a comparison (lessons.ts `compare`) opens the card on its two arms; re-applied when
  // the step opens, when the run on screen changes, and once when the two arms' first common checkpoint is in.
  const stepCmpSpec = lessonInit.lesson?.steps[lessonStep]?.compare;
  const stepCmp = stepCmpSpec && state && !urlCompareHolds.current ? compareForStep(stepCmpSpec, state) : null;
  const compareRequest: CompareRequest | null =
    stepCmp && state ? { key: `${lessonInit.lesson!.id}#${lessonStep}#${state.source}:${state.run}#${stepCmp.ready ? 'ready' : 'waiting'}`, a: stepCmp.a, b: stepCmp.b, mode: stepCmp.mode } : null;

  const progress = exp.configuring ?? state?.progress ?? null;
  const bytes = exp.loadProgress;

  return (
    <section aria-label="Playground" className="pg">
      <Notices
        urlMessage={urlMessage}
        onDismissUrl={() => setUrlMessage(null)}
        fallback={report.backend !== 'webgpu' && initial.source === 'default' ? { report, config } : null}
        notice={notice}
        fileError={fileError}
        onDismissFile={() => setFileError(null)}
        warning={exp.warning}
        error={exp.error}
        halted={state?.halted ?? {}}
        baseNote={live && state ? baseEvalNote(state.baseEval) : null}
      />

      <LessonPanel
        lesson={lessonInit.lesson}
        step={lessonStep}
        present={presenting}
        timeoutS={lessonInit.timeoutS}
        state={state}
        messages={lessonInit.messages}
        onStep={(s) => writeLesson(s, presenting)}
        onPresent={(pr) => writeLesson(lessonStep, pr)}
        onOpenRecorded={
          gallery.runs
            ? (id) => {
                const e = gallery.runs!.find((r) => r.id === id);
                if (e) void openRecorded(e);
              }
            : null
        }
      />
      {recorded && !live && <RecordedBanner entry={recorded} />}
      {recorded && !live && <BesideStart entry={recorded} disabled={loading} onStart={(size) => void startBeside(size)} />}
      <Toolbar
        client={client}
        state={state}
        shown={shown}
        status={status}
        loading={loading}
        canTrain={canTrain}
        running={running}
        live={live}
        onPlayPause={onPlayPause}
        onStep={onStep}
        onReset={onReset}
        onCopyPermalink={copyPermalink}
        onBackToLive={() => {
          setNotice(null);
          setRecorded(null);
          setFinals(null);
          setRecordedParam(null);
          void exp.backToLive();
        }}
      />
      {(progress || bytes) && (
        <div className="pg-progress" role="status" aria-label="Progress" data-testid="pg-progress">
          <span>{progressText(loading ? bytes : null, progress)}</span>
          <progress value={loading && bytes && bytes.total > 1 ? bytes.done / bytes.total : progress?.fraction || undefined} max={1} aria-label="Progress of the current step" />
          {loading && progress && /^evaluating the base model/.test(progress.stage) && (
            <button type="button" className="pg-btn" onClick={() => void exp.cutBaseEval()} data-testid="pg-cut-base" title="Stop evaluating the base model and go on without its figures (no win rates against the base)">
              Cut short
            </button>
          )}
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
              {beside && live && (
                <BesidePanel
                  beside={beside}
                  live={state}
                  onClose={() => {
                    setBeside(null);
                    setRecordedParam(null);
                  }}
                />
              )}
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
              {!live && finals && <FinalEvalTable finals={finals} state={state} />}
              <SampleGrid state={state} />
              {compareInit.current && <ComparePanel state={state} initial={compareInit.current} onChoice={onCompareChoice} request={compareRequest} />}
              <Diagnostics state={state} />
            </>
          ) : (
            <p className="pg-hint">{exp.error ? 'The experiment could not be loaded.' : 'Loading the experiment…'}</p>
          )}
          {!lessonInit.lesson && <LessonList />}
          <RecordedGallery runs={gallery.runs} errors={gallery.errors} opening={opening} openId={!live && recorded ? recorded.id : null} onOpen={(e) => void openRecorded(e)} />
          <SavedRuns
            runs={saved.runs}
            error={saved.error}
            current={live && state ? state.config : null}
            disabled={!live}
            onOpen={(c) => apply(c, matchPreset(c))}
            onDelete={(key) => void saved.remove(key)}
          />
          <ResultFilesCard files={files} shown={shown} hasState={!!state} canExportCheckpoint={!!state && live && !loading} />
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
