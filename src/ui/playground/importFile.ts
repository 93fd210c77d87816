/**
 * Imports a results file in a short-lived worker (import.worker.ts): the size cap is checked
 * before anything is read, and parsing and validation never run on the page's thread.
 */
import { importSizeError, type ImportResult } from './results';

export function importFile(file: File): Promise<ImportResult> {
  const tooBig = importSizeError(file.size);
  if (tooBig) return Promise.resolve({ ok: false, errors: [tooBig] });
  return new Promise<ImportResult>((resolve) => {
    const w = new Worker(new URL('./import.worker.ts', import.meta.url), { type: 'module' });
    const done = (r: ImportResult) => {
      w.terminate();
      resolve(r);
    };
    w.onmessage = (ev: MessageEvent<ImportResult>) => done(ev.data);
    w.onerror = (ev) => done({ ok: false, errors: [`the import worker failed (${ev.message || 'could not start'})`] });
    w.postMessage({ file });
  });
}
