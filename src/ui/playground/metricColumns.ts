import { METRIC_INFO, type MetricKey } from '../../core/eval/metrics';

/** Digits shown for each metric under a sample image. */
const DIGITS: Record<MetricKey, number> = { pickScore: 2, hps: 2, alignment: 3, aesthetic: 2, trueUtility: 3 };

/** [key, label, digits] of each metric, in the given order (labels from eval/metrics.ts). */
export const metricColumns = (order: readonly MetricKey[]) => order.map((k) => [k, METRIC_INFO[k].label, DIGITS[k]] as const);
