/** Number formatting shared by the Data view's components. */
export const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '—');
export const num = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : '—');
