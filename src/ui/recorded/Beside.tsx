/**
 * A small live run beside a recorded one (issue 16): from a recorded run on screen, start a small live
 * version of the same arms and seed (core/recorded.ts smallLiveVersion, at the size of the smoke or
 * first-look preset), then see both: the recorded run's charts, labelled RECORDED, beside the live
 * run's, labelled LIVE. The recorded run is a fixed snapshot (read from its file); the live one trains.
 */
import { useState } from 'react';
import { BESIDE_SIZES, type BesideSize, type RecordedEntry } from '../../core/recorded';
import { AafPickScoreChart, CheckpointMetricChart } from '../playground/Charts';
import type { RunState } from '../playground/runState';

export interface BesideRun {
  entry: RecordedEntry;
  /** The recorded run as the page read it (source 'imported'). */
  state: RunState;
  size: BesideSize;
}

const SIZE_LABEL: Record<BesideSize, string> = { smoke: 'smoke (2 updates, seconds)', 'first-look': 'first-look (90 updates, minutes)' };

/** The start form shown under the RECORDED banner. */
export function BesideStart({ entry, disabled, onStart }: { entry: RecordedEntry; disabled: boolean; onStart: (size: BesideSize) => void }) {
  const [size, setSize] = useState<BesideSize>('first-look');
  return (
    <div className="pg-beside-form" data-testid="pg-beside-start">
      <span>
        This is what {entry.seeds.length === 1 ? 'seed ' + entry.seeds[0] : `${entry.seeds.length} seeds`} × {entry.updates.toLocaleString('en-US')} updates look like. Train a small live version of the same arms beside it:
      </span>
      <label>
        <span className="pg-sr">Size of the live run</span>
        <select data-testid="pg-beside-size" value={size} onChange={(e) => setSize(e.target.value as BesideSize)}>
          {BESIDE_SIZES.map((s) => (
            <option key={s} value={s}>
              {SIZE_LABEL[s]}
            </option>
          ))}
        </select>
      </label>
      <button type="button" className="pg-btn" data-testid="pg-beside-go" disabled={disabled} onClick={() => onStart(size)}>
        Start the live run beside it
      </button>
    </div>
  );
}

export function BesidePanel({ beside, live, onClose }: { beside: BesideRun; live: RunState; onClose: () => void }) {
  const rec = beside.state;
  const lc = live.config;
  const same = lc.seed === rec.config.seed && lc.arms.map((a) => a.name).join('\n') === rec.config.arms.map((a) => a.name).join('\n');
  return (
    <section className="pg-card pg-beside" aria-labelledby="pg-beside-h" data-testid="pg-beside">
      <div className="pg-card-head">
        <h2 id="pg-beside-h">Recorded beside live</h2>
        <span className="pg-muted" data-testid="pg-beside-note">
          {same ? 'same arms and seed' : 'the live experiment has been changed since: its arms or seed are no longer the recorded ones'}; the live run is {beside.size}-sized: {lc.updates} updates on {lc.dataSize} pairs, against the recorded {rec.config.updates.toLocaleString('en-US')} on {rec.config.dataSize.toLocaleString('en-US')}
        </span>
        <button type="button" className="pg-link" data-testid="pg-beside-close" onClick={onClose}>
          Close
        </button>
      </div>
      <div className="pg-beside-cols">
        <div className="pg-beside-col recorded" data-testid="pg-beside-recorded">
          <p>
            <span className="pg-beside-tag">RECORDED</span> {beside.entry.title} · seed {beside.entry.seeds.join(', ')} · {beside.entry.engine}, {beside.entry.backend} · not trained in this tab
          </p>
          <AafPickScoreChart state={rec} testId="pg-beside-recorded-aaf" />
          <CheckpointMetricChart state={rec} testId="pg-beside-recorded-metric" />
        </div>
        <div className="pg-beside-col live" data-testid="pg-beside-live">
          <p>
            <span className="pg-beside-tag">LIVE</span> trained in this tab now · seed {lc.seed} · update <span data-testid="pg-beside-live-update">{live.update}</span> of {lc.updates} ·{' '}
            <span data-testid="pg-beside-live-status">{live.status}</span>
          </p>
          <AafPickScoreChart state={live} testId="pg-beside-live-aaf" />
          <CheckpointMetricChart state={live} testId="pg-beside-live-metric" />
        </div>
      </div>
    </section>
  );
}
