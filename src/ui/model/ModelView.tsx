import { useEffect, useRef, useState } from 'react';
import type { WorkerClient } from '../../worker/client';
import { ImageTile } from '../common/ImageTile';
import { LoadStatus } from './LoadStatus';
import { MetricsTable } from './MetricsTable';
import { SampleForm, checkSettings, type SampleSettings } from './SampleForm';
import { SampleHistory, type DoneSample } from './SampleHistory';
import { useBaseModel } from './useBaseModel';

const DEFAULTS: SampleSettings = { prompt: 'a large red circle in the center, dark background', seed: '0', steps: '20', guidance: '7.5' };

interface Run {
  sampleId: number;
  step: number;
  total: number;
  preview: Float32Array | null;
}

let nextSampleId = 1;

/** Sample the base model from a typed prompt, step by step, with its metrics (issues 4 and 5). */
export function ModelView({ client }: { client: WorkerClient }) {
  const { state: model, retry } = useBaseModel(client);
  const [settings, setSettings] = useState<SampleSettings>(DEFAULTS);
  const [touched, setTouched] = useState(false);
  const [run, setRun] = useState<Run | null>(null);
  const [done, setDone] = useState<DoneSample | null>(null);
  const [history, setHistory] = useState<DoneSample[]>([]);
  const result = done?.result ?? null;
  const [error, setError] = useState<string | null>(null);
  const [stoppedAt, setStoppedAt] = useState<string | null>(null);
  const current = useRef(0);
  const problems = checkSettings(settings);
  const [edited, setEdited] = useState(false);

  // Default the steps and guidance to the ones the base model's quality was measured with.
  const q = model.status === 'ready' ? model.info.quality : undefined;
  useEffect(() => {
    if (!q || edited) return;
    setSettings((s) => ({
      ...s,
      steps: q.ddimSteps !== undefined ? String(q.ddimSteps) : s.steps,
      guidance: q.guidance !== undefined ? String(q.guidance) : s.guidance,
    }));
  }, [q, edited]);

  useEffect(
    () =>
      client.onEvent((e) => {
        if (e.type !== 'model:step' || e.sampleId !== current.current) return;
        setRun((r) => (r && r.sampleId === e.sampleId ? { ...r, step: e.step, total: e.total, preview: e.image ?? r.preview } : r));
      }),
    [client],
  );

  const sample = () => {
    setTouched(true);
    if (Object.keys(problems).length > 0) return; // the form shows why; the last image stays
    const sampleId = nextSampleId++;
    current.current = sampleId;
    const steps = Number(settings.steps);
    const seed = Number(settings.seed);
    const guidance = Number(settings.guidance);
    setError(null);
    setStoppedAt(null);
    setRun({ sampleId, step: 0, total: steps, preview: null });
    client
      .call({ type: 'model:sample', sampleId, prompt: settings.prompt, seed, steps, guidance })
      .then((r) => {
        if (current.current !== sampleId) return;
        const d = { result: r, seed, steps, guidance };
        setDone(d);
        setHistory((h) => [d, ...h].slice(0, 8));
        setRun(null);
        setTouched(false);
      })
      .catch((e: Error) => {
        if (current.current !== sampleId) return;
        setError(e.message);
        setRun(null);
      });
  };

  const stop = () => {
    if (!run) return;
    current.current = 0; // the pending request's "Sampling stopped" rejection is ignored
    setStoppedAt(`Stopped at step ${run.step}/${run.total}.`);
    setRun(null);
    void client.call({ type: 'model:stop' });
  };

  const shown = run?.preview ?? result?.image ?? null;
  return (
    <section className="model-view" aria-label="Model">
      <p className="model-intro">
        The pretrained base model — our reduced Stable Diffusion — samples your prompt here, on your backend, with DDIM and classifier-free
        guidance. Each step's current estimate is decoded so you can watch the shape emerge from noise.
      </p>
      <LoadStatus state={model} retry={retry} />
      <SampleForm
        settings={settings}
        onChange={(s) => {
          setEdited(true);
          setSettings(s);
        }}
        onSample={sample}
        busy={run !== null}
        ready={model.status === 'ready'}
        problems={problems}
        showPromptProblem={touched}
      />
      {stoppedAt && (
        <div className="notice" role="status">
          {stoppedAt}
          {result ? ' The image shown is the last completed sample.' : ''}
        </div>
      )}
      {error && (
        <div className="notice notice-error" role="alert" data-testid="model-sample-error">
          Sampling failed: {error}
        </div>
      )}
      <div className="model-stage">
        <figure className="model-figure">
          {shown ? (
            <ImageTile image={shown} scale={8} label={run ? `sampling, step ${run.step} of ${run.total}` : `sample of "${result?.prompt}"`} testId="model-image" />
          ) : (
            <div className="model-placeholder">{model.status === 'ready' ? 'Press Sample.' : 'The image appears here.'}</div>
          )}
          {run && (
            <div className="model-progress" role="status">
              <progress value={run.step} max={run.total} aria-label="Sampling progress" />
              <span data-testid="model-step">
                step {run.step}/{run.total}
              </span>
              <button type="button" onClick={stop} className="model-stop">
                Stop
              </button>
              {run.step === 0 && <span className="model-muted">the first step compiles the GPU kernels (slow on a software adapter)</span>}
            </div>
          )}
          {!run && done && (
            <figcaption className="model-muted" data-testid="model-caption">
              “{done.result.prompt}” · seed {done.seed} · {done.steps} DDIM steps · guidance {done.guidance} · {(done.result.ms / 1000).toFixed(1)} s on{' '}
              {done.result.backend}
            </figcaption>
          )}
        </figure>
        {result && (
          <div className={run ? 'model-result model-stale' : 'model-result'}>
            <h3>Metrics of this image{run ? ' (previous sample)' : ''}</h3>
            <MetricsTable result={result} />
          </div>
        )}
      </div>
      <SampleHistory
        items={history}
        onPick={(d) => {
          if (run) return;
          setDone(d);
          setSettings({ prompt: d.result.prompt, seed: String(d.seed), steps: String(d.steps), guidance: String(d.guidance) });
        }}
      />
    </section>
  );
}

