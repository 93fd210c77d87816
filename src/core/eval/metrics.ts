/**
 * The five per-image metrics (DESIGN §5), defined once: their type, key list, display names, the
 * mean over a set of images and the paired win rate against the base model. No tfjs and no DOM:
 * the evaluator (evaluate.ts), the trainer's checkpoints, the worker protocol, the report and the
 * page all import them from here.
 *
 *   pickScore    PickScore-mini, 100 × cosine (the paper's PickScore scale)
 *   hps          HPS-mini, the same model trained on rater pool B (the HPSv2 role)
 *   alignment    share of the prompt's 5 attributes right, 0..1 (the ImageReward role)
 *   aesthetic    prompt-free quality 0..10 (the LAION aesthetic role)
 *   trueUtility  U(prompt, image) from the world, 0..1: what the simulated humans want
 */

/** A type alias (not an interface) so it is assignable to `Record<string, number>` (align's Metrics). */
export type ImageMetrics = {
  pickScore: number;
  hps: number;
  alignment: number;
  aesthetic: number;
  trueUtility: number;
};
export type MetricKey = keyof ImageMetrics;
export const METRIC_KEYS = ['pickScore', 'hps', 'alignment', 'aesthetic', 'trueUtility'] as const satisfies readonly MetricKey[];

/** Display names and scales, for tables and charts. */
export const METRIC_INFO: Record<MetricKey, { label: string; paper: string; scale: string }> = {
  pickScore: { label: 'PickScore-mini', paper: 'PickScore', scale: '100 × cosine' },
  hps: { label: 'HPS-mini', paper: 'HPSv2', scale: '100 × cosine' },
  alignment: { label: 'Alignment', paper: 'ImageReward', scale: 'share of 5 attributes, 0–1' },
  aesthetic: { label: 'Aesthetic', paper: 'Aesthetic', scale: '0–10' },
  trueUtility: { label: 'True preference', paper: '—', scale: 'U, 0–1' },
};

/** Mean of each metric over a list (throws on an empty list). */
export function meanMetrics(rows: ImageMetrics[]): ImageMetrics {
  if (rows.length === 0) throw new Error('meanMetrics: no images');
  const m: ImageMetrics = { pickScore: 0, hps: 0, alignment: 0, aesthetic: 0, trueUtility: 0 };
  for (const r of rows) for (const k of METRIC_KEYS) m[k] += r[k];
  for (const k of METRIC_KEYS) m[k] /= rows.length;
  return m;
}

/**
 * Share of prompts where A's image beats the base model's image for the same prompt and noise,
 * by metric `key` (ties count half). 0.5 means no difference.
 */
export function winRate<K extends string>(a: readonly Record<K, number>[], base: readonly Record<K, number>[], key: K): number {
  if (a.length !== base.length) throw new Error(`winRate: ${a.length} images vs ${base.length} base images (evaluate both on the same prompts and noise)`);
  if (a.length === 0) throw new Error('winRate: no images');
  let wins = 0;
  for (let i = 0; i < a.length; i++) wins += a[i][key] > base[i][key] ? 1 : a[i][key] === base[i][key] ? 0.5 : 0;
  return wins / a.length;
}

/** The two win rates practitioners read: by the true preference and by PickScore-mini. */
export const HEADLINE_WIN_KEYS = ['trueUtility', 'pickScore'] as const;

/**
 * `winRate` for each of `keys`, in that order (default: the two headline metrics). The trainer's
 * checkpoints pass every key of the evaluation (`Object.keys(perImage[0])`).
 */
export function winRates<K extends string = (typeof HEADLINE_WIN_KEYS)[number]>(
  a: readonly Record<K, number>[],
  base: readonly Record<K, number>[],
  keys: readonly K[] = HEADLINE_WIN_KEYS as readonly string[] as readonly K[],
): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const key of keys) out[key] = winRate(a, base, key);
  return out;
}
