/**
 * The recorded run in the URL (issue 16): `?recorded=<run id>` opens a run of the gallery, and
 * `&beside=smoke|first-look` also starts a small live version of it beside it (Beside.tsx), so a
 * teacher can prepare a link to "the recorded run, and the same arms training live". Pure: reads the
 * parameters and names every bad value (what was wrong, what happens instead) without touching the rest
 * of the URL. Whether the id is in the gallery is checked once the manifest is read (PlaygroundView).
 */
import { BESIDE_SIZES, type BesideSize } from '../../core/recorded';

/** The URL parameter that opens a recorded run at start: `?recorded=<id>`. */
export const RECORDED_PARAM = 'recorded';
/** With `recorded`: the size of the live run started beside it (`?recorded=<id>&beside=smoke`). */
export const BESIDE_PARAM = 'beside';

export interface RecordedUrl {
  /** The recorded run's id as written (null: none asked for). */
  recorded: string | null;
  /** The live run to start beside it (null: none, or a bad value). */
  beside: BesideSize | null;
  /** One readable line per bad value. */
  messages: string[];
}

export function recordedFromUrl(search: string): RecordedUrl {
  const p = new URLSearchParams(search);
  const raw = p.get(RECORDED_PARAM);
  const recorded = raw !== null && raw.trim() !== '' ? raw.trim() : null;
  const messages: string[] = [];
  if (raw !== null && recorded === null) messages.push(`${RECORDED_PARAM}= in the URL names no run; the live experiment is shown.`);
  let beside: BesideSize | null = null;
  const b = p.get(BESIDE_PARAM);
  if (b !== null) {
    if (!(BESIDE_SIZES as readonly string[]).includes(b)) {
      messages.push(`${BESIDE_PARAM}='${b}' in the URL: expected ${BESIDE_SIZES.join(' or ')}; ${recorded ? 'the recorded run opens without a live run beside it' : 'no live run is started beside a recorded one'}.`);
    } else if (!recorded) {
      messages.push(`${BESIDE_PARAM}=${b} in the URL needs a recorded run to train beside (${RECORDED_PARAM}=<id>); the live experiment is shown.`);
    } else beside = b as BesideSize;
  }
  return { recorded, beside, messages };
}

/** `search` with the recorded run and the live run beside it set (null: removed); other parameters kept. */
export function searchWithRecorded(search: string, recorded: string | null, beside: BesideSize | null): string {
  const p = new URLSearchParams(search);
  if (recorded) p.set(RECORDED_PARAM, recorded);
  else p.delete(RECORDED_PARAM);
  if (recorded && beside) p.set(BESIDE_PARAM, beside);
  else p.delete(BESIDE_PARAM);
  const s = p.toString();
  return s ? `?${s}` : '';
}
