/**
 * Per-arm diagnostics that make the diffusion-DPO loss readable: implicit rewards of winner and
 * reference sample and their margin, the histogram of the `inside` term over time (β saturation
 * made visible), implicit accuracy per timestep bucket, and the share of reference samples flipped
 * to winners; for the reward-model arms (DDPO, D3PO) the training reward against the true preference per
 * checkpoint, reward hacking marked. Each comes with one sentence on how to read it.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { Bar, BarChart, CartesianGrid, Cell, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ExpUpdateRecord } from '../../worker/protocol-experiment';
import { armColour } from './colours';
import { accByBucket, downsampleRows, lastUpdate, updateAxis } from './chartData';
import type { RunState } from './runState';
import { INSIDE_HIST_EDGES, T_BUCKETS } from '../../core/align/bins';
import { rewardHackingPoints, rewardTrace } from '../../core/align/records';
import { isRewardMethod, rewardArmOptions } from '../../core/config';
import type { ExpCheckpointRecord } from '../../worker/protocol-experiment';

const AXIS = { fontSize: 11 };
const fmt = (v: unknown) => (typeof v === 'number' ? (Math.abs(v) >= 10 ? v.toFixed(1) : v.toPrecision(3)) : String(v));

export function Diagnostics({ state }: { state: RunState }) {
  const arms = state.config.arms;
  const [sel, setSel] = useState(0);
  const i = Math.min(sel, arms.length - 1);
  const arm = arms[i];
  const recs = state.records[arm.name] ?? [];
  const colour = armColour(arm, i);
  const isSft = arm.method === 'sft';
  const axis = useMemo(() => updateAxis(lastUpdate(state)), [state]);
  return (
    <section className="pg-card" aria-labelledby="pg-diag-h">
      <div className="pg-card-head">
        <h2 id="pg-diag-h">Diagnostics</h2>
        <div role="tablist" aria-label="Arm for diagnostics" className="pg-arm-tabs">
          {arms.map((a, j) => (
            <button
              key={j}
              role="tab"
              type="button"
              aria-selected={j === i}
              className={j === i ? 'pg-arm-tab active' : 'pg-arm-tab'}
              style={{ borderColor: armColour(a, j), ...(j === i ? { background: armColour(a, j), color: '#fff' } : {}) }}
              onClick={() => setSel(j)}
            >
              {a.name}
            </button>
          ))}
        </div>
      </div>
      {isRewardMethod(arm.method) ? (
        recs.length === 0 ? (
          <p className="pg-hint">No updates yet for {arm.name}.</p>
        ) : (
          <div className="pg-diag-grid">
            <RewardTraceChart recs={recs} checkpoints={state.checkpoints[arm.name] ?? []} reward={rewardArmOptions(arm).reward} colour={colour} />
          </div>
        )
      ) : isSft ? (
        <p className="pg-hint">SFT has no reference model: it has no implicit rewards, no inside term and no flipper. Pick a SePPO or Diffusion-DPO arm.</p>
      ) : recs.length === 0 ? (
        <p className="pg-hint">No updates yet for {arm.name}.</p>
      ) : (
        <div className="pg-diag-grid">
          <Rewards recs={recs} axis={axis} />
          <InsideHeatmap recs={recs} colour={colour} batch={state.config.batchSize} />
          <AccByBucket recs={recs} colour={colour} />
          <Flipped recs={recs} colour={colour} flip={arm.method === 'seppo' ? arm.flip : 'off'} axis={axis} />
        </div>
      )}
    </section>
  );
}

type Axis = { domain: [number, number]; ticks: number[] };

/** A reward arm: its training reward (mean over the updates before each checkpoint) beside the true preference measured there. */
function RewardTraceChart({ recs, checkpoints, reward, colour }: { recs: ExpUpdateRecord[]; checkpoints: ExpCheckpointRecord[]; reward: string; colour: string }) {
  const trace = useMemo(() => rewardTrace(recs, [...checkpoints].sort((a, b) => a.update - b.update), reward), [recs, checkpoints, reward]);
  const hacked = useMemo(() => rewardHackingPoints(trace).map((i) => trace[i].update), [trace]);
  const rows = trace.map((p) => ({ update: p.update, r: p.trainReward, u: p.truePreference }));
  return (
    <figure className="pg-chart" data-testid="pg-diag-reward-trace">
      <figcaption className="pg-chart-title">Training reward ({reward}) and true preference per checkpoint</figcaption>
      {rows.length === 0 ? (
        <p className="pg-hint">No checkpoint yet.</p>
      ) : (
        <ResponsiveContainer width="100%" height={180}>
          <LineChart data={rows} margin={{ top: 6, right: 8, bottom: 4, left: 0 }} role="img" aria-label={`Training reward ${reward} and true preference against checkpoint update`}>
            <CartesianGrid stroke="#e3e6ee" />
            <XAxis dataKey="update" type="number" domain={['dataMin', 'dataMax']} tick={AXIS} allowDecimals={false} />
            <YAxis yAxisId="r" tick={AXIS} width={44} tickFormatter={(v: number) => fmt(v)} domain={['auto', 'auto']} />
            <YAxis yAxisId="u" orientation="right" tick={AXIS} width={44} tickFormatter={(v: number) => fmt(v)} domain={['auto', 'auto']} />
            <Tooltip formatter={(v) => fmt(v)} labelFormatter={(l) => `checkpoint at update ${l}${hacked.includes(Number(l)) ? ' — reward up, true preference down' : ''}`} />
            <Legend wrapperStyle={{ fontSize: 11 }} />
            <Line yAxisId="r" dataKey="r" name={`training reward (${reward})`} stroke={colour} isAnimationActive={false} />
            <Line yAxisId="u" dataKey="u" name="true preference" stroke="#1d2330" strokeDasharray="4 3" isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      )}
      <p className="pg-chart-note">
        The arm optimises the reward, never the true preference.{' '}
        {hacked.length > 0 ? `Reward hacking at update ${hacked.join(', ')}: the reward rose while the true preference fell.` : 'So far no checkpoint where the reward rose while the true preference fell.'}
      </p>
    </figure>
  );
}

