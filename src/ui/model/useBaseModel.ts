import { useCallback, useEffect, useState } from 'react';
import type { WorkerClient } from '../../worker/client';
import type { ModelInfo } from '../../worker/protocol-views';

export type BaseModelState =
  | { status: 'loading'; done: number; total: number; message: string }
  | { status: 'ready'; info: ModelInfo }
  | { status: 'failed'; message: string };

/** Asks the worker to load the base model (once; it caches) and follows its progress events. */
export function useBaseModel(client: WorkerClient): { state: BaseModelState; retry: () => void } {
  const [state, setState] = useState<BaseModelState>({ status: 'loading', done: 0, total: 0, message: 'starting' });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let alive = true;
    setState({ status: 'loading', done: 0, total: 0, message: 'starting' });
    const off = client.onEvent((e) => {
      if (e.type === 'progress' && e.stage === 'model' && alive) {
        setState((s) => (s.status === 'loading' ? { status: 'loading', done: e.done, total: e.total, message: e.message ?? '' } : s));
      }
    });
    client
      .call({ type: 'model:load' })
      .then((info) => alive && setState({ status: 'ready', info }))
      .catch((e: Error) => alive && setState({ status: 'failed', message: e.message }))
      .finally(off);
    return () => {
      alive = false;
      off();
    };
  }, [client, attempt]);
  const retry = useCallback(() => setAttempt((a) => a + 1), []);
  return { state, retry };
}
