import { useEffect, useState } from 'react';
import { WorkerClient } from '../worker/client';
import type { BackendReport, BackendRequest } from '../worker/protocol';

export type WorkerState =
  | { status: 'starting' }
  | { status: 'ready'; client: WorkerClient; report: BackendReport }
  | { status: 'failed'; message: string };

/** Starts the training worker once and initialises tfjs in it on the requested backend. */
export function useWorker(request: BackendRequest): WorkerState {
  const [state, setState] = useState<WorkerState>({ status: 'starting' });
  useEffect(() => {
    const client = WorkerClient.create();
    let alive = true;
    client
      .call({ type: 'init', backend: request })
      .then((report) => alive && setState({ status: 'ready', client, report }))
      .catch((e: Error) => alive && setState({ status: 'failed', message: e.message }));
    return () => {
      alive = false;
      client.terminate();
    };
  }, [request]);
  return state;
}
