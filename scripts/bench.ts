/**
 * `npm run bench [-- --batch 8 --runs 5 --backends webgpu,webgl,wasm,cpu --timeout 300 --node]`
 * `npm run bench -- --profile [--batch 8 --update-batch 16 --runs 5 --warmup 2 --top 15]`
 *
 * For each backend, in headless Chromium (WebGPU on its adapter, software where there is no GPU):
 * the median time of one UNet forward pass and one training step at the batch size, after
 * warm-up, with FLOP/s from the convolution and matrix kernels tfjs ran. `--node` adds a row for
 * Node's WASM backend (the pretraining path). Prints a Markdown table.
 *
 * `--profile` (issue 14, "Profile first") instead profiles, in Node's WASM backend with the shipped
 * model (public/models/base): one UNet training step at `--batch` (top kernels, split forward /
 * backward / optimizer) and one full SePPO update at `--update-batch` (its phases, then its top
 * kernels by phase): src/core/profile.ts. `--top` kernels per table. `--backends`, `--node` and
 * `--timeout` do not apply (no browser is started). Prints Markdown; about half a minute.
 *
 * `npm run bench -- --threads 2,1 [--seppo 16 --rounds 3 --runs 5]` (issue 14, "Use the cores") times only
 * WASM in Chromium (the dev server sends COOP/COEP, so the page is cross-origin isolated), once per
 * thread-pool size per round, alternating, each in a fresh page: the training step and, with
 * `--seppo B`, a full SePPO update at batch B on the shipped base, reference sampling included.
 *
 * `npm run bench -- --torch [--batch 8 --runs 10 --warmup 2 --rounds 5]` (issue 14, "An anchor in the
 * bench") instead times the same UNet in Node's WASM backend and in PyTorch eager on the same CPU
 * (scripts/torch_unet.py, one thread), interleaved round by round, and prints the tfjs / torch ratios.
 * It needs `python3` with `torch` (Debian's `python3-torch`); `TORCH_PYTHON=/path/to/python3` picks
 * the interpreter, otherwise `python3` then `/usr/bin/python3` are tried. Without torch it says so
 * plainly and exits 0. Never a requirement of the tests or CI. `--ab fast-sum` (or `fast-slice`, `flat-adam`, `channel-groupnorm`, or several joined by `+`) also times tfjs with that
 * replacement (a WASM kernel, or the flat Adam) on and off, step by step alternating, in every round (before/after in one process).
 */
import { parseArgs } from 'node:util';
import { createServer } from 'vite';
import { chromium } from '@playwright/test';
import { chromiumLaunchOptions } from './chromium';
import { BACKENDS, isBackendName } from '../src/core/backendNames';

type WasmInfo = { threads: number; isolated: boolean; threadedBinary: boolean; cores: number; poolAfter?: number };
type SeppoInfo = { batch: number; updateMs: number; phases: { phase: string; ms: number }[]; runs: number };
type Row = { backend: string; where: string; ok: boolean; error?: string; r?: import('../src/core/bench').BenchResult; wasm?: WasmInfo; seppo?: SeppoInfo; asked?: number };

const { values } = parseArgs({
  options: {
    batch: { type: 'string', default: '8' },
    runs: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    backends: { type: 'string', default: BACKENDS.join(',') },
    timeout: { type: 'string', default: '300' },
    node: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'update-batch': { type: 'string', default: '16' },
    top: { type: 'string', default: '15' },
    torch: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '5' },
    ab: { type: 'string' },
    threads: { type: 'string' },
    seppo: { type: 'string' },
  },
});

