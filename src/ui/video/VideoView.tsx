/**
 * The Video view (issue 17, the paper's Table 3 at this world's scale): pick a preset, Start, and
 * watch SFT and SePPO fine-tune LoRA adapters on the video model, with the loss and AAF charts, Δ
 * true preference against the raw model at checkpoints, and an animated sample grid (same noise for
 * every model). The worker runs everything (src/worker/handle-video.ts) and sends plain numbers and
 * uint8 frames; this view only draws them.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import type { WorkerClient } from '../../worker/client';
import type { VideoCheckpointView, VideoFinalView, VideoGridView, VideoStatus, VideoUpdateView } from '../../worker/protocol-video';
import { VIDEO_PRESETS, VIDEO_PRESET_DESCRIPTIONS, VIDEO_PRESET_NAMES, type VideoPresetName } from '../../core/video/config';
import { VideoCharts, type ArmStyle } from './VideoCharts';
import { VideoGrid } from './VideoGrid';
import { fmtDelta } from './videoData';
import { isVideoPreset, videoPresetFromUrl, withVideoPreset } from './videoUrl';

const RAW_COLOUR = '#7a8194';
const FALLBACK = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];

type Phase = 'idle' | 'starting' | VideoStatus;

const PHASE_LABEL: Record<Phase, string> = {
  idle: 'idle',
  starting: 'starting',
  loading: 'loading',
  running: 'running',
  final: 'final evaluation',
  done: 'finished',
  stopped: 'stopped',
  error: 'error',
};

export function VideoView({ client }: { client: WorkerClient }) {
  const fromUrl = useMemo(() => videoPresetFromUrl(window.location.search), []);
  const [preset, setPreset] = useState<VideoPresetName>(fromUrl.preset);
  const config = VIDEO_PRESETS[preset];
  const gridN = Math.min(4, Math.max(1, config.checkpointEvalClips || 4));
  const [phase, setPhase] = useState<Phase>('idle');
  const [message, setMessage] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [update, setUpdate] = useState(0);
  const [records, setRecords] = useState<VideoUpdateView[]>([]);
  const [checkpoints, setCheckpoints] = useState<VideoCheckpointView[]>([]);
  const [grid, setGrid] = useState<(VideoGridView & { update: number }) | null>(null);
  const [final, setFinal] = useState<VideoFinalView | null>(null);
  const [sampling, setSampling] = useState(false);
  const [runArms, setRunArms] = useState<{ arms: ArmStyle[]; methods: string[]; updates: number } | null>(null);
  // The run this view follows; before the start replies, any newer run than the last one is adopted.
  const run = useRef<{ current: number | null; last: number }>({ current: null, last: 0 });

  useEffect(
    () =>
      client.onEvent((e) => {
        if (e.type === 'progress') {
          if (e.stage === 'model' || e.stage === 'motion') setMessage(`${e.message ?? e.stage}${e.total ? ` (${Math.round((100 * e.done) / e.total)} %)` : ''}`);
          return;
        }
        if (!e.type.startsWith('video.')) return;
        const ev = e as Extract<typeof e, { run: number }>;
        const r = run.current;
        if (r.current === null) {
          if (ev.run <= r.last) return;
          r.current = ev.run;
        } else if (ev.run !== r.current) return;
        switch (e.type) {
          case 'video.status':
            setPhase(e.status);
            setUpdate(e.update);
            setMessage(e.message ?? null);
            break;
          case 'video.update':
            setUpdate(e.update);
            setRecords((xs) => [...xs, ...e.records]);
            break;
          case 'video.checkpoint':
            setCheckpoints((xs) => [...xs, ...e.checkpoints]);
            break;
          case 'video.grid':
            setGrid({ prompts: e.prompts, frames: e.frames, size: e.size, rows: e.rows, update: e.update });
            break;
          case 'video.done':
            setFinal(e.final);
            break;
          case 'video.error':
            setError(e.message);
            break;
        }
      }),
    [client],
  );

  // Leaving the view stops its run (the worker frees its tensors).
  useEffect(() => () => void client.call({ type: 'video.stop' }).catch(() => {}), [client]);

  const choosePreset = (p: string) => {
    if (!isVideoPreset(p)) return;
    setPreset(p);
    window.history.replaceState(null, '', withVideoPreset(window.location.href, p));
  };

  const start = () => {
    setError(null);
    setRecords([]);
    setCheckpoints([]);
    setGrid(null);
    setFinal(null);
    setUpdate(0);
    setPhase('starting');
    setMessage(null);
    run.current.current = null;
    const arms = config.arms.map((a, i) => ({ name: a.name, colour: a.colour ?? FALLBACK[i % FALLBACK.length] }));
    setRunArms({ arms, methods: config.arms.map((a) => a.method), updates: config.updates });
    client
      .call({ type: 'video.start', config, gridN })
      .then((r) => {
        run.current.current = r.run;
        run.current.last = r.run;
        setPhase((p) => (p === 'starting' || p === 'loading' ? 'running' : p));
      })
      .catch((e: Error) => {
        setPhase('error');
        setError(e.message);
      });
  };

  const stop = () => {
    client
      .call({ type: 'video.stop' })
      .then(() => setPhase((p) => (p === 'done' || p === 'error' ? p : 'stopped')))
      .catch((e: Error) => setError(e.message));
  };

  const sampleNow = () => {
    setSampling(true);
    client
      .call({ type: 'video.grid', n: gridN })
      .catch((e: Error) => setError(e.message))
      .finally(() => setSampling(false));
  };

  const busy = phase === 'starting' || phase === 'loading' || phase === 'running' || phase === 'final';
  const colours: Record<string, string> = { raw: RAW_COLOUR };
  for (const a of runArms?.arms ?? []) colours[a.name] = a.colour;

  return (
    <main className="video-view" data-testid="video-view">
      {fromUrl.message && (
        <div className="notice notice-warn" role="alert" data-testid="video-url-warning">
          {fromUrl.message}
        </div>
      )}
      <section className="pg-card video-controls">
        <div className="video-toolbar">
          <label className="pg-knob pg-preset">
            Preset
            <select data-testid="video-preset" value={preset} disabled={busy} onChange={(e) => choosePreset(e.target.value)}>
              {VIDEO_PRESET_NAMES.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </label>
          <button type="button" data-testid="video-start" onClick={start} disabled={busy}>
            Start
          </button>
          <button type="button" data-testid="video-stop" onClick={stop} disabled={!busy}>
            Stop
          </button>
          <button type="button" data-testid="video-sample" onClick={sampleNow} disabled={phase !== 'running' || sampling} title="Sample the grid now, between updates">
            {sampling ? 'Sampling…' : 'Sample now'}
          </button>
          <span className={`pg-status pg-status-${phase === 'done' ? 'done' : phase === 'error' ? 'error' : busy ? 'running' : 'idle'}`} data-testid="video-status">
            {PHASE_LABEL[phase]}
          </span>
          <span className="video-update">
            update <span data-testid="video-update">{update}</span> / {runArms?.updates ?? config.updates}
          </span>
        </div>
        <p className="video-desc" data-testid="video-preset-description">
          {VIDEO_PRESET_DESCRIPTIONS[preset]} {config.arms.length} arms ({config.arms.map((a) => a.name).join(', ')}), {config.updates} updates of {config.batchSize} clips of {config.frames} frames, LoRA rank {config.loraRank}, a checkpoint every {config.checkpointEvery}.
        </p>
        <p className="video-explain">
          The <strong>raw model</strong> is the frozen image base (autoencoder, text encoder, UNet) plus the pretrained motion modules (temporal self-attention over the frames at every UNet level,
          AnimateDiff-style). <strong>SFT</strong> and <strong>SePPO</strong> fine-tune only LoRA adapters on the UNet's cross-attention; the base and the motion modules stay as shipped. Every model's
          clips in a grid column come from the <strong>same noise</strong>, so their differences are the fine-tuning's. The true preference is the time-lapse world's utility of a clip (per frame,
          temporal consistency, how well the change follows the prompt).
        </p>
        {message && (
          <p className="pg-progress" data-testid="video-message">
            {message}
          </p>
        )}
        {error && (
          <div className="notice notice-error" role="alert" data-testid="video-error">
            {error}
          </div>
        )}
      </section>
      {runArms && <VideoCharts arms={runArms.arms} methods={runArms.methods} records={records} checkpoints={checkpoints} />}
      <section className="pg-card">
        <div className="pg-card-head">
          <h2>Samples</h2>
          <span className="pg-same-noise">same noise for every model</span>
          {grid && <span className="pg-chart-note">at update {grid.update}, {grid.frames} frames, looping</span>}
        </div>
        {grid ? <VideoGrid grid={grid} colours={colours} /> : <p className="pg-chart-note">The grid is sampled at every checkpoint (and with Sample now while a run goes).</p>}
      </section>
      {final && (
        <section className="pg-card" data-testid="video-final">
          <h2>Final evaluation ({final.prompts} prompts)</h2>
          <div className="pg-table-wrap">
            <table className="pg-results">
              <thead>
                <tr>
                  <th>model</th>
                  <th>true preference</th>
                  <th>Δ vs raw [95 %]</th>
                  <th>SSIM</th>
                  <th>PSNR (dB)</th>
                </tr>
              </thead>
              <tbody>
                {final.models.map((m) => (
                  <tr key={m.name}>
                    <th scope="row">{m.name}</th>
                    <td>{m.trueUtility.toFixed(4)}</td>
                    <td>{m.deltaVsRaw ? fmtDelta(m.deltaVsRaw) : '—'}</td>
                    <td>{m.ssim.toFixed(3)}</td>
                    <td>{m.psnr.toFixed(1)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>
      )}
    </main>
  );
}
