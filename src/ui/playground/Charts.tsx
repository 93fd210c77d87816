/**
 * The live charts (recharts): AAF rate and PickScore-mini on two axes (the paper's Fig. 3, left),
 * a checkpoint metric per arm (Fig. 2 for PickScore-mini; the others selectable), loss and
 * implicit accuracy. Animation is off: the charts redraw once per update.
 */
import { useMemo, useState } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ExperimentConfig } from '../../core/config';
import { armColour } from './colours';
import {
  CHECKPOINT_SERIES,
  aafByConstruction,
  aafPickScoreRows,
  checkpointRows,
  downsampleRows,
  lastUpdate,
  pointsPerArm,
  updateAxis,
  updateRows,
  withSmoothed,
  type CheckpointSeriesKey,
  type Row,
  type UpdateSeriesKey,
} from './chartData';
import type { RunState } from './runState';

const fmt = (v: unknown) => (typeof v === 'number' ? (Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(3) : v.toPrecision(3)) : String(v));
const AXIS = { fontSize: 11 };
/** Axis ticks with enough digits to tell close values apart. */
const tick = (v: number) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : String(+v.toPrecision(5)));

function ChartCard({ title, testId, children, note, extra }: { title: string; testId: string; children: React.ReactNode; note?: string; extra?: React.ReactNode }) {
  return (
    <figure className="pg-chart" data-testid={testId}>
      <figcaption>
        <span className="pg-chart-title">{title}</span>
        {extra}
      </figcaption>
      {children}
      {note && <p className="pg-chart-note">{note}</p>}
    </figure>
  );
}

function Empty({ text }: { text: string }) {
  return <div className="pg-chart-empty">{text}</div>;
}

/** Fig. 3 (left): AAF rate (solid, left axis) and PickScore-mini (dashed, right axis) per arm. */
export function AafPickScoreChart({ state, testId = 'pg-chart-aaf' }: { state: RunState; testId?: string }) {
  const arms0 = state.config.arms;
  const rows = useMemo(() => downsampleRows(aafPickScoreRows(state), arms0.flatMap((_, i) => [`a${i}`, `p${i}`])), [state, arms0]);
  const axis = useMemo(() => updateAxis(lastUpdate(state)), [state]);
  const points = useMemo(() => pointsPerArm(state), [state]);
  const arms = state.config.arms;
  // No flipper: every reference sample is a loser, so the recorded rate is 1 at every update; its flat line is left out and named.
  const constant = arms.filter(aafByConstruction).map((a) => a.name);
  return (
    <ChartCard
      title="AAF rate and PickScore-mini vs update (paper Fig. 3, left)"
      testId={testId}
      note="Solid: AAF rate (share of reference samples judged losers, left axis). Dashed with dots: PickScore-mini at checkpoints (right axis); update 0 is the base model."
    >
      <div data-testid={`${testId}-points`} data-points={JSON.stringify(points)} hidden />
      <div className="pg-axis-key" aria-hidden="true">
        <span>
          <svg width="22" height="8"><line x1="0" y1="4" x2="22" y2="4" stroke="#1d2330" strokeWidth="2" /></svg> AAF rate (left axis, 0–1)
        </span>
        <span>
          <svg width="22" height="8"><line x1="0" y1="4" x2="22" y2="4" stroke="#1d2330" strokeWidth="1.5" strokeDasharray="5 3" /></svg> PickScore-mini (right axis)
        </span>
      </div>
      {constant.length > 0 && (
        <p className="pg-chart-note" data-testid={`${testId}-constant`} data-arms={JSON.stringify(constant)}>
          AAF off for {constant.join(', ')}: every reference sample is a loser, so the AAF rate is 1 by construction; its line is not drawn (PickScore-mini still is).
        </p>
      )}
      {rows.length === 0 ? (
        <Empty text="Press Play or Step: the curves appear after the first update." />
      ) : (
        <ResponsiveContainer width="100%" height={230}>
          <LineChart data={rows} margin={{ top: 6, right: 8, bottom: 4, left: 0 }} role="img" aria-label="AAF rate and PickScore-mini against update, per arm">
            <CartesianGrid stroke="#e3e6ee" />
            <XAxis dataKey="update" type="number" domain={axis.domain} ticks={axis.ticks} interval={0} tick={AXIS} allowDecimals={false} />
            <YAxis yAxisId="aaf" domain={[0, 1]} tick={AXIS} width={34} />
            <YAxis yAxisId="ps" orientation="right" domain={['auto', 'auto']} tick={AXIS} width={48} tickFormatter={(v: number) => String(+v.toPrecision(5))} />
            <Tooltip formatter={(v) => fmt(v)} labelFormatter={(l) => `update ${l}`} />
            {arms.map((a, i) => aafByConstruction(a) ? null : (
              <Line key={`a${i}`} yAxisId="aaf" dataKey={`a${i}`} name={`${a.name} · AAF`} stroke={armColour(a, i)} dot={false} isAnimationActive={false} connectNulls strokeWidth={1.8} />
            ))}
            {arms.map((a, i) => (
              <Line key={`p${i}`} yAxisId="ps" dataKey={`p${i}`} name={`${a.name} · PickScore`} stroke={armColour(a, i)} strokeDasharray="5 3" dot={{ r: 3 }} isAnimationActive={false} connectNulls strokeWidth={1.5} />
            ))}
          </LineChart>
        </ResponsiveContainer>
      )}
    </ChartCard>
  );
}

