/**
 * The recorded-run gallery (issue 16): full-size runs the headless runner recorded, shipped with the
 * page, listed from the manifest with command, date, backend and seeds; Open shows one at once (no
 * training) with every chart, table and diagnostic of the playground, labelled RECORDED.
 */
import type { RecordedEntry } from '../../core/recorded';

export function formatDate(iso: string): string {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? new Date(t).toISOString().slice(0, 16).replace('T', ' ') + ' UTC' : iso;
}

export function RecordedGallery({ runs, errors, opening, openId, onOpen }: { runs: RecordedEntry[] | null; errors: string[]; opening: string | null; openId: string | null; onOpen: (e: RecordedEntry) => void }) {
  return (
    <section className="pg-card" aria-labelledby="pg-recorded-h" data-testid="pg-recorded-gallery">
      <div className="pg-card-head">
        <h2 id="pg-recorded-h">Recorded runs</h2>
        <span className="pg-muted">full-size runs recorded by the headless runner (npm run experiment), shipped with the page; they open at once, without training</span>
      </div>
      {errors.length > 0 && (
        <div className="notice notice-warn" role="alert" data-testid="pg-recorded-errors">
          Some recorded runs could not be listed: {errors.join('; ')}.
        </div>
      )}
      {runs === null ? (
        <p className="pg-hint">Reading the list of recorded runs…</p>
      ) : runs.length === 0 ? (
        <p className="pg-hint">No recorded runs are listed.</p>
      ) : (
        <div className="pg-table-wrap">
          <table className="pg-results pg-saved" aria-label="Recorded runs">
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Belongs to</th>
                <th scope="col">Recorded</th>
                <th scope="col">Engine / backend</th>
                <th scope="col">Seed</th>
                <th scope="col">Updates</th>
                <th scope="col">
                  <span className="pg-sr">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.id} data-testid="pg-recorded-row" data-id={r.id}>
                  <th scope="row" className="pg-saved-name" title={r.command}>
                    {r.title}
                    {openId === r.id && <span className="pg-muted"> · shown</span>}
                  </th>
                  <td className="pg-wrap">{r.belongsTo}</td>
                  <td>{formatDate(r.date)}</td>
                  <td>
                    {r.engine} / {r.backend}
                  </td>
                  <td>{r.seeds.join(', ')}</td>
                  <td>{r.updates}</td>
                  <td className="pg-saved-actions">
                    <button type="button" className="pg-link" data-testid={`pg-recorded-open-${r.id}`} disabled={opening !== null} onClick={() => onOpen(r)}>
                      {opening === r.id ? 'Opening…' : 'Open'}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** The label over a recorded run: what it is, how it was made, and that nothing here trained it. */
export function RecordedBanner({ entry }: { entry: RecordedEntry }) {
  return (
    <div className="notice pg-recorded-banner" role="status" data-testid="pg-recorded-banner">
      <strong className="pg-recorded-tag">RECORDED</strong> {entry.title} — not trained in this tab: recorded {formatDate(entry.date)} by the headless runner, engine{' '}
      <span data-testid="pg-recorded-backend">
        {entry.engine}, backend {entry.backend}
      </span>
      , seed <span data-testid="pg-recorded-seeds">{entry.seeds.join(', ')}</span>, {entry.updates} updates
      {entry.finalImages ? `, final evaluation on ${entry.finalImages.toLocaleString('en-US')} paired images per arm` : ''}. {entry.belongsTo}.
      <br />
      Command: <code data-testid="pg-recorded-command">{entry.command}</code> (from <code>{entry.source}</code>)
    </div>
  );
}