function fail(msg: string): never {
  console.error(`bench: ${msg}`);
  process.exit(2);
}
const batch = Number(values.batch), runs = Number(values.runs), warmup = Number(values.warmup), timeoutS = Number(values.timeout);
const updateBatch = Number(values['update-batch']), top = Number(values.top), rounds = Number(values.rounds);
for (const [k, v] of Object.entries({ batch, runs, warmup, timeout: timeoutS, 'update-batch': updateBatch, top, rounds })) {
  if (!Number.isInteger(v) || v < (k === 'warmup' ? 0 : 1)) fail(`--${k} must be a positive integer, got ${JSON.stringify(values[k as keyof typeof values])}`);
}
const backends = values.backends!.split(',').map((s) => s.trim());
for (const b of backends) if (!isBackendName(b)) fail(`unknown backend "${b}" in --backends; allowed: ${BACKENDS.join(', ')}`);

/** `--profile`: the training step's and the SePPO update's per-kernel profiles, in Node's WASM backend. */
async function profileMain() {
  const { readFile } = await import('node:fs/promises');
  const path = await import('node:path');
  const os = await import('node:os');
  const tf = await import('@tensorflow/tfjs');
  const { initNodeBackend } = await import('../src/core/backend');
  const { loadReducedSD } = await import('../src/core/model/checkpoint');
  const { countParams, disposeReducedSD } = await import('../src/core/model/sd');
  const { profileTrainStep, profileSeppoUpdate } = await import('../src/core/profile');
  const { kernelTableMarkdown, phaseTableMarkdown, phaseTotals } = await import('../src/core/profileTables');
  await initNodeBackend('wasm');
  const dir = path.resolve('public/models/base');
  const configJson = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8'));
  const bytes = new Uint8Array(await readFile(path.join(dir, 'model.safetensors')));
  const load = (prefix: string) => loadReducedSD(bytes, configJson, prefix);
  const ms = (x: number) => x.toFixed(1);
  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const scopeNote = (a: import('../src/core/profileTables').KernelAggregate) =>
    a.rows.length ? `tf.customGrad scopes listed by tfjs with their inner kernels' time (not counted again above): ${a.rows.map((r) => `'${r.name}' ${r.count}× ${ms(r.ms)} ms`).join(', ')}.` : '';
  const load1 = os.loadavg()[0];
  console.log(`Profile: tfjs ${tf.version.tfjs} ${tf.getBackend()} in Node ${process.version} (single-threaded), ${os.cpus().length} CPUs, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' / ')} at the start, ${new Date().toISOString()}`);
  console.log(`Model: public/models/base (${configJson.createdAt ?? '?'})\n`);

  process.stderr.write(`bench: profiling one training step (batch ${batch})…\n`);
  const m1 = load('prof1');
  try {
    const p = await profileTrainStep(m1, { batch, warmup, runs, profiledRuns: 3 });
    const k = p.kernels;
    const ph = Object.fromEntries(phaseTotals(k).map((x) => [x.phase, x.ms]));
    console.log(`### One UNet training step: batch ${batch}, UNet ${countParams(m1.unet).toLocaleString('en-US')} parameters (forward + backward + Adam)\n`);
    console.log(
      `Unprofiled, median of ${p.runs} after ${warmup} warm-up: forward ${ms(p.forwardMs)} ms, training step ${ms(p.stepMs)} ms. ` +
        `Profiled (mean of ${k.runs}): ${ms(p.profiledWallMs)} ms wall, of which kernels ${ms(k.totalMs)} ms (${pct(k.totalMs / p.profiledWallMs)}; the rest is tfjs's engine and JS between kernels); ` +
        `forward ${ms(ph.forward ?? 0)} ms, backward ${ms(ph.backward ?? 0)} ms (${((ph.backward ?? 0) / (ph.forward || 1)).toFixed(2)}× the forward), Adam ${ms(ph.optimizer ?? 0)} ms.\n`,
    );
    console.log(kernelTableMarkdown(k, { top, phases: ['forward', 'backward', 'optimizer'] }));
    const note = scopeNote(p.scopes);
    if (note) console.log(`\n${note}`);
  } finally {
    disposeReducedSD(m1);
  }

  process.stderr.write(`bench: profiling SePPO updates (batch ${updateBatch})…\n`);
  const m2 = load('prof2');
  try {
    const p = await profileSeppoUpdate(m2, { batch: updateBatch, warmup: 1, runs: 3 });
    console.log(`\n### One SePPO update: SePPOʷ, batch ${p.batch} (${2 * p.batch} through the UNet), reference sampling DDIM ${p.refSteps} steps with guidance ${p.refGuidance}, fresh every update\n`);
    console.log(`Phases summed over ${p.runs} updates after 1 warm-up (the update timer, unprofiled); mean update ${ms(p.updateMs)} ms.\n`);
    console.log(phaseTableMarkdown(p.phases, p.runs));
    const k = p.kernels;
    console.log(`\nOne profiled update: ${ms(p.profiledWallMs)} ms wall, kernels ${ms(k.totalMs)} ms (${pct(k.totalMs / p.profiledWallMs)}).\n`);
    console.log(kernelTableMarkdown(k, { top, phases: k.phases.filter((x) => ['reference sampling', 'reference forward', 'policy forward', 'policy backward', 'optimizer'].includes(x)) }));
    const note = scopeNote(p.scopes);
    if (note) console.log(`\n${note}`);
  } finally {
    disposeReducedSD(m2);
  }
  console.log(`\nLoad average ${load1.toFixed(2)} → ${os.loadavg()[0].toFixed(2)} (1 min) over the run.`);
}