function Rewards({ recs, axis }: { recs: ExpUpdateRecord[]; axis: Axis }) {
  const rows = useMemo(() => downsampleRows(recs.map((r) => ({ update: r.update, w: r.rewardW, l: r.rewardL, m: r.margin })), ['w', 'l', 'm']), [recs]);
  return (
    <figure className="pg-chart" data-testid="pg-diag-rewards">
      <figcaption className="pg-chart-title">Implicit rewards and margin</figcaption>
      <ResponsiveContainer width="100%" height={160}>
        <LineChart data={rows} margin={{ top: 6, right: 8, bottom: 4, left: 0 }} role="img" aria-label="Implicit rewards of winner and reference sample, and their margin, against update">
          <CartesianGrid stroke="#e3e6ee" />
          <XAxis dataKey="update" type="number" domain={axis.domain} ticks={axis.ticks} interval={0} tick={AXIS} allowDecimals={false} />
          <YAxis tick={AXIS} width={44} tickFormatter={(v: number) => fmt(v)} />
          <Tooltip formatter={(v) => fmt(v)} labelFormatter={(l) => `update ${l}`} />
          <Legend wrapperStyle={{ fontSize: 11 }} />
          <Line dataKey="w" name="winner −β(m_w − r_w)" stroke="#2ca02c" dot={false} isAnimationActive={false} />
          <Line dataKey="l" name="reference −β(m_l − r_l)" stroke="#d62728" dot={false} isAnimationActive={false} />
          <Line dataKey="m" name="margin" stroke="#1d2330" strokeDasharray="4 3" dot={false} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
      <p className="pg-chart-note">A rising margin means the policy prefers the winner over the reference sample more than its reference model does; the loss can sit near log 2 while the margin moves.</p>
    </figure>
  );
}

/** Most columns the heat map draws: longer runs merge neighbouring updates into one column. */
export const HEAT_MAX_COLUMNS = 400;

/**
 * Histogram of `inside` per update as a heat map on one canvas (bounded page cost however long
 * the run): columns = updates (neighbours merged past HEAT_MAX_COLUMNS), rows = fixed bins (top = largest).
 */
