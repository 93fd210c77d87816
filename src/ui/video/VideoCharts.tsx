/**
 * The Video view's charts (recharts, as the playground's Charts.tsx): loss and AAF rate per update
 * per arm, and at each checkpoint the arm's Δ true preference against the raw model on the same
 * clips and noise, with its paired 95 % interval as a band. Animation off: redrawn per update.
 */
import { useMemo } from 'react';
import { Area, CartesianGrid, ComposedChart, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { VideoCheckpointView, VideoUpdateView } from '../../worker/protocol-video';
import { checkpointRows, updateRows } from './videoData';

export interface ArmStyle {
  name: string;
  colour: string;
}

const AXIS = { fontSize: 11 };
const fmt = (v: unknown) => (typeof v === 'number' ? v.toPrecision(3) : Array.isArray(v) ? v.map((x) => (typeof x === 'number' ? x.toPrecision(3) : String(x))).join(' … ') : String(v));

function Card({ title, testId, note, children }: { title: string; testId: string; note: string; children: React.ReactNode }) {
  return (
    <figure className="pg-chart" data-testid={testId}>
      <figcaption>
        <span className="pg-chart-title">{title}</span>
      </figcaption>
      {children}
      <p className="pg-chart-note">{note}</p>
    </figure>
  );
}

const Empty = ({ text }: { text: string }) => <div className="pg-chart-empty">{text}</div>;

function PerUpdate({ rows, series, domain, label }: { rows: ReturnType<typeof updateRows>; series: { name: string; colour: string; key: string }[]; domain?: [number, number]; label: string }) {
  return (
    <ResponsiveContainer width="100%" height={180}>
      <LineChart data={rows} margin={{ top: 6, right: 8, bottom: 4, left: 0 }} role="img" aria-label={label}>
        <CartesianGrid stroke="#e3e6ee" />
        <XAxis dataKey="update" type="number" domain={['dataMin', 'dataMax']} tick={AXIS} allowDecimals={false} />
        <YAxis domain={domain ?? ['auto', 'auto']} tick={AXIS} width={48} tickFormatter={(v: number) => String(+v.toPrecision(3))} />
        <Tooltip formatter={(v) => fmt(v)} labelFormatter={(l) => `update ${l}`} />
        {series.map((a) => (
          <Line key={a.key} dataKey={a.key} name={a.name} stroke={a.colour} dot={rows.length < 30 ? { r: 2.5 } : false} isAnimationActive={false} connectNulls strokeWidth={1.6} />
        ))}
      </LineChart>
    </ResponsiveContainer>
  );
}

export function VideoCharts({ arms, records, checkpoints, methods }: { arms: ArmStyle[]; records: VideoUpdateView[]; checkpoints: VideoCheckpointView[]; methods: string[] }) {
  const names = useMemo(() => arms.map((a) => a.name), [arms]);
  const rows = useMemo(() => updateRows(records, names), [records, names]);
  const cps = useMemo(() => checkpointRows(checkpoints, names), [checkpoints, names]);
  const lossSeries = arms.map((a, i) => ({ ...a, key: `loss${i}` }));
  const aafSeries = arms.flatMap((a, i) => (methods[i] === 'seppo' ? [{ ...a, key: `aaf${i}` }] : []));
  return (
    <div className="pg-charts">
      <Card title="Loss per update" testId="video-chart-loss" note="SFT: the denoising error on winning videos. SePPO: −log σ of eq. 8 (per-clip errors averaged over frames).">
        {rows.length === 0 ? <Empty text="Press Start: the curves appear after the first update." /> : <PerUpdate rows={rows} series={lossSeries} label="loss against update, per arm" />}
      </Card>
      <Card title="AAF rate per update (SePPO)" testId="video-chart-aaf" note="Share of the reference model's own videos judged losers (s = −1, eq. 9). SFT has no reference samples, so no line.">
        {rows.length === 0 ? (
          <Empty text="No updates yet." />
        ) : (
          <PerUpdate rows={rows} series={aafSeries} domain={[0, 1]} label="AAF rate against update, per SePPO arm" />
        )}
      </Card>
      <Card
        title="Δ true preference vs the raw model, at checkpoints"
        testId="video-chart-delta"
        note="Paired on the same prompts and noise; the band is the paired 95 % interval (absent with a single clip). Update 0: every arm is the raw model (zero LoRA)."
      >
        {checkpoints.length === 0 ? (
          <Empty text="The first checkpoint is evaluated after checkpointEvery updates." />
        ) : (
          <ResponsiveContainer width="100%" height={200}>
            <ComposedChart data={cps} margin={{ top: 6, right: 8, bottom: 4, left: 0 }} role="img" aria-label="Δ true preference against the raw model at checkpoints, per arm">
              <CartesianGrid stroke="#e3e6ee" />
              <XAxis dataKey="update" type="number" domain={['dataMin', 'dataMax']} tick={AXIS} allowDecimals={false} />
              <YAxis domain={['auto', 'auto']} tick={AXIS} width={52} tickFormatter={(v: number) => String(+v.toPrecision(3))} />
              <Tooltip formatter={(v) => fmt(v)} labelFormatter={(l) => `update ${l}`} />
              <ReferenceLine y={0} stroke="#7a8194" strokeDasharray="4 3" />
              {arms.map((a, i) => (
                <Area key={`b${i}`} dataKey={`band${i}`} name={`${a.name} · 95 % interval`} stroke="none" fill={a.colour} fillOpacity={0.15} isAnimationActive={false} connectNulls />
              ))}
              {arms.map((a, i) => (
                <Line key={`d${i}`} dataKey={`d${i}`} name={`${a.name} · Δ`} stroke={a.colour} dot={{ r: 3 }} isAnimationActive={false} connectNulls strokeWidth={1.8} />
              ))}
            </ComposedChart>
          </ResponsiveContainer>
        )}
      </Card>
    </div>
  );
}
