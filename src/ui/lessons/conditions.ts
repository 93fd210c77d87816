/**
 * Lesson step conditions (issue 16), evaluated on the live run's data (RunState): pure functions, no
 * React, no DOM, no tensors. Each answers whether it holds and a sentence that QUOTES the live numbers
 * it read (never canned values), so a step can say "the AAF rate of w/o AAF is 1.00 over updates 11–20"
 * whether or not its condition is met yet.
 *
 * Arms are named by what they are (method, flip, data, reference strategy), not by position, so a lesson
 * reads the same on its preset and on a smaller experiment from the URL; an arm the experiment lacks
 * is said plainly ("this experiment has no arm with …").
 */
import type { ArmConfig } from '../../core/config';
import { pairedDelta, fromColumns } from '../../core/eval/intervals';
import { rewardHackingPoints, rewardTrace } from '../../core/align/records';
import type { Metrics } from '../../worker/protocol-experiment';
import { evalKey, type RunState } from '../playground/runState';
import { sideData, type CompareMode, type CompareSide } from '../playground/compare';

/** Which arm: the first of the experiment whose config has these fields. */
export type ArmMatch = Partial<Pick<ArmConfig, 'method' | 'flip' | 'data' | 'refStrategy' | 'reward'>> & { nameIncludes?: string };

export type Condition =
  /** The run has done at least `atLeast` updates; quotes `quote` (the mean over the last 10 updates) for every arm. */
  | { kind: 'update'; atLeast: number; quote?: 'loss' | 'implicitAcc' | 'aafRate' }
  /** The mean AAF rate of an arm over its last `window` updates is above `above`. */
  | { kind: 'aafRate'; arm: ArmMatch; above: number; window: number }
  /** At some checkpoint so far, the paired 95 % interval of a − b (same prompts, same noise) excludes 0 on `metric`. */
  | { kind: 'separated'; a: ArmMatch; b: ArmMatch | 'base'; metric: string }
  /** At the latest checkpoint, an arm's win rate against the base on `metric` is below `below`. */
  | { kind: 'winRateBelow'; arm: ArmMatch; metric: string; below: number }
  /** After `minUpdates` updates, an arm's mean loss over the last 10 is within `tol` of log 2 (a DPO-style loss that has barely moved). */
  | { kind: 'lossNearLog2'; arm: ArmMatch; tol: number; minUpdates: number }
  /** A reward arm's training reward rose between two checkpoints while its true preference fell. */
  | { kind: 'rewardHacked'; arm: ArmMatch }
  /**
   * Both sides have per-image evaluations at a common checkpoint (what the Compare samples card needs to
   * show their images); quotes each side's mean of `metrics` over those images at the latest such checkpoint.
   */
  | { kind: 'checkpointPair'; a: ArmMatch; b: ArmMatch | 'base'; metrics: string[] };

export interface ConditionResult {
  met: boolean;
  /** What the live data say now, with the numbers read. */
  live: string;
  /** False when the experiment cannot show it at all (no such arm, no per-image data): waiting is pointless. */
  checkable: boolean;
}

const LOG2 = Math.log(2);
const METRIC_LABEL: Record<string, string> = { trueUtility: 'true preference', pickScore: 'PickScore-mini', hps: 'HPS-mini', alignment: 'Alignment', aesthetic: 'Aesthetic' };
const label = (k: string) => METRIC_LABEL[k] ?? k;
const signed = (v: number, d = 3) => `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(d)}`;
const pct = (v: number) => `${(100 * v).toFixed(0)} %`;

export function describeMatch(m: ArmMatch): string {
  const parts = Object.entries(m).map(([k, v]) => (k === 'nameIncludes' ? `a name containing '${v}'` : `${k} ${v}`));
  return parts.join(', ') || 'any settings';
}

/** The index of the first arm matching `m`, or −1. */
export function findArm(state: Pick<RunState, 'config'>, m: ArmMatch): number {
  return state.config.arms.findIndex((a) => {
    const rec = a as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(m)) {
      if (k === 'nameIncludes') {
        if (!a.name.includes(v as string)) return false;
      } else if (rec[k] !== v) return false;
    }
    return true;
  });
}

