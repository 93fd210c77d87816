/**
 * The playground's files: export (metrics CSV, results JSON, charts PNG, an arm's checkpoint as
 * .safetensors) and import (a results JSON, read and checked off the main thread by importFile),
 * as a hook that holds the handlers and a card that shows them.
 */
import { useRef, useState, type RefObject } from 'react';
import type { ExperimentConfig } from '../../core/config';
import type { WorkerClient } from '../../worker/client';
import type { BackendReport } from '../../worker/protocol';
import { armColour } from './colours';
import { chartsToPng, downloadBlob, downloadText } from './download';
import { importFile } from './importFile';
import { resultsFromState, type ResultsMeta } from './results';
import type { RunState } from './runState';
import type { ExperimentApi } from './useExperiment';
import { matchPreset } from './urlState';

export interface ResultFilesDeps {
  client: WorkerClient;
  report: BackendReport;
  exp: ExperimentApi;
  state: RunState | null;
  live: boolean;
  running: boolean;
  chartsRef: RefObject<HTMLDivElement | null>;
  /** When the live run started (the results' startedAt). */
  startedAt: { readonly current: string };
  setNotice: (s: string | null) => void;
  setFileError: (s: string | null) => void;
  /** Called with an imported file's final evaluations (empty when it has none). */
  onImported?: (finals: import('./results').FinalSummaries) => void;
}

export function useResultFiles(d: ResultFilesDeps) {
  const [exportArm, setExportArm] = useState(0);
  const [importing, setImporting] = useState<string | null>(null);
  const importedBackend = useRef('unknown');
  const { client, report, exp, state, live, running, chartsRef, setNotice, setFileError } = d;

  const meta = (): ResultsMeta => {
    const s = state!;
    const wallMs = Object.values(s.records).flat().reduce((a, r) => a + r.ms, 0) + Object.values(s.checkpoints).flat().reduce((a, c) => a + c.ms, 0);
    return {
      engine: 'browser',
      backend: live ? report.backend : importedBackend.current,
      preset: matchPreset(s.config) === 'custom' ? null : matchPreset(s.config),
      assets: 'shipped public/models/base + pickscore-mini + hps-mini',
      startedAt: d.startedAt.current,
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
    d.onImported?.(r.finals);
    setNotice(`Viewing ${file.name}: a finished run (${r.snapshot.config.arms.length} arms, ${r.snapshot.update} updates, backend ${r.backend}). Controls are locked; “Back to live run” returns.`);
  };
  return { exportArm, setExportArm, importing, exportCsv, exportJson, exportPng, exportCheckpoint, onImport };
}

export function ResultFilesCard({ files, shown, hasState, canExportCheckpoint }: { files: ReturnType<typeof useResultFiles>; shown: ExperimentConfig; hasState: boolean; canExportCheckpoint: boolean }) {
  return (
    <section className="pg-card pg-files" aria-label="Export and import">
      <h2>Export and import</h2>
      <div className="pg-file-row">
        <button type="button" className="pg-btn" onClick={files.exportCsv} disabled={!hasState}>
          Export metrics CSV
        </button>
        <button type="button" className="pg-btn" onClick={files.exportJson} disabled={!hasState}>
          Export results JSON
        </button>
        <button type="button" className="pg-btn" onClick={files.exportPng} disabled={!hasState}>
          Export charts PNG
        </button>
        <span className="pg-inline">
          <select aria-label="Arm to export" value={files.exportArm} onChange={(e) => files.setExportArm(Number(e.target.value))}>
            {shown.arms.map((a, i) => (
              <option key={i} value={i}>
                {a.name}
              </option>
            ))}
          </select>
          <button type="button" className="pg-btn" onClick={files.exportCheckpoint} disabled={!canExportCheckpoint}>
            Export checkpoint .safetensors
          </button>
        </span>
        <label className="pg-btn pg-file">
          {files.importing ? `Reading ${files.importing}…` : 'Import results JSON'}
          <input type="file" accept=".json,application/json" aria-label="Import results JSON" onChange={(e) => { void files.onImport(e.target.files?.[0]); e.target.value = ''; }} />
        </label>
      </div>
    </section>
  );
}
