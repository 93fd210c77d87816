import { describe, expect, it } from 'vitest';
import { safeParseExperimentConfig } from '../../core/config';
import { parseBackendParam } from '../backendParam';
import { fuzzImports, fuzzUrls, validResults } from './fuzz';
import { importResults } from './results';
import { configFromUrl } from './urlState';
import { pageLimitErrors } from '../../worker/browser-dataset';

describe('seeded fuzzer', () => {
  it('is deterministic in its seed', () => {
    expect(fuzzUrls(7, 20)).toEqual(fuzzUrls(7, 20));
    expect(fuzzUrls(7, 20)).not.toEqual(fuzzUrls(8, 20));
    expect(fuzzImports(7, 10, validResults())).toEqual(fuzzImports(7, 10, validResults()));
  });

  it('200 fuzzed URLs: never a throw; a usable config or a short message, and then the defaults', () => {
    let refused = 0;
    for (const q of fuzzUrls(18, 200)) {
      parseBackendParam(q);
      const r = configFromUrl(q, 'wasm');
      if (r.message) {
        refused++;
        expect(r.source).toBe('default');
        expect(r.message.length, q.slice(0, 80)).toBeLessThan(1200);
      }
      // Whatever the URL, what the page would load is valid and within the page's limits.
      expect(safeParseExperimentConfig(r.config).ok).toBe(true);
      expect(pageLimitErrors(r.config)).toEqual([]);
    }
    expect(refused).toBeGreaterThan(100);
  });

  it('100 corrupt imports: never a throw; refused with short, readable reasons (or accepted as a valid run)', () => {
    const valid = validResults();
    expect(importResults(valid).ok).toBe(true);
    let refused = 0;
    for (const f of fuzzImports(18, 100, valid)) {
      const r = importResults(f.text);
      if (!r.ok) {
        refused++;
        expect(r.errors.length).toBeGreaterThan(0);
        for (const e of r.errors) expect(e.length, f.name).toBeLessThan(400);
      }
    }
    expect(refused).toBeGreaterThan(80);
  });
});
