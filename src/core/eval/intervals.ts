/**
 * 95 % intervals for paired comparisons (DESIGN §5, "Evaluation with power"). No tfjs, no DOM.
 *
 *   wilson(k, n)          Wilson score interval for a share k/n (k may be fractional: ties ½)
 *   pairedWin(a, b)       win rate of a over b, image by image, with ties counted and stated, Wilson
 *   tInterval(xs)         mean ± t_{0.975, n−1} · sd/√n (Student t; quantile by bisection on the
 *                         regularised incomplete beta function)
 *   pairedDelta(a, b)     mean of a_i − b_i with its paired t-interval
 *   comparePaired(a, b)   both, for every metric key
 *
 * Ties: a win counts 1, a tie ½ (so the share of wins is (wins + ties/2)/n), and the Wilson
 * interval is taken at that share with n = all paired images. The number of ties is reported with
 * every win rate, so a reader can see when ties matter (they do for the Alignment metric, which
 * takes 6 values).
 */

export const Z95 = 1.959963984540054;

/** 95 % (by default) Wilson score interval for `k` successes out of `n` (k may be fractional, 0 ≤ k ≤ n). */
export function wilson(k: number, n: number, z = Z95): [number, number] {
  if (!(n > 0) || !(k >= 0 && k <= n)) throw new Error(`wilson: need 0 ≤ k ≤ n and n > 0, got k ${k}, n ${n}`);
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

// ---------------------------------------------------------------------------------------------
// Student t quantile.

function logGamma(x: number): number {
  // Lanczos (g = 7, n = 9), accurate to ~1e-15 for x > 0.
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (Numerical Recipes' betacf, modified Lentz). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const TINY = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < TINY) d = TINY;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < TINY) d = TINY;
    c = 1 + aa / c;
    if (Math.abs(c) < TINY) c = TINY;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/** Regularised incomplete beta I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const lbt = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x);
  return x < (a + 1) / (a + b + 2) ? (Math.exp(lbt) * betaContinuedFraction(a, b, x)) / a : 1 - (Math.exp(lbt) * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** CDF of Student's t with `df` degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  const x = df / (df + t * t);
  const tail = 0.5 * incompleteBeta(x, df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** Quantile of Student's t: the t with CDF(t) = p (bisection to 1e-12). */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) throw new Error(`studentTQuantile: need 0 < p < 1 and df > 0, got p ${p}, df ${df}`);
  if (p === 0.5) return 0;
  let lo = -1e3;
  let hi = 1e3;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = 0.5 * (lo + hi);
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

export interface MeanInterval {
  n: number;
  mean: number;
  sd: number;
  lo: number;
  hi: number;
}

/** Mean of `xs` with its 95 % Student-t interval (sd with n − 1; n = 1 gives an infinite interval). */
export function tInterval(xs: ArrayLike<number>, level = 0.95): MeanInterval {
  const n = xs.length;
  if (n === 0) throw new Error('tInterval: no values');
  let s = 0;
  for (let i = 0; i < n; i++) s += xs[i];
  const mean = s / n;
  if (n === 1) return { n, mean, sd: NaN, lo: -Infinity, hi: Infinity };
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (xs[i] - mean) ** 2;
  const sd = Math.sqrt(ss / (n - 1));
  const half = studentTQuantile(1 - (1 - level) / 2, n - 1) * (sd / Math.sqrt(n));
  return { n, mean, sd, lo: mean - half, hi: mean + half };
}

export interface WinInterval {
  n: number;
  wins: number;
  ties: number;
  losses: number;
  /** (wins + ties/2) / n. */
  rate: number;
  lo: number;
  hi: number;
}

function checkPaired(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: ${a.length} values vs ${b.length} (the comparison is paired image by image)`);
  if (a.length === 0) throw new Error(`${what}: no values`);
}

/** Win rate of a over b, paired image by image (a tie counts ½), with its 95 % Wilson interval. */
export function pairedWin(a: ArrayLike<number>, b: ArrayLike<number>): WinInterval {
  checkPaired(a, b, 'pairedWin');
  let wins = 0;
  let ties = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] > b[i]) wins++;
    else if (a[i] === b[i]) ties++;
  }
  const n = a.length;
  const k = wins + ties / 2;
  const [lo, hi] = wilson(k, n);
  return { n, wins, ties, losses: n - wins - ties, rate: k / n, lo, hi };
}

/** Mean of a_i − b_i with its paired 95 % t-interval. */
export function pairedDelta(a: ArrayLike<number>, b: ArrayLike<number>): MeanInterval {
  checkPaired(a, b, 'pairedDelta');
  const d = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) d[i] = a[i] - b[i];
  return tInterval(d);
}

export interface PairedComparison {
  win: WinInterval;
  delta: MeanInterval;
}

/** Per-metric paired comparison of two equally long lists of per-image metrics (same prompts, same noise). */
export function comparePaired<K extends string>(a: readonly Record<K, number>[], b: readonly Record<K, number>[], keys: readonly K[]): Record<K, PairedComparison> {
  const out = {} as Record<K, PairedComparison>;
  for (const k of keys) {
    const xa = a.map((r) => r[k]);
    const xb = b.map((r) => r[k]);
    out[k] = { win: pairedWin(xa, xb), delta: pairedDelta(xa, xb) };
  }
  return out;
}

/** Whether two closed intervals overlap. */
export function overlaps(a: { lo: number; hi: number }, b: { lo: number; hi: number }): boolean {
  return a.lo <= b.hi && b.lo <= a.hi;
}

/** Per-image metrics as columns (compact in JSON) and back. */
export type MetricColumns = Record<string, number[]>;

export function toColumns(rows: readonly Record<string, number>[]): MetricColumns {
  const out: MetricColumns = {};
  if (rows.length === 0) return out;
  for (const k of Object.keys(rows[0])) out[k] = rows.map((r) => r[k]);
  return out;
}

export function fromColumns(cols: MetricColumns): Record<string, number>[] {
  const keys = Object.keys(cols);
  if (keys.length === 0) return [];
  const n = cols[keys[0]].length;
  for (const k of keys) if (cols[k].length !== n) throw new Error(`fromColumns: column '${k}' has ${cols[k].length} values, '${keys[0]}' has ${n}`);
  return Array.from({ length: n }, (_, i) => Object.fromEntries(keys.map((k) => [k, cols[k][i]])));
}