/** A child process speaking one JSON line per message; `next()` resolves with its next stdout line (undefined at its end). */
async function spawnLines(cmd: string, args: string[]) {
  const { spawn } = await import('node:child_process');
  const { createInterface } = await import('node:readline');
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += String(d)));
  const lines: string[] = [];
  const waiting: ((l: string | undefined) => void)[] = [];
  let ended = false;
  const rl = createInterface({ input: child.stdout });
  rl.on('line', (l) => (waiting.length ? waiting.shift()!(l) : lines.push(l)));
  const end = () => {
    ended = true;
    while (waiting.length) waiting.shift()!(undefined);
  };
  rl.on('close', end);
  child.on('error', (e) => {
    stderr += String(e);
    end();
  });
  return {
    send: (o: unknown) => child.stdin.write(JSON.stringify(o) + '\n'),
    next: () => (lines.length ? Promise.resolve(lines.shift()) : ended ? Promise.resolve(undefined) : new Promise<string | undefined>((r) => waiting.push(r))),
    stderr: () => stderr.trim(),
    close: () => {
      child.stdin.end();
    },
  };
}

/** `--torch`: the same UNet in Node's WASM backend and in PyTorch eager, interleaved, with the ratios. */
async function torchMain() {
  const os = await import('node:os');
  const path = await import('node:path');
  const tf = await import('@tensorflow/tfjs');
  const { initNodeBackend, setWasmFastSlice, setWasmFastSum, wasmFastSliceEnabled, wasmFastSumEnabled } = await import('../src/core/backend');
  const { setFlatAdam, flatAdamEnabled } = await import('../src/core/optim');
  const { setGroupNormPerChannel, groupNormPerChannelEnabled } = await import('../src/core/model/layers');
  const toggles: Record<string, { set: (on: boolean) => void; get: () => boolean }> = {
    'fast-sum': { set: setWasmFastSum, get: wasmFastSumEnabled },
    'fast-slice': { set: setWasmFastSlice, get: wasmFastSliceEnabled },
    'flat-adam': { set: setFlatAdam, get: flatAdamEnabled },
    'channel-groupnorm': { set: setGroupNormPerChannel, get: groupNormPerChannelEnabled },
  };
  // `--ab a+b` switches several together (e.g. this session's changes against the state before them).
  const without = values.ab;
  const abNames = without === undefined ? [] : without.split('+');
  for (const n of abNames) if (!toggles[n]) fail(`--ab takes one of ${Object.keys(toggles).join(', ')} (or several joined by +), got "${n}"`);
  if (new Set(abNames.map((n) => toggles[n].get())).size > 1) fail(`--ab ${without}: these are not all on (or all off) by default; time them one by one`);
  const abToggle = { set: (on: boolean) => abNames.forEach((n) => toggles[n].set(on)) };
  const byDefault = abNames.length > 0 && toggles[abNames[0]].get();
  const { createUNetBench } = await import('../src/core/bench');
  const { MAX_TOKENS } = await import('../src/core/world');
  const { unetArchDescription, parseTorchReady, parseTorchTiming, pairedTableMarkdown, pairedRatios } = await import('../src/core/torchBench');
  await initNodeBackend('wasm');
  const b = createUNetBench({ batch });
  try {
    const desc = unetArchDescription(b.model.unet, b.model.config.unet, { batch, ctxLen: MAX_TOKENS, threads: 1 });
    const script = path.resolve('scripts/torch_unet.py');
    const candidates = process.env.TORCH_PYTHON ? [process.env.TORCH_PYTHON] : ['python3', '/usr/bin/python3'];
    const tried: string[] = [];
    let py: Awaited<ReturnType<typeof spawnLines>> | null = null;
    let ready: import('../src/core/torchBench').TorchReady | null = null;
    for (const exe of candidates) {
      const p = await spawnLines(exe, [script]);
      p.send(desc);
      const r = parseTorchReady(await p.next());
      if (r.ready) {
        py = p;
        ready = r;
        break;
      }
      tried.push(`${exe}: ${r.error}${p.stderr() ? ` (${p.stderr().split('\n').slice(-1)[0]})` : ''}`);
      p.close();
    }
    if (!py || !ready) {
      console.log(`PyTorch anchor: not run — no Python with torch found. Tried ${tried.join('; ')}.`);
      console.log('Install it for yourself with `apt-get install -y python3-torch` (Debian, PyTorch 1.13 CPU) or point TORCH_PYTHON at an interpreter that has torch. It is never needed by the tests or CI.');
      return;
    }
    if (ready.params !== desc.paramCount) throw new Error(`torch model has ${ready.params} parameters, tfjs ${desc.paramCount}`);
    const load0 = os.loadavg();
    console.log(
      `PyTorch anchor: tfjs ${tf.version.tfjs} ${tf.getBackend()} in Node ${process.version} (single-threaded) against PyTorch ${ready.torch} eager (Python ${ready.python}, ${ready.executable}, ${ready.threads} thread), ` +
        `the same UNet (${desc.paramCount.toLocaleString('en-US')} parameters in both, ${desc.params.length} tensors, names and shapes checked), batch ${batch}; ` +
        `each figure the median of ${runs} after ${warmup} warm-up; ${rounds} rounds, tfjs and torch back to back in each (order alternating); ` +
        `${os.cpus().length} CPUs, load average ${load0.map((x) => x.toFixed(2)).join(' / ')} at the start, ${new Date().toISOString()}\n`,
    );
    {
      // The same UNet, numerically: torch's forward with tfjs's initial weights and inputs against tfjs's ε̂.
      const { checkFilePayload, parseTorchCheck } = await import('../src/core/torchBench');
      const { writeFile, rm } = await import('node:fs/promises');
      const { z, t, ctx } = b.inputs;
      // biases and norm scales start at 0 and 1: move every parameter a little first, so that each one's role is checked
      Object.values(b.model.unet).forEach((v, i) => v.assign(tf.tidy(() => tf.add(v, tf.randomNormal(v.shape, 0, 0.05, 'float32', 1000 + i)))));
      const y = b.forward();
      const payload = checkFilePayload(
        Object.values(b.model.unet).map((v) => v.dataSync() as Float32Array),
        z.dataSync() as Float32Array,
        t.dataSync() as Float32Array,
        ctx.dataSync() as Float32Array,
        y.dataSync() as Float32Array,
      );
      y.dispose();
      const file = path.join(os.tmpdir(), `torch-check-${process.pid}.f32`);
      await writeFile(file, new Uint8Array(payload.buffer));
      py.send({ cmd: 'check', file });
      const c = parseTorchCheck(await py.next());
      await rm(file, { force: true });
      console.log(`Same UNet check (every parameter moved by N(0, 0.05²) from its initial value first): torch's ε̂ with tfjs's weights and inputs differs from tfjs's by at most ${c.maxAbsDiff.toExponential(2)} (largest |ε̂| ${c.maxAbs.toFixed(3)}).\n`);
    }
    const torchTime = async (what: 'forward' | 'train') => {
      py!.send({ cmd: 'time', what, warmup, runs });
      return parseTorchTiming(await py!.next(), what).median;
    };
    const rows: import('../src/core/torchBench').PairedRound[] = [];
    const abRows: { f: { on: number[]; off: number[] }; tr: { on: number[]; off: number[] } }[] = [];
    for (let i = 0; i < rounds; i++) {
      process.stderr.write(`bench: round ${i + 1}/${rounds}…\n`);
      const tfjsFirst = i % 2 === 0;
      const pair = async (what: 'forward' | 'train') => {
        if (tfjsFirst) {
          const a = await b.time(what, warmup, runs);
          return [a, await torchTime(what)];
        }
        const c = await torchTime(what);
        return [await b.time(what, warmup, runs), c];
      };
      const [tfjsForwardMs, torchForwardMs] = await pair('forward');
      const [tfjsTrainMs, torchTrainMs] = await pair('train');
      rows.push({ tfjsForwardMs, torchForwardMs, tfjsTrainMs, torchTrainMs });
      if (without) {
        // step by step, alternating with / without, so that the machine's load drifts out of the ratio
        const one = async (what: 'forward' | 'train', on: boolean) => {
          abToggle.set(on);
          try {
            return await b.time(what, 0, 1);
          } finally {
            abToggle.set(byDefault);
          }
        };
        const ab = async (what: 'forward' | 'train') => {
          for (let k = 0; k < warmup; k++) await one(what, k % 2 === 0), await one(what, k % 2 !== 0);
          const on: number[] = [], off: number[] = [];
          for (let k = 0; k < runs; k++) {
            if (k % 2 === 0) on.push(await one(what, true)), off.push(await one(what, false));
            else off.push(await one(what, false)), on.push(await one(what, true));
          }
          return { on, off };
        };
        const f = await ab('forward'), tr = await ab('train');
        abRows.push({ f, tr });
      }
    }
    py.send({ cmd: 'quit' });
    py.close();
    console.log(pairedTableMarkdown(rows, 'tfjs wasm'));
    const r = pairedRatios(rows);
    console.log(
      `\ntfjs WASM / PyTorch: training step ${r.train.median.toFixed(2)}× (rounds ${r.train.min.toFixed(2)}–${r.train.max.toFixed(2)}×), forward ${r.forward.median.toFixed(2)}× (${r.forward.min.toFixed(2)}–${r.forward.max.toFixed(2)}×). ` +
        `Load average ${load0[0].toFixed(2)} → ${os.loadavg()[0].toFixed(2)} (1 min) over the run.`,
    );
    if (without) {
      const med = (xs: number[]) => [...xs].sort((a, c) => a - c)[Math.floor(xs.length / 2)];
      const pr = (x: { on: number[]; off: number[] }) => med(x.off.map((o, k) => o / x.on[k]));
      console.log(`\nOn/off \`${without}\` (${byDefault ? 'on' : 'off'} by default; the table above ran with the default): tfjs WASM alone, one step with it and one without, alternating, ${runs} pairs a round after ${warmup} warm-up pairs; ratio = off / on per pair, median (> 1: it helps); min = the fastest step, the least disturbed by the load:\n`);
      console.log(`| round | forward on (median / min ms) | off | ratio | train step on (median / min ms) | off | ratio |`);
      console.log('|---:|---:|---:|---:|---:|---:|---:|');
      const f1 = (x: number[]) => `${med(x).toFixed(1)} / ${Math.min(...x).toFixed(1)}`;
      abRows.forEach((r, i) => console.log(`| ${i + 1} | ${f1(r.f.on)} | ${f1(r.f.off)} | ${pr(r.f).toFixed(2)}× | ${f1(r.tr.on)} | ${f1(r.tr.off)} | ${pr(r.tr).toFixed(2)}× |`));
      const all = (k: 'f' | 'tr') => ({ on: abRows.flatMap((r) => r[k].on), off: abRows.flatMap((r) => r[k].off) });
      console.log(`| **all** | ${f1(all('f').on)} | ${f1(all('f').off)} | **${pr(all('f')).toFixed(2)}×** | ${f1(all('tr').on)} | ${f1(all('tr').off)} | **${pr(all('tr')).toFixed(2)}×** |`);
    }
  } finally {
    b.dispose();
  }
}

