/// <reference lib="webworker" />
/**
 * Reads, parses and validates an imported results file off the main thread (issue 18: a 10 MB
 * import froze the page for minutes). Answers one ImportResult per file.
 */
import { importResults, importSizeError, type ImportResult } from './results';

declare const self: DedicatedWorkerGlobalScope;

self.onmessage = async (ev: MessageEvent<{ file: Blob }>) => {
  let result: ImportResult;
  try {
    const tooBig = importSizeError(ev.data.file.size);
    result = tooBig ? { ok: false, errors: [tooBig] } : importResults(await ev.data.file.text());
  } catch (e) {
    result = { ok: false, errors: [`the file could not be read (${e instanceof Error ? e.message : String(e)})`] };
  }
  self.postMessage(result);
};
