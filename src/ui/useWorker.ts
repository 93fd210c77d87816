import { useEffect, useState } from 'react';
import { WorkerClient } from '../worker/client';
import type { BackendReport, BackendRequest } from '../worker/protocol';

export type WorkerState =
  | { status: 'starting'; lost?: DeviceLoss }
  | { status: 'ready'; client: WorkerClient; report: BackendReport; lost?: DeviceLoss }
  | { status: 'failed'; message: string; lost?: DeviceLoss };

/** The last WebGPU device loss the page recovered from. */
export interface DeviceLoss {
  reason: string;
  message: string;
  at: number;
  /** How many losses this page has recovered from. */
  count: number;
}

/**
 * Starts the training worker and initialises tfjs in it on the requested backend. When the
 * worker's WebGPU device is lost (driver reset, GPU crash), every later op there fails: the
 * worker is replaced by a fresh one (a new device), and the views remount on it, which resumes
 * the experiment from its last save.
 */
export function useWorker(request: BackendRequest, threads?: number): WorkerState {
  const [generation, setGeneration] = useState(0);
  const [lost, setLost] = useState<DeviceLoss | undefined>(undefined);
  const [state, setState] = useState<WorkerState>({ status: 'starting' });
  useEffect(() => {
    const client = WorkerClient.create();
    let alive = true;
    const off = client.onEvent((e) => {
      if (e.type !== 'device-lost' || !alive) return;
      alive = false;
      setLost((l) => ({ reason: e.reason, message: e.message, at: Date.now(), count: (l?.count ?? 0) + 1 }));
      setState({ status: 'starting' });
      setGeneration((g) => g + 1);
    });
    client
      .call({ type: 'init', backend: request, ...(threads ? { threads } : {}) })
      .then((report) => alive && setState({ status: 'ready', client, report }))
      .catch((e: Error) => alive && setState({ status: 'failed', message: e.message }));
    return () => {
      alive = false;
      off();
      client.terminate();
    };
  }, [request, threads, generation]);
  return lost ? ({ ...state, lost } as WorkerState) : state;
}
