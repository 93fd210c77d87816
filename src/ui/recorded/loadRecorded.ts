/**
 * Fetches the shipped recorded runs (public/recorded, written by `npm run recorded-runs`): the manifest,
 * checked entry by entry (core/recorded.ts), and one run, read and validated off the main thread by the
 * same importer as a user's file. Every failure comes back as a readable message, never a throw.
 */
import { parseManifest, type ParsedManifest, type RecordedEntry } from '../../core/recorded';
import { importFile } from '../playground/importFile';
import type { ImportResult } from '../playground/results';

/** Where the recorded runs are served (the site's base URL + recorded/). */
export const RECORDED_BASE = `${import.meta.env?.BASE_URL ?? '/'}recorded/`;

export { RECORDED_PARAM } from './recordedUrl';

export async function fetchManifest(base = RECORDED_BASE): Promise<ParsedManifest> {
  let res: Response;
  try {
    res = await fetch(`${base}index.json`);
  } catch (e) {
    return { runs: [], errors: [`the list of recorded runs (${base}index.json) could not be fetched: ${e instanceof Error ? e.message : String(e)}`] };
  }
  if (!res.ok) return { runs: [], errors: [`the list of recorded runs (${base}index.json) is missing: HTTP ${res.status}`] };
  let value: unknown;
  try {
    value = await res.json();
  } catch (e) {
    return { runs: [], errors: [`the list of recorded runs (${base}index.json) is not JSON (${e instanceof Error ? e.message : String(e)})`] };
  }
  return parseManifest(value);
}

export async function fetchRecorded(entry: RecordedEntry, base = RECORDED_BASE): Promise<ImportResult> {
  let res: Response;
  try {
    res = await fetch(`${base}${entry.file}`);
  } catch (e) {
    return { ok: false, errors: [`${entry.file} could not be fetched: ${e instanceof Error ? e.message : String(e)}`] };
  }
  if (!res.ok) return { ok: false, errors: [`${entry.file} is missing from the site: HTTP ${res.status}`] };
  const blob = await res.blob();
  return importFile(new File([blob], entry.file, { type: 'application/json' }));
}