const noArm = (state: RunState, m: ArmMatch): ConditionResult => ({
  met: false,
  checkable: false,
  live: `this experiment has no arm with ${describeMatch(m)} (its arms: ${state.config.arms.map((a) => a.name).join(', ')}), so this step cannot be checked on it`,
});

function mean(xs: number[]): number | null {
  const v = xs.filter((x) => Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

/** Per-image metrics of an arm ('' = base) at a checkpoint: from the live evaluations, or an imported file's columns. */
export function perImageAt(state: RunState, arm: string, update: number): Metrics[] | null {
  const e = state.evals[evalKey(arm, update)];
  if (e && e.perImage.length) return e.perImage;
  if (arm === '' && update === 0 && state.base?.perImage.length) return state.base.perImage;
  if (arm === '') return null;
  const cp = (state.checkpoints[arm] ?? []).find((c) => c.update === update);
  return cp?.perImage ? fromColumns(cp.perImage) : null;
}

export function evaluateCondition(c: Condition, state: RunState): ConditionResult {
  switch (c.kind) {
    case 'update': {
      const q = c.quote;
      const parts = q
        ? state.config.arms.map((a) => {
            const v = mean((state.records[a.name] ?? []).slice(-10).map((r) => (r[q] ?? NaN) as number));
            return `${a.name} ${v === null ? '—' : v.toFixed(3)}`;
          })
        : [];
      const what = q === 'loss' ? 'loss' : q === 'implicitAcc' ? 'implicit accuracy' : 'AAF rate';
      return {
        met: state.update >= c.atLeast,
        checkable: state.config.updates >= c.atLeast,
        live: `update ${state.update} of ${state.config.updates}${parts.length ? `; ${what}, mean of the last 10 updates: ${parts.join(', ')}` : ''}`,
      };
    }
    case 'aafRate': {
      const i = findArm(state, c.arm);
      if (i < 0) return noArm(state, c.arm);
      const name = state.config.arms[i].name;
      const recs = (state.records[name] ?? []).slice(-c.window);
      const v = mean(recs.map((r) => r.aafRate ?? NaN));
      if (v === null) return { met: false, checkable: true, live: `${name} has no AAF rate yet (update ${state.update})` };
      return {
        met: recs.length >= c.window && v > c.above,
        checkable: true,
        live: `AAF rate of ${name}, mean over updates ${recs[0].update}–${recs[recs.length - 1].update}: ${v.toFixed(2)} (the step waits for > ${c.above} over ${c.window} updates)`,
      };
    }
    case 'separated': {
      const ia = findArm(state, c.a);
      if (ia < 0) return noArm(state, c.a);
      const ib = c.b === 'base' ? -2 : findArm(state, c.b);
      if (ib === -1) return noArm(state, c.b as ArmMatch);
      const A = state.config.arms[ia].name;
      const B = ib === -2 ? '' : state.config.arms[ib].name;
      const bLabel = B || 'the base';
      const updates = (state.checkpoints[A] ?? []).map((x) => x.update).filter((u) => u > 0);
      let last: string | null = null;
      for (const u of updates) {
        const pa = perImageAt(state, A, u);
        const pb = B ? perImageAt(state, B, u) : perImageAt(state, '', 0);
        if (!pa || !pb || pa.length !== pb.length || pa.length < 2) continue;
        const d = pairedDelta(pa.map((r) => r[c.metric]), pb.map((r) => r[c.metric]));
        const text = `${A} − ${bLabel} on ${label(c.metric)} at update ${u}: ${signed(d.mean)} [${signed(d.lo)}, ${signed(d.hi)}] over ${d.n} paired images`;
        if (d.lo > 0 || d.hi < 0) return { met: true, checkable: true, live: `${text}: the interval excludes 0` };
        last = `${text}: the interval still includes 0`;
      }
      return { met: false, checkable: true, live: last ?? `no checkpoint with per-image evaluations of ${A} and ${bLabel} yet (update ${state.update}; the first is at update ${state.config.checkpointEvery})` };
    }
    case 'winRateBelow': {
      const i = findArm(state, c.arm);
      if (i < 0) return noArm(state, c.arm);
      const name = state.config.arms[i].name;
      const cps = state.checkpoints[name] ?? [];
      const cp = cps[cps.length - 1];
      const w = cp?.winRate?.[c.metric];
      if (w === undefined) {
        const cut = state.baseEval?.state === 'cut';
        return { met: false, checkable: !cut, live: `${name} has no win rate against the base yet (update ${state.update}${cut ? "; the base's evaluation was cut short, so this run has no win rates" : ''})` };
      }
      return { met: w < c.below, checkable: true, live: `${name} wins ${pct(w)} of the prompts against the base by ${label(c.metric)} at update ${cp.update}` };
    }
    case 'lossNearLog2': {
      const i = findArm(state, c.arm);
      if (i < 0) return noArm(state, c.arm);
      const name = state.config.arms[i].name;
      const recs = state.records[name] ?? [];
      const v = mean(recs.slice(-10).map((r) => r.loss));
      if (v === null) return { met: false, checkable: true, live: `${name} has no loss yet` };
      return {
        met: recs.length >= c.minUpdates && Math.abs(v - LOG2) <= c.tol,
        checkable: true,
        live: `loss of ${name}, mean of the last 10 updates (to update ${recs[recs.length - 1].update}): ${v.toFixed(3)}, log 2 = ${LOG2.toFixed(3)}`,
      };
    }
    case 'rewardHacked': {
      const i = findArm(state, c.arm);
      if (i < 0) return noArm(state, c.arm);
      const arm = state.config.arms[i];
      const cps = [...(state.checkpoints[arm.name] ?? [])].sort((a, b) => a.update - b.update);
      const trace = rewardTrace(state.records[arm.name] ?? [], cps, arm.reward ?? 'reward');
      const hacked = rewardHackingPoints(trace);
      const pts = trace.map((p) => `u=${p.update}: reward ${p.trainReward.toFixed(3)}, true pref. ${p.truePreference === null ? '—' : p.truePreference.toFixed(3)}`);
      if (hacked.length) return { met: true, checkable: true, live: `${arm.name} at update ${trace[hacked[0]].update}: training reward up, true preference down (${pts.join('; ')})` };
      return { met: false, checkable: true, live: trace.length ? `${arm.name}: ${pts.join('; ')} — no checkpoint yet where the reward rose while the true preference fell` : `${arm.name} has no checkpoint yet (update ${state.update})` };
    }
    case 'checkpointPair': {
      const arms = compareArms(c, state);
      if ('missing' in arms) return noArm(state, arms.missing);
      const common = commonCheckpoints(state, arms.a, arms.b);
      const bLabel = arms.b || 'the base';
      if (!common.length) {
        const first = Math.min(state.config.checkpointEvery, state.config.updates);
        return { met: false, checkable: true, live: `no checkpoint with per-image evaluations of both ${arms.a} and ${bLabel} yet (update ${state.update}; the first is at update ${first})` };
      }
      const u = common[common.length - 1];
      const quote = (arm: string) => {
        const rows = perImageAt(state, arm, arm === '' ? 0 : u) ?? [];
        return `${arm || 'the base'} ${c.metrics.map((m) => `${label(m)} ${mean(rows.map((r) => r[m] ?? NaN))?.toFixed(3) ?? '—'}`).join(', ')}`;
      };
      const n = (perImageAt(state, arms.a, arms.a === '' ? 0 : u) ?? []).length;
      return { met: true, checkable: true, live: `at update ${u}, mean over the same ${n} prompts and noises: ${quote(arms.a)}; ${quote(arms.b)}` };
    }
  }
}

/** The sides of a comparison named by what the arms are: an arm match, or the base θ₀. */
export interface StepCompare {
  a: ArmMatch | 'base';
  b: ArmMatch | 'base';
  mode: CompareMode;
}

export interface ResolvedCompare {
  a: CompareSide;
  b: CompareSide;
  mode: CompareMode;
  /** Both sides have per-image data at the chosen checkpoint (false: it is the first checkpoint, not reached yet). */
  ready: boolean;
}

/** The arm names of a step's comparison, or the arm match the experiment lacks. */
function compareArms(spec: Pick<StepCompare, 'a' | 'b'>, state: Pick<RunState, 'config'>): { a: string; b: string } | { missing: ArmMatch } {
  const name = (m: ArmMatch | 'base') => (m === 'base' ? '' : (state.config.arms[findArm(state, m)]?.name ?? null));
  const a = name(spec.a);
  if (a === null) return { missing: spec.a as ArmMatch };
  const b = name(spec.b);
  if (b === null) return { missing: spec.b as ArmMatch };
  return { a, b };
}

/** The checkpoints (> 0) at which both arms ('' = base) have per-image data, ascending. */
function commonCheckpoints(state: RunState, a: string, b: string): number[] {
  const ups = new Set<number>();
  for (const arm of [a, b]) {
    if (arm === '') continue;
    for (const c of state.checkpoints[arm] ?? []) if (c.update > 0) ups.add(c.update);
    for (const ev of Object.values(state.evals)) if (ev.arm === arm && ev.update > 0) ups.add(ev.update);
  }
  const side = (arm: string, u: number): CompareSide => (arm === '' ? { arm: '', update: 0 } : { arm, update: u });
  return [...ups].filter((u) => sideData(state, side(a, u)) && sideData(state, side(b, u))).sort((x, y) => x - y);
}

/**
 * A lesson step's comparison on the run on screen: the arms it names at the latest checkpoint both have
 * per-image data for, or (none yet) at the experiment's first checkpoint, which the card shows as not
 * reached yet. Null when the experiment lacks one of the arms (the step's condition says so).
 */
export function compareForStep(spec: StepCompare, state: RunState): ResolvedCompare | null {
  const arms = compareArms(spec, state);
  if ('missing' in arms) return null;
  const common = commonCheckpoints(state, arms.a, arms.b);
  const ready = common.length > 0;
  const u = ready ? common[common.length - 1] : Math.min(state.config.checkpointEvery, state.config.updates);
  const side = (arm: string): CompareSide => (arm === '' ? { arm: '', update: 0 } : { arm, update: u });
  return { a: side(arms.a), b: side(arms.b), mode: spec.mode, ready };
}

export type StepState =
  | { kind: 'free' }
  | { kind: 'waiting'; live: string; elapsedS: number; timeoutS: number }
  | { kind: 'met'; live: string }
  /** Not met: the time ran out, the run ended, or the experiment cannot show it. */
  | { kind: 'not-met'; live: string; why: 'timeout' | 'run-ended' | 'uncheckable'; elapsedS: number; timeoutS: number };

/**
 * A step's state from its condition, the live data and the seconds the run has trained since the
 * step opened. `latched` (the first 'met' the page saw) wins: a step that fired keeps the numbers it fired on.
 */
export function stepState(condition: Condition | undefined, state: RunState | null, elapsedS: number, timeoutS: number, latched?: string | null): StepState {
  if (!condition) return { kind: 'free' };
  if (latched) return { kind: 'met', live: latched };
  if (!state) return { kind: 'waiting', live: 'the experiment is loading', elapsedS, timeoutS };
  const r = evaluateCondition(condition, state);
  if (r.met) return { kind: 'met', live: r.live };
  if (!r.checkable) return { kind: 'not-met', live: r.live, why: 'uncheckable', elapsedS, timeoutS };
  // The training seconds count only while the run trains: past the timeout, the time ran out before the run ended.
  if (elapsedS >= timeoutS) return { kind: 'not-met', live: r.live, why: 'timeout', elapsedS, timeoutS };
  if (state.status === 'done' || state.status === 'error') return { kind: 'not-met', live: r.live, why: 'run-ended', elapsedS, timeoutS };
  return { kind: 'waiting', live: r.live, elapsedS, timeoutS };
}
