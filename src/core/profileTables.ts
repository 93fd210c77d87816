/**
 * The bench's profile as plain data (no tfjs): kernel records labelled by phase, aggregated into
 * rows by kernel name, and the two Markdown tables `npm run bench -- --profile` prints (profile.ts
 * collects the records).
 */

/** One kernel invocation: its tfjs kernel name, its time (ms) and the phase it ran in (e.g. 'forward'). */
export interface KernelRecord {
  name: string;
  ms: number;
  phase: string;
}

/** A phase boundary: the phase that ends once `end` kernels have been recorded (the kernel count at that moment). */
export interface PhaseMark {
  phase: string;
  end: number;
}

/** The phase of the i-th kernel (0-based): the first mark whose `end` is above i, else `rest`. */
export function phaseOfIndex(i: number, marks: readonly PhaseMark[], rest = 'other'): string {
  for (const m of marks) if (i < m.end) return m.phase;
  return rest;
}

export interface KernelRow {
  name: string;
  /** Invocations per run (total / runs). */
  count: number;
  /** Time per run (ms). */
  ms: number;
  /** Share of all kernels' time, in [0, 1]. */
  share: number;
  /** Time per run by phase (ms), for the phases seen. */
  byPhase: Record<string, number>;
}

export interface KernelAggregate {
  rows: KernelRow[];
  /** All kernels' time per run (ms). */
  totalMs: number;
  /** The phases seen, in first-seen order. */
  phases: string[];
  runs: number;
}

/**
 * Aggregates the records of `runs` identical runs into one row per kernel name, per run (count and
 * ms divided by `runs`), sorted by time (descending; ties by name).
 */
export function aggregateKernels(records: readonly KernelRecord[], runs = 1): KernelAggregate {
  if (!(runs >= 1)) throw new Error(`aggregateKernels: runs must be ≥ 1, got ${runs}`);
  const by = new Map<string, { count: number; ms: number; byPhase: Record<string, number> }>();
  const phases: string[] = [];
  let total = 0;
  for (const r of records) {
    let e = by.get(r.name);
    if (!e) by.set(r.name, (e = { count: 0, ms: 0, byPhase: {} }));
    e.count++;
    e.ms += r.ms;
    e.byPhase[r.phase] = (e.byPhase[r.phase] ?? 0) + r.ms;
    if (!phases.includes(r.phase)) phases.push(r.phase);
    total += r.ms;
  }
  const rows = [...by.entries()]
    .map(([name, e]) => ({
      name,
      count: e.count / runs,
      ms: e.ms / runs,
      share: total > 0 ? e.ms / total : 0,
      byPhase: Object.fromEntries(Object.entries(e.byPhase).map(([p, ms]) => [p, ms / runs])),
    }))
    .sort((a, b) => b.ms - a.ms || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { rows, totalMs: total / runs, phases, runs };
}

/** Per-phase time of an aggregate (ms per run), in the aggregate's phase order. */
export function phaseTotals(agg: KernelAggregate): { phase: string; ms: number }[] {
  return agg.phases.map((phase) => ({ phase, ms: agg.rows.reduce((s, r) => s + (r.byPhase[phase] ?? 0), 0) }));
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
const fmtMs = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const fmtCount = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1));

/**
 * The kernel table: the top `top` kernels by time with calls, ms, share and ms per phase (the
 * columns `phases`, default the aggregate's), then one row for the rest and one for the total.
 */
export function kernelTableMarkdown(agg: KernelAggregate, o: { top?: number; phases?: readonly string[] } = {}): string {
  const top = o.top ?? 15;
  const phases = o.phases ?? agg.phases;
  const head = ['kernel', 'calls', 'ms', 'share', ...phases.map((p) => `${p} ms`)];
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const out = [line(head), `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  const cells = (name: string, count: number, ms: number, share: number, byPhase: Record<string, number>) => [
    name,
    fmtCount(count),
    fmtMs(ms),
    pct(share),
    ...phases.map((p) => (byPhase[p] ? fmtMs(byPhase[p]) : '—')),
  ];
  for (const r of agg.rows.slice(0, top)) out.push(line(cells(r.name, r.count, r.ms, r.share, r.byPhase)));
  const rest = agg.rows.slice(top);
  if (rest.length > 0) {
    const byPhase: Record<string, number> = {};
    for (const r of rest) for (const [p, ms] of Object.entries(r.byPhase)) byPhase[p] = (byPhase[p] ?? 0) + ms;
    const ms = rest.reduce((s, r) => s + r.ms, 0);
    out.push(line(cells(`${rest.length} other kernels`, rest.reduce((s, r) => s + r.count, 0), ms, agg.totalMs > 0 ? ms / agg.totalMs : 0, byPhase)));
  }
  const all = Object.fromEntries(phaseTotals(agg).map((p) => [p.phase, p.ms]));
  out.push(line(cells('**all kernels**', agg.rows.reduce((s, r) => s + r.count, 0), agg.totalMs, agg.totalMs > 0 ? 1 : 0, all)));
  return out.join('\n');
}

/** Sums phase events (e.g. from the update timer over several updates) by phase, in `order` (unknown phases after). */
export function sumPhases(events: readonly { phase: string; ms: number }[], order: readonly string[] = []): { phase: string; ms: number }[] {
  const m = new Map<string, number>();
  for (const p of order) m.set(p, 0);
  for (const e of events) m.set(e.phase, (m.get(e.phase) ?? 0) + e.ms);
  return [...m.entries()].filter(([p, ms]) => ms > 0 || events.some((e) => e.phase === p)).map(([phase, ms]) => ({ phase, ms }));
}

/** The phase table: ms per run (total / runs) and share of the phases' sum, then the total. */
export function phaseTableMarkdown(phases: readonly { phase: string; ms: number }[], runs = 1): string {
  const total = phases.reduce((s, p) => s + p.ms, 0);
  const out = ['| phase | ms | share |', '|---|---:|---:|'];
  for (const p of phases) out.push(`| ${p.phase} | ${fmtMs(p.ms / runs)} | ${pct(total > 0 ? p.ms / total : 0)} |`);
  out.push(`| **total** | ${fmtMs(total / runs)} | ${total > 0 ? '100.0 %' : '0.0 %'} |`);
  return out.join('\n');
}
