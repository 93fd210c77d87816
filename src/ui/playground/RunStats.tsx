/**
 * A small readout of what the run costs: the worker's tf.memory() (tensors, bytes), polled every
 * two seconds, and the page's update rate over the last ten seconds. A leak shows as a tensor
 * count that keeps climbing while the run trains.
 */
import { useEffect, useRef, useState } from 'react';
import type { WorkerClient } from '../../worker/client';

export interface WorkerMemory {
  numTensors: number;
  numBytes: number;
}

/** Updates per second from (time ms, update) samples in the last `windowMs`, or null. */
export function updateRate(samples: { t: number; update: number }[], now: number, windowMs = 10_000): number | null {
  const recent = samples.filter((s) => now - s.t <= windowMs);
  if (recent.length < 2) return null;
  const a = recent[0];
  const b = recent[recent.length - 1];
  if (b.t <= a.t) return null;
  return ((b.update - a.update) * 1000) / (b.t - a.t);
}

export function RunStats({ client, update, running }: { client: WorkerClient; update: number; running: boolean }) {
  const [mem, setMem] = useState<WorkerMemory | null>(null);
  const samples = useRef<{ t: number; update: number }[]>([]);
  const [rate, setRate] = useState<number | null>(null);
  useEffect(() => {
    let alive = true;
    const poll = () =>
      client
        .call({ type: 'memory' })
        .then((m) => alive && setMem({ numTensors: m.numTensors, numBytes: m.numBytes }))
        .catch(() => undefined);
    void poll();
    const id = window.setInterval(poll, 2000);
    return () => {
      alive = false;
      window.clearInterval(id);
    };
  }, [client]);
  useEffect(() => {
    const now = performance.now();
    const s = samples.current;
    if (!running) s.length = 0;
    s.push({ t: now, update });
    while (s.length > 2 && now - s[0].t > 10_000) s.shift();
    setRate(running ? updateRate(s, now) : null);
  }, [update, running]);
  return (
    <span className="pg-stats pg-muted" data-testid="pg-stats" title="The worker's tf.memory() and the page's update rate">
      worker <span data-testid="pg-mem-tensors">{mem ? mem.numTensors.toLocaleString('en-US') : '…'}</span> tensors ·{' '}
      <span data-testid="pg-mem-bytes" data-bytes={mem?.numBytes ?? ''}>
        {mem ? `${(mem.numBytes / 1e6).toFixed(1)} MB` : '…'}
      </span>
      {rate !== null && (
        <>
          {' '}
          · <span data-testid="pg-rate">{rate.toFixed(rate >= 10 ? 0 : 1)}</span> updates/s
        </>
      )}
    </span>
  );
}