function SimpleLines({
  rows: all,
  config,
  yLabel,
  domain,
  height = 200,
  label,
  axis,
  smooth = false,
}: {
  rows: Row[];
  config: ExperimentConfig;
  yLabel: string;
  domain?: [number, number];
  height?: number;
  label: string;
  axis: { domain: [number, number]; ticks: number[] };
  smooth?: boolean;
}) {
  const n = config.arms.length;
  const rows = useMemo(() => {
    const src = smooth ? withSmoothed(all, n) : all;
    return downsampleRows(src, Array.from({ length: n }, (_, i) => (smooth ? [`v${i}`, `s${i}`] : [`v${i}`])).flat());
  }, [all, n, smooth]);
  return (
    <ResponsiveContainer width="100%" height={height}>
      <LineChart data={rows} margin={{ top: 6, right: 8, bottom: 4, left: 0 }} role="img" aria-label={label}>
        <CartesianGrid stroke="#e3e6ee" />
        <XAxis dataKey="update" type="number" domain={axis.domain} ticks={axis.ticks} interval={0} tick={AXIS} allowDecimals={false} />
        <YAxis domain={domain ?? ['auto', 'auto']} tick={AXIS} width={48} tickFormatter={(v: number) => tick(v)} name={yLabel} />
        <Tooltip formatter={(v) => fmt(v)} labelFormatter={(l) => `update ${l}`} />
        {config.arms.map((a, i) => (
          <Line
            key={i}
            dataKey={`v${i}`}
            name={a.name}
            stroke={armColour(a, i)}
            strokeOpacity={smooth ? 0.3 : 1}
            dot={rows.length < 30 ? { r: 2.5 } : false}
            isAnimationActive={false}
            connectNulls
            strokeWidth={smooth ? 1 : 1.6}
          />
        ))}
        {smooth &&
          config.arms.map((a, i) => (
            <Line key={`s${i}`} dataKey={`s${i}`} name={`${a.name} (smoothed)`} stroke={armColour(a, i)} dot={false} isAnimationActive={false} connectNulls strokeWidth={2.2} />
          ))}
      </LineChart>
    </ResponsiveContainer>
  );
}

/** Fig. 2: PickScore-mini per arm at checkpoints; any other checkpoint metric selectable. */
export function CheckpointMetricChart({ state, testId = 'pg-chart-metric' }: { state: RunState; testId?: string }) {
  const [key, setKey] = useState<CheckpointSeriesKey>('pickScore');
  const rows = useMemo(() => checkpointRows(state, key), [state, key]);
  const axis = useMemo(() => updateAxis(lastUpdate(state)), [state]);
  const info = CHECKPOINT_SERIES.find((s) => s.key === key)!;
  return (
    <ChartCard
      title={key === 'pickScore' ? 'PickScore-mini per arm (paper Fig. 2)' : `${info.label} per arm`}
      testId={testId}
      extra={
        <select aria-label="Metric to plot" value={key} onChange={(e) => setKey(e.target.value as CheckpointSeriesKey)}>
          {CHECKPOINT_SERIES.map((s) => (
            <option key={s.key} value={s.key}>
              {s.label}
            </option>
          ))}
        </select>
      }
      note="Evaluated at every checkpoint on fixed prompts with the same noise for every arm; update 0 is the base model."
    >
      {rows.length === 0 ? <Empty text={state.baseEval?.state === 'cut' ? "The base model's evaluation was cut short: no base figures, and none of the arms' until their first checkpoint." : 'The base model is evaluated when the experiment loads.'} /> : <SimpleLines rows={rows} config={state.config} yLabel={info.label} domain={info.winRate ? [0, 1] : undefined} label={`${info.label} against update, per arm`} axis={axis} />}
    </ChartCard>
  );
}

export function UpdateMetricChart({ state, metric, title, note, domain }: { state: RunState; metric: UpdateSeriesKey; title: string; note: string; domain?: [number, number] }) {
  const rows = useMemo(() => updateRows(state, metric), [state, metric]);
  const axis = useMemo(() => updateAxis(lastUpdate(state)), [state]);
  const [smooth, setSmooth] = useState(false);
  return (
    <ChartCard
      title={title}
      testId={`pg-chart-${metric}`}
      note={note}
      extra={
        <label className="pg-smooth">
          <input type="checkbox" checked={smooth} onChange={(e) => setSmooth(e.target.checked)} /> smoothed
        </label>
      }
    >
      {rows.length === 0 ? (
        <Empty text="No updates yet." />
      ) : (
        <SimpleLines rows={rows} config={state.config} yLabel={title} domain={domain} height={170} label={`${title} against update, per arm`} axis={axis} smooth={smooth} />
      )}
    </ChartCard>
  );
}

export function ArmLegend({ config, halted }: { config: ExperimentConfig; halted: Record<string, string> }) {
  return (
    <ul className="pg-legend" aria-label="Arm colours">
      {config.arms.map((a, i) => (
        <li key={i}>
          <span className="pg-swatch" style={{ background: armColour(a, i) }} aria-hidden="true" />
          {a.name}
          {halted[a.name] && <span className="pg-halted-tag"> (halted)</span>}
        </li>
      ))}
    </ul>
  );
}
