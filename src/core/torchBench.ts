/**
 * The PyTorch anchor of the bench (issue 14, `npm run bench -- --torch`): what the bench hands to
 * `scripts/torch_unet.py` (the UNet's architecture, from the tfjs model itself) and how it reads
 * the answers. No torch, no Python and no process here: scripts/bench.ts does the spawning, so
 * this part is testable anywhere.
 */
import type { Params, UNetConfig } from './model/sd';

export interface UNetArchDescription {
  /** The UNet config the Python side rebuilds the model from. */
  config: UNetConfig;
  /** Every parameter, name without the model prefix (`down0/res/conv1/w`), shape in tfjs's layout. */
  params: { name: string; shape: number[] }[];
  paramCount: number;
  batch: number;
  /** Text context length (tokens) and the PyTorch thread count. */
  ctxLen: number;
  threads: number;
  seed: number;
}

/** The architecture of a UNet parameter map (names stripped of everything up to and including `…/unet/`). */
export function unetArchDescription(unet: Params, config: UNetConfig, opts: { batch: number; ctxLen: number; threads?: number; seed?: number }): UNetArchDescription {
  const params = Object.entries(unet).map(([full, v]) => {
    const i = full.indexOf('/unet/');
    if (i < 0) throw new Error(`unetArchDescription: parameter ${full} is not under …/unet/`);
    return { name: full.slice(i + '/unet/'.length), shape: [...v.shape] };
  });
  const paramCount = params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
  return { config: { ...config, channels: [...config.channels] }, params, paramCount, batch: opts.batch, ctxLen: opts.ctxLen, threads: opts.threads ?? 1, seed: opts.seed ?? 0 };
}

export type TorchReady = { ready: true; torch: string; python: string; executable: string; threads: number; params: number; batch: number };
export type TorchTiming = { ok: true; what: 'forward' | 'train'; ms: number[]; median: number };

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/**
 * The first line torch_unet.py prints: the handshake, or the reason it cannot run (torch absent,
 * architecture mismatch). Anything else — no line, not JSON — is an error with the line quoted.
 */
export function parseTorchReady(line: string | undefined): TorchReady | { ready: false; error: string } {
  if (line === undefined || line.trim() === '') return { ready: false, error: 'torch_unet.py printed nothing' };
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line);
  } catch {
    return { ready: false, error: `torch_unet.py printed something that is not JSON: ${line.slice(0, 200)}` };
  }
  if (o.ready === false) return { ready: false, error: String(o.error ?? 'unknown error') };
  if (o.ready !== true || typeof o.torch !== 'string' || !isNum(o.threads) || !isNum(o.params) || !isNum(o.batch)) {
    return { ready: false, error: `unexpected handshake from torch_unet.py: ${line.slice(0, 200)}` };
  }
  return o as unknown as TorchReady;
}

/** One timing answer; throws on an error answer or a malformed line. */
export function parseTorchTiming(line: string | undefined, what: 'forward' | 'train'): TorchTiming {
  if (line === undefined) throw new Error('torch_unet.py ended without answering');
  const o = JSON.parse(line) as Record<string, unknown>;
  if (o.ok !== true) throw new Error(`torch_unet.py: ${String(o.error ?? line)}`);
  if (o.what !== what || !Array.isArray(o.ms) || !o.ms.every(isNum) || !isNum(o.median)) throw new Error(`unexpected timing answer from torch_unet.py: ${line.slice(0, 200)}`);
  return o as unknown as TorchTiming;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export interface PairedRound {
  tfjsForwardMs: number;
  torchForwardMs: number;
  tfjsTrainMs: number;
  torchTrainMs: number;
}

/** Ratios tfjs / torch per round (each round timed back to back), and their median, min and max. */
export function pairedRatios(rounds: PairedRound[]) {
  if (rounds.length === 0) throw new Error('pairedRatios: no rounds');
  const fwd = rounds.map((r) => r.tfjsForwardMs / r.torchForwardMs);
  const train = rounds.map((r) => r.tfjsTrainMs / r.torchTrainMs);
  const stat = (xs: number[]) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs), each: xs });
  return { forward: stat(fwd), train: stat(train) };
}

/** The Markdown table of the paired rounds, one row per round and a median row. */
export function pairedTableMarkdown(rounds: PairedRound[], label = 'tfjs wasm'): string {
  const r = pairedRatios(rounds);
  const f1 = (x: number) => x.toFixed(1);
  const f2 = (x: number) => `${x.toFixed(2)}×`;
  const lines = [
    `| round | ${label} forward (ms) | torch forward (ms) | forward ratio | ${label} train step (ms) | torch train step (ms) | train ratio |`,
    '|---:|---:|---:|---:|---:|---:|---:|',
    ...rounds.map((x, i) => `| ${i + 1} | ${f1(x.tfjsForwardMs)} | ${f1(x.torchForwardMs)} | ${f2(r.forward.each[i])} | ${f1(x.tfjsTrainMs)} | ${f1(x.torchTrainMs)} | ${f2(r.train.each[i])} |`),
    `| **median** | ${f1(median(rounds.map((x) => x.tfjsForwardMs)))} | ${f1(median(rounds.map((x) => x.torchForwardMs)))} | **${f2(r.forward.median)}** | ${f1(median(rounds.map((x) => x.tfjsTrainMs)))} | ${f1(median(rounds.map((x) => x.torchTrainMs)))} | **${f2(r.train.median)}** |`,
  ];
  return lines.join('\n');
}

/** The answer to a `check` request: the torch forward with tfjs's weights against tfjs's ε̂. Throws on an error answer. */
export function parseTorchCheck(line: string | undefined): { maxAbsDiff: number; maxAbs: number } {
  if (line === undefined) throw new Error('torch_unet.py ended without answering');
  const o = JSON.parse(line) as Record<string, unknown>;
  if (o.ok !== true) throw new Error(`torch_unet.py: ${String(o.error ?? line)}`);
  if (o.what !== 'check' || !isNum(o.maxAbsDiff) || !isNum(o.maxAbs)) throw new Error(`unexpected check answer from torch_unet.py: ${line.slice(0, 200)}`);
  return { maxAbsDiff: o.maxAbsDiff, maxAbs: o.maxAbs };
}

/** The check file's contents: every parameter in `desc.params` order, then z, t, ctx and tfjs's output, as float32s. */
export function checkFilePayload(params: Float32Array[], z: Float32Array, t: Float32Array, ctx: Float32Array, out: Float32Array): Float32Array {
  const parts = [...params, z, t, ctx, out];
  const all = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}