function InsideHeatmap({ recs, colour, batch }: { recs: ExpUpdateRecord[]; colour: string; batch: number }) {
  const withHist = useMemo(() => recs.filter((r) => r.insideHist), [recs]);
  const bins = INSIDE_HIST_EDGES.length - 1;
  const last = withHist[withHist.length - 1]?.insideHist;
  const saturated = last ? (last[0] + last[bins - 1]) / batch : 0;
  const per = Math.max(1, Math.ceil(withHist.length / HEAT_MAX_COLUMNS));
  const columns = Math.ceil(withHist.length / per);
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const cv = ref.current;
    if (!cv) return;
    cv.width = Math.max(1, columns);
    cv.height = bins;
    const ctx = cv.getContext('2d');
    if (!ctx) return;
    ctx.clearRect(0, 0, cv.width, cv.height);
    ctx.fillStyle = colour;
    for (let x = 0; x < columns; x++) {
      const group = withHist.slice(x * per, (x + 1) * per);
      for (let b = 0; b < bins; b++) {
        const c = group.reduce((a, r) => a + (r.insideHist![b] ?? 0), 0) / group.length;
        if (c <= 0) continue;
        ctx.globalAlpha = Math.min(1, 0.15 + c / batch);
        ctx.fillRect(x, bins - 1 - b, 1, 1);
      }
    }
    ctx.globalAlpha = 1;
  }, [withHist, columns, per, bins, colour, batch]);
  return (
    <figure className="pg-chart" data-testid="pg-diag-inside">
      <figcaption className="pg-chart-title">Histogram of the inside term over time</figcaption>
      <div className="pg-heat-wrap" role="img" aria-label={`Histogram of inside over ${withHist.length} updates; ${Math.round(saturated * 100)}% of the last batch at |inside| ≥ 5`}>
        <div className="pg-heat-axis" aria-hidden="true">
          <span>≥5</span>
          <span>0</span>
          <span>≤−5</span>
        </div>
        <div className="pg-heat">
          <canvas ref={ref} className="pg-heat-canvas" data-testid="pg-diag-inside-canvas" data-columns={columns} data-updates={withHist.length} />
          <div className="pg-heat-zero" />
        </div>
      </div>
      <div className="pg-heat-foot" aria-hidden="true">
        <span>update {withHist[0]?.update ?? ''}</span>
        <span>update {withHist[withHist.length - 1]?.update ?? ''}</span>
      </div>
      <p className="pg-chart-note">
        Each column is one update's batch{per > 1 ? ` (here the mean of ${per} neighbouring updates)` : ''}, bins of width 1 from −6 to 6: mass in the top or bottom row (|inside| ≥ 5) means β saturates σ and those pairs stop giving gradient; above the dashed line (inside &gt; 0) a pair counts as correct.
      </p>
    </figure>
  );
}

function AccByBucket({ recs, colour }: { recs: ExpUpdateRecord[]; colour: string }) {
  const acc = accByBucket(recs);
  const rows = acc.map((v, b) => ({ bucket: `t ${T_BUCKETS[b]}–${T_BUCKETS[b + 1] - 1}`, acc: v }));
  return (
    <figure className="pg-chart" data-testid="pg-diag-acc">
      <figcaption className="pg-chart-title">Implicit accuracy per timestep bucket (last 10 updates)</figcaption>
      <ResponsiveContainer width="100%" height={160}>
        <BarChart data={rows} margin={{ top: 6, right: 8, bottom: 4, left: 0 }} role="img" aria-label="Implicit accuracy per timestep bucket">
          <CartesianGrid stroke="#e3e6ee" />
          <XAxis dataKey="bucket" tick={{ fontSize: 10 }} />
          <YAxis domain={[0, 1]} tick={AXIS} width={36} />
          <Tooltip formatter={(v) => (typeof v === 'number' ? `${(v * 100).toFixed(0)}%` : '—')} />
          <Bar dataKey="acc" name="implicit accuracy" isAnimationActive={false}>
            {rows.map((_, b) => (
              <Cell key={b} fill={colour} />
            ))}
          </Bar>
        </BarChart>
      </ResponsiveContainer>
      <p className="pg-chart-note">Share of pairs with inside &gt; 0 by noise level: 0.5 is chance; low t (little noise) is usually learned first, high t stays near chance.</p>
    </figure>
  );
}

function Flipped({ recs, colour, flip, axis }: { recs: ExpUpdateRecord[]; colour: string; flip: string; axis: Axis }) {
  const rows = useMemo(() => downsampleRows(recs.map((r) => ({ update: r.update, f: r.flippedShare })), ['f']), [recs]);
  return (
    <figure className="pg-chart" data-testid="pg-diag-flipped">
      <figcaption className="pg-chart-title">Share of reference samples flipped to winners</figcaption>
      <ResponsiveContainer width="100%" height={160}>
        <LineChart data={rows} margin={{ top: 6, right: 8, bottom: 4, left: 0 }} role="img" aria-label="Share of reference samples flipped to winners against update">
          <CartesianGrid stroke="#e3e6ee" />
          <XAxis dataKey="update" type="number" domain={axis.domain} ticks={axis.ticks} interval={0} tick={AXIS} allowDecimals={false} />
          <YAxis domain={[0, 1]} tick={AXIS} width={36} />
          <Tooltip formatter={(v) => fmt(v)} labelFormatter={(l) => `update ${l}`} />
          <Line dataKey="f" name="flipped (s = +1)" stroke={colour} dot={rows.length < 30 ? { r: 2.5 } : false} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
      <p className="pg-chart-note">
        {flip === 'sign'
          ? 'With sign AAF, s = +1 where the reference fits the winner better than the policy (m_w > r_w): that sample is treated as good and learned from; this share is 1 − AAF rate.'
          : `AAF is '${flip}': nothing is flipped to a winner (s is never +1), so this stays at 0.`}
      </p>
    </figure>
  );
}
