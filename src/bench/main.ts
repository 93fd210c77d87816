/** The benchmark page: `bench.html?backend=webgpu&batch=8[&threads=2&seppo=16]`; the result lands in `window.__bench`. */
const params = new URLSearchParams(location.search);
const backend = params.get('backend') ?? 'webgpu';
const batch = Number(params.get('batch') ?? 8);
const runs = Number(params.get('runs') ?? 5);
const warmup = Number(params.get('warmup') ?? 2);
const threads = params.get('threads') ? Number(params.get('threads')) : undefined;
const seppoBatch = params.get('seppo') ? Number(params.get('seppo')) : undefined;
const out = document.getElementById('out')!;
const w = new Worker(new URL('./bench.worker.ts', import.meta.url), { type: 'module' });
w.onmessage = (ev) => {
  (window as unknown as { __bench: unknown }).__bench = ev.data;
  out.textContent = JSON.stringify(ev.data, null, 2);
};
w.onerror = (ev) => {
  (window as unknown as { __bench: unknown }).__bench = { ok: false, error: ev.message || 'worker failed' };
};
w.postMessage({ backend, batch, runs, warmup, threads, seppoBatch });
