import { ImageTile } from '../common/ImageTile';
import type { ImageView, PairView } from '../../worker/protocol-views';
import { num } from './format';
import { defectText } from './wording';

const PARTS = ['colour', 'shape', 'sharpness', 'background'] as const;

/** One image of a pair: the picture, its generator, its true utility and the utility's parts. */
function PairImage({ img, won, text, testId }: { img: ImageView; won: boolean; text: string; testId: string }) {
  return (
    <figure className={won ? 'data-image data-winner' : 'data-image'} data-testid={testId}>
      <div className="data-badge">{won ? '★ winner' : 'loser'}</div>
      <ImageTile image={img.image} scale={4} label={`${won ? 'winner' : 'loser'} for "${text}", by ${img.generator}`} />
      <figcaption>
        <div className="data-gen">
          by <code>{img.generator}</code>
        </div>
        <div className="data-utility">
          U = <strong data-testid="data-utility">{num(img.utility)}</strong>
        </div>
        <table className="data-parts" aria-label="utility parts">
          <tbody>
            {PARTS.map((k) => (
              <tr key={k}>
                <td>{k}</td>
                <td className="data-bar-cell">
                  <span className="data-bar" style={{ width: `${Math.max(0, Math.min(1, img.parts[k])) * 100}%` }} />
                </td>
                <td>{num(img.parts[k], 2)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {img.defects.length > 0 && <div className="data-defects">defects: {img.defects.map(defectText).join(', ')}</div>}
      </figcaption>
    </figure>
  );
}

/** A training pair: the prompt, the winner and the loser side by side. */
export function PairCard({ pair }: { pair: PairView }) {
  return (
    <article className="data-pair" data-testid="data-pair" aria-label={`pair ${pair.index + 1}`}>
      <header className="data-pair-head">
        <span className="data-n">#{pair.index + 1}</span> <span className="data-prompt">{pair.text}</span>
      </header>
      <div className="data-pair-images">
        <PairImage img={pair.winner} won text={pair.text} testId="data-winner" />
        <PairImage img={pair.loser} won={false} text={pair.text} testId="data-loser" />
      </div>
    </article>
  );
}