async function main() {
  if (values.profile) return profileMain();
  if (values.torch) return torchMain();
  const rows: Row[] = [];
  const server = await createServer({ server: { port: 0, host: 'localhost' }, logLevel: 'error' });
  await server.listen();
  const url = server.resolvedUrls!.local[0];
  const threadList = values.threads?.split(',').map((x) => Number(x.trim()));
  if (threadList && !threadList.every((n) => Number.isInteger(n) && n >= 1 && n <= 64)) fail(`--threads takes pool sizes like 2,1, got "${values.threads}"`);
  const seppoBatch = values.seppo ? Number(values.seppo) : undefined;
  if (seppoBatch !== undefined && !(Number.isInteger(seppoBatch) && seppoBatch >= 1)) fail(`--seppo takes a batch size, got "${values.seppo}"`);
  if (threadList) {
    const os = await import('node:os');
    const load0 = os.loadavg();
    try {
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? threadList : [...threadList].reverse();
        for (const t of order) {
          const browser = await chromium.launch(chromiumLaunchOptions(true));
          try {
            const page = await browser.newPage();
            await page.goto(`${url}bench.html?backend=wasm&batch=${batch}&runs=${runs}&warmup=${warmup}&threads=${t}${seppoBatch ? `&seppo=${seppoBatch}` : ''}`);
            process.stderr.write(`bench: round ${round + 1}/${rounds}, wasm with ${t} thread(s)…\n`);
            await page.waitForFunction(() => (window as unknown as { __bench?: unknown }).__bench !== undefined, null, { timeout: timeoutS * 1000 });
            const res = (await page.evaluate(() => (window as unknown as { __bench: unknown }).__bench)) as { ok: boolean; error?: string; result?: Row['r']; wasm?: WasmInfo; seppo?: SeppoInfo };
            rows.push({ backend: 'wasm', where: `chromium, round ${round + 1}`, ok: res.ok, error: res.error, r: res.result, wasm: res.wasm, seppo: res.seppo, asked: t });
          } catch (e) {
            rows.push({ backend: 'wasm', where: `chromium, round ${round + 1}`, ok: false, error: e instanceof Error ? e.message.split('\n')[0] : String(e), asked: t });
          } finally {
            await browser.close();
          }
        }
      }
    } finally {
      await server.close();
    }
    console.log(`WASM in Chromium by thread pool: UNet batch ${batch}, median of ${runs} after ${warmup} warm-up${seppoBatch ? `; SePPOʷ update at batch ${seppoBatch} (reference sampling included), mean of up to 3 after 1 warm-up` : ''}; ${os.cpus().length} CPUs, load average ${load0.map((x) => x.toFixed(2)).join(' / ')} at the start, ${new Date().toISOString()}\n`);
    console.log('| round | threads asked | pool (getThreadsCount) | isolated | threaded binary | forward (ms) | train step (ms) | SePPO update (ms) |');
    console.log('|---|---:|---:|---|---|---:|---:|---:|');
    for (const row of rows) {
      if (!row.ok || !row.r) {
        console.log(`| ${row.where} | ${row.asked} | — | — | — | — | — | failed: ${row.error} |`);
        continue;
      }
      console.log(`| ${row.where.replace('chromium, round ', '')} | ${row.asked} | ${row.wasm?.threads ?? '?'} (after the bench: ${row.wasm?.poolAfter ?? '?'}) | ${row.wasm?.isolated} | ${row.wasm?.threadedBinary} | ${row.r.forwardMs.toFixed(1)} | ${row.r.trainStepMs.toFixed(1)} | ${row.seppo ? row.seppo.updateMs.toFixed(0) : '—'} |`);
    }
    const med = (xs: number[]) => [...xs].sort((a, c) => a - c)[Math.floor(xs.length / 2)];
    const by = (t: number, f: (r: Row) => number | undefined) => rows.filter((r) => r.ok && r.asked === t).map(f).filter((x): x is number => x !== undefined);
    if (threadList.length >= 2) {
      const [a, c] = threadList;
      const sp = (f: (r: Row) => number | undefined) => {
        const xa = by(a, f), xc = by(c, f);
        return xa.length && xc.length ? `${(med(xc) / med(xa)).toFixed(2)}×` : '—';
      };
      console.log(`\nMedian over rounds, ${c} thread(s) / ${a} thread(s) (> 1: ${a} is faster): forward ${sp((r) => r.r?.forwardMs)}, training step ${sp((r) => r.r?.trainStepMs)}${seppoBatch ? `, SePPO update ${sp((r) => r.seppo?.updateMs)}` : ''}. Load average ${load0[0].toFixed(2)} → ${os.loadavg()[0].toFixed(2)} (1 min).`);
    }
    return;
  }
  try {
    for (const backend of backends) {
      const browser = await chromium.launch(chromiumLaunchOptions(true));
      try {
        const page = await browser.newPage();
        const b = backend === 'cpu' ? { runs: Math.min(runs, 2), warmup: Math.min(warmup, 1) } : { runs, warmup };
        await page.goto(`${url}bench.html?backend=${backend}&batch=${batch}&runs=${b.runs}&warmup=${b.warmup}`);
        process.stderr.write(`bench: ${backend} (batch ${batch}, ${b.runs} runs)…\n`);
        await page.waitForFunction(() => (window as unknown as { __bench?: unknown }).__bench !== undefined, null, { timeout: timeoutS * 1000 });
        const res = (await page.evaluate(() => (window as unknown as { __bench: unknown }).__bench)) as { ok: boolean; error?: string; result?: Row['r'] };
        rows.push({ backend, where: 'chromium', ok: res.ok, error: res.error, r: res.result });
      } catch (e) {
        rows.push({ backend, where: 'chromium', ok: false, error: e instanceof Error ? e.message.split('\n')[0] : String(e) });
      } finally {
        await browser.close();
      }
    }
  } finally {
    await server.close();
  }
  if (values.node) {
    const { initNodeBackend } = await import('../src/core/backend');
    const { benchUNet } = await import('../src/core/bench');
    await initNodeBackend('wasm');
    process.stderr.write('bench: node wasm…\n');
    rows.push({ backend: 'wasm', where: 'node', ok: true, r: await benchUNet({ batch, runs, warmup }) });
  }
  const params = rows.find((r) => r.r)?.r?.unetParams;
  console.log(`UNet ${params ?? '?'} parameters, batch ${batch}, median of ${runs} runs after ${warmup} warm-up (cpu: ≤2 runs)\n`);
  console.log('| backend | where | forward (ms) | train step (ms) | forward GFLOP/s | train GFLOP/s |');
  console.log('|---|---|---|---|---|---|');
  for (const row of rows) {
    if (!row.ok || !row.r) {
      console.log(`| ${row.backend} | ${row.where} | — | — | — | failed: ${row.error} |`);
      continue;
    }
    const r = row.r;
    console.log(
      `| ${r.backend} | ${row.where} | ${r.forwardMs.toFixed(1)} | ${r.trainStepMs.toFixed(1)} | ${(r.forwardGflop / (r.forwardMs / 1000)).toFixed(2)} | ${(r.trainGflop / (r.trainStepMs / 1000)).toFixed(2)} |`,
    );
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
