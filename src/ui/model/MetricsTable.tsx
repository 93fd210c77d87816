import type { SampleResult } from '../../worker/protocol-views';

import { METRIC_KEYS, type MetricKey } from '../../core/eval/metrics';

/** The Model view's wording of each metric (core/eval/metrics.ts holds the keys). */
const ROWS: { key: MetricKey; label: string; paper: string; scale: string; digits: number }[] = [
  { key: 'pickScore', label: 'PickScore-mini', paper: 'PickScore', scale: '100 × cosine', digits: 2 },
  { key: 'hps', label: 'HPS-mini', paper: 'HPSv2', scale: '100 × cosine', digits: 2 },
  { key: 'alignment', label: 'Alignment', paper: 'ImageReward', scale: 'share of 5 attributes right', digits: 2 },
  { key: 'aesthetic', label: 'Aesthetic', paper: 'Aesthetic', scale: '0–10, no prompt', digits: 2 },
  { key: 'trueUtility', label: 'True preference', paper: '— (only a simulation has it)', scale: 'U, 0–1', digits: 3 },
];
if (ROWS.length !== METRIC_KEYS.length || ROWS.some((r, i) => r.key !== METRIC_KEYS[i])) throw new Error('MetricsTable: ROWS must list METRIC_KEYS in order');

/** The five metrics of a generated image (DESIGN §5), with the paper's metric each one stands for. */
export function MetricsTable({ result }: { result: SampleResult }) {
  const values: Partial<Record<MetricKey, number>> = result.metrics ?? result.partialMetrics;
  return (
    <div className="model-metrics">
      <table className="model-metrics-table" data-testid="model-metrics" aria-label="Metrics of the generated image">
        <thead>
          <tr>
            <th>metric</th>
            <th>value</th>
            <th>stands for</th>
            <th>scale</th>
          </tr>
        </thead>
        <tbody>
          {ROWS.map((r) => {
            const v = values[r.key];
            return (
              <tr key={r.key} data-testid={`metric-${r.key}`}>
                <td>{r.label}</td>
                <td className="model-value">{v === undefined ? 'unavailable' : Number.isFinite(v) ? v.toFixed(r.digits) : String(v)}</td>
                <td className="model-muted">{r.paper}</td>
                <td className="model-muted">{r.scale}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {result.scorerNotes && (
        <p className="model-muted model-scorer-notes" data-testid="model-scorer-notes">
          Learned scorers, as shipped: {result.scorerNotes.pickScore}; {result.scorerNotes.hps}. The ceiling is how often the simulated raters
          themselves pick the image with the higher utility.
        </p>
      )}
      {result.metricsError && (
        <p className="notice notice-warn" role="status" data-testid="model-metrics-error">
          {result.metricsError}
        </p>
      )}
    </div>
  );
}
