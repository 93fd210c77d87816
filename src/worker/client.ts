/**
 * The page's side of the worker protocol: `call` sends a request and resolves with its typed
 * reply; `onEvent` subscribes to progress and other unsolicited events.
 */
import type { ReplyMap, RequestBody, WorkerEvent, WorkerMessage, WorkerRequest } from './protocol';

export class WorkerClient {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private listeners = new Set<(e: WorkerEvent) => void>();

  constructor(private readonly worker: Worker) {
    worker.onmessage = (ev: MessageEvent<WorkerMessage>) => this.receive(ev.data);
    worker.onerror = (ev) => {
      const err = new Error(`worker error: ${ev.message || 'failed to load or crashed'}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
  }

  static create(): WorkerClient {
    return new WorkerClient(new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' }));
  }

  call<R extends RequestBody>(body: R): Promise<ReplyMap[R['type']]> {
    const id = this.nextId++;
    return new Promise<ReplyMap[R['type']]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...body, id } as WorkerRequest);
    });
  }

  onEvent(listener: (e: WorkerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  terminate() {
    this.worker.terminate();
  }

  private receive(msg: WorkerMessage) {
    if (msg.type === 'reply' || msg.type === 'error') {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.type === 'reply') p.resolve(msg.result);
      else p.reject(new Error(msg.message));
      return;
    }
    for (const l of this.listeners) l(msg);
  }
}
