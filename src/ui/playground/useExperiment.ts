/**
 * The experiment hook: the page's one typed view of the worker's run (RunState) and the actions
 * that drive it. Events are folded by the pure reducer in runState.ts; the worker posts plain
 * numbers once per update, so a render per update is cheap and the page never freezes.
 */
import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import type { ExperimentConfig } from '../../core/config';
import type { WorkerClient } from '../../worker/client';
import type { ExpSnapshot, ExpStatus } from '../../worker/protocol-experiment';
import { reduceRun, type RunState } from './runState';

export interface LoadProgress {
  stage: string;
  done: number;
  total: number;
  message?: string;
}

export interface ExperimentApi {
  state: RunState | null;
  /** The last failure of an action (worker error message), cleared by the next action. */
  error: string | null;
  /** Byte-level progress of asset downloads while the run is loading. */
  loadProgress: LoadProgress | null;
  /** The worker's last warning (e.g. the WebGPU device was lost). */
  warning: string | null;
  /** Set while a configure/reset is in flight: the worker's current stage. */
  configuring: { stage: string; fraction: number } | null;
  configure: (config: ExperimentConfig, resume?: boolean) => Promise<ExpSnapshot | null>;
  play: () => Promise<void>;
  pause: () => Promise<void>;
  step: () => Promise<void>;
  reset: () => Promise<void>;
  showImported: (s: ExpSnapshot) => void;
  backToLive: () => Promise<void>;
  /** Cuts the base model's evaluation in flight short (the run then loads without base figures). */
  cutBaseEval: () => Promise<void>;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function useExperiment(client: WorkerClient): ExperimentApi {
  const [state, dispatch] = useReducer(reduceRun, null);
  const [error, setError] = useState<string | null>(null);
  const [loadProgress, setLoadProgress] = useState<LoadProgress | null>(null);
  const [configuring, setConfiguring] = useState<{ stage: string; fraction: number } | null>(null);
  const configuringRef = useRef(false);
  const [warning, setWarning] = useState<string | null>(null);

  useEffect(
    () =>
      client.onEvent((e) => {
        if (e.type === 'progress') {
          setLoadProgress(e.done >= e.total && e.total > 0 ? null : { stage: e.stage, done: e.done, total: e.total, message: e.message });
          return;
        }
        if (e.type === 'log') {
          if (e.level === 'warn') setWarning(e.message);
          return;
        }
        if (e.type === 'exp.saved') setWarning((w) => (w && /^(Not saved|Could not save)/.test(w) ? null : w)); // a save went through again
        if (e.type === 'exp.progress' && configuringRef.current) setConfiguring({ stage: e.stage, fraction: e.fraction });
        if (e.type.startsWith('exp.')) dispatch({ kind: 'event', event: e as never });
      }),
    [client],
  );

  const guard = useCallback(async <T,>(fn: () => Promise<T>): Promise<T | null> => {
    setError(null);
    try {
      return await fn();
    } catch (e) {
      const m = message(e);
      if (!/superseded/.test(m)) setError(m);
      return null;
    }
  }, []);

  const loading = useCallback(async <T,>(fn: () => Promise<T>): Promise<T> => {
    configuringRef.current = true;
    setConfiguring({ stage: 'starting', fraction: 0 });
    try {
      return await fn();
    } finally {
      configuringRef.current = false;
      setConfiguring(null);
      setLoadProgress(null);
    }
  }, []);

  const configure = useCallback(
    (config: ExperimentConfig, resume = false) =>
      guard(() =>
        loading(async () => {
          const snap = await client.call({ type: 'exp.configure', config, resume });
          dispatch({ kind: 'snapshot', snapshot: snap });
          return snap;
        }),
      ),
    [client, guard, loading],
  );

  const simple = useCallback(
    (type: 'exp.play' | 'exp.pause' | 'exp.step') =>
      guard(async () => {
        const r = (await client.call({ type })) as { status: ExpStatus; update: number };
        dispatch({ kind: 'status', status: r.status, update: r.update });
      }).then(() => undefined),
    [client, guard],
  );

  const reset = useCallback(
    () =>
      guard(() =>
        loading(async () => {
          const snap = await client.call({ type: 'exp.reset' });
          dispatch({ kind: 'snapshot', snapshot: snap });
        }),
      ).then(() => undefined),
    [client, guard, loading],
  );

  const backToLive = useCallback(
    () =>
      guard(async () => {
        const snap = await client.call({ type: 'exp.snapshot' });
        if (snap) dispatch({ kind: 'snapshot', snapshot: snap });
        else dispatch({ kind: 'clear' });
      }).then(() => undefined),
    [client, guard],
  );

  return {
    state,
    error,
    loadProgress,
    warning,
    configuring,
    configure,
    play: useCallback(() => simple('exp.play'), [simple]),
    pause: useCallback(() => simple('exp.pause'), [simple]),
    step: useCallback(() => simple('exp.step'), [simple]),
    reset,
    showImported: useCallback((s: ExpSnapshot) => dispatch({ kind: 'snapshot', snapshot: s, source: 'imported' }), []),
    backToLive,
    cutBaseEval: useCallback(
      () =>
        client
          .call({ type: 'exp.cutBaseEval' })
          .then(() => undefined)
          .catch((e: unknown) => setError(message(e))),
      [client],
    ),
  };
}
