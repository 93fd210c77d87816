import type { BaseModelState } from './useBaseModel';

const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
const fmt = (v: string | number) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : v);

/** The base model's loading progress, its failure (with a retry), or what was loaded. */
export function LoadStatus({ state, retry }: { state: BaseModelState; retry: () => void }) {
  if (state.status === 'loading') {
    return (
      <div className="model-load" role="status" data-testid="model-loading">
        <span>Loading the base model… {state.message}</span>
        {state.total > 0 ? (
          <>
            <progress value={state.done} max={state.total} aria-label="Base model download" />
            <span className="model-muted">
              {mb(state.done)} / {mb(state.total)}
            </span>
          </>
        ) : (
          <progress aria-label="Base model download" />
        )}
      </div>
    );
  }
  if (state.status === 'failed') {
    return (
      <div className="notice notice-error" role="alert" data-testid="model-load-error">
        <strong>The base model could not be loaded.</strong> {state.message}
        <div className="model-muted">
          The base model is shipped in <code>public/models/base/</code> (<code>config.json</code> and <code>model.safetensors</code>);{' '}
          <code>npm run pretrain</code> recreates it.{' '}
          <button onClick={retry}>Retry</button>
        </div>
      </div>
    );
  }
  const { info } = state;
  const keys = Object.keys(info.record).filter((k) => k !== 'note');
  const q = info.quality;
  return (
    <details className="model-info" data-testid="model-info">
      <summary>
        Base model loaded: {(info.params.total / 1e6).toFixed(2)} M parameters (UNet {(info.params.unet / 1e6).toFixed(2)} M, autoencoder{' '}
        {(info.params.ae / 1e6).toFixed(2)} M, text {(info.params.text / 1e6).toFixed(2)} M), {mb(info.bytes)} in {(info.loadMs / 1000).toFixed(1)} s
        {q && (
          <span className="model-quality" data-testid="model-quality">
            {' '}
            · mean true utility {q.meanTrueUtility.toFixed(3)}
            {q.nPrompts !== undefined && ` on ${q.nPrompts} validation prompts`}
            {q.ratioToGenerators !== undefined && ` (${(100 * q.ratioToGenerators).toFixed(0)}% of the generators')`}
            {q.guidance !== undefined && `, measured at guidance ${q.guidance}`}
            {q.ddimSteps !== undefined && `, ${q.ddimSteps} steps`}
            {q.decoderCeiling !== undefined && ` · decoder ceiling ${q.decoderCeiling.toFixed(3)} (winners through the autoencoder)`}
            {q.headroom !== undefined && ` · headroom ${q.headroom.toFixed(3)}`}
            {q.headroomInterval !== undefined && ` [${q.headroomInterval.lo.toFixed(3)}, ${q.headroomInterval.hi.toFixed(3)}]`}
          </span>
        )}
      </summary>
      {info.reconstruction && (
        <table className="model-record" data-testid="model-reconstruction">
          <caption>The decoder&apos;s ceiling: mean true utility before → after encode → decode, and the share of each part kept</caption>
          <thead>
            <tr>
              <th>set</th>
              <th>images</th>
              <th>true utility</th>
              {Object.keys(info.reconstruction[0]?.kept ?? {})
                .filter((k) => k !== 'total')
                .map((k) => (
                  <th key={k}>{k} kept</th>
                ))}
            </tr>
          </thead>
          <tbody>
            {info.reconstruction.map((r) => (
              <tr key={r.set}>
                <td>{r.set}</td>
                <td>{r.images}</td>
                <td>
                  {r.original.toFixed(3)} → {r.reconstructed.toFixed(3)} ({(100 * r.kept.total).toFixed(0)} %)
                </td>
                {Object.entries(r.kept)
                  .filter(([k]) => k !== 'total')
                  .map(([k, v]) => (
                    <td key={k}>{(100 * v).toFixed(0)} %</td>
                  ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {keys.length > 0 ? (
        <table className="model-record">
          <tbody>
            {keys.map((k) => (
              <tr key={k}>
                <td>{k}</td>
                <td>{fmt(info.record[k])}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="model-muted">config.json carries no training record.</p>
      )}
    </details>
  );
}
