/** The shipped recorded runs (public/recorded): the manifest is what the generator makes from runs/, and every file imports. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { RECORDED_SELECTION, manifestEntry, parseManifest, stripResults } from '../../core/recorded';
import { importResults } from '../playground/results';

const manifest = JSON.parse(readFileSync('public/recorded/index.json', 'utf8'));

describe('public/recorded', () => {
  it('the manifest is valid and lists every selected run, generated from runs/ (not stale)', () => {
    const m = parseManifest(manifest);
    expect(m.errors).toEqual([]);
    expect(m.runs.map((r) => r.id)).toEqual(RECORDED_SELECTION.map((s) => s.id));
    for (const sel of RECORDED_SELECTION) {
      const raw = JSON.parse(readFileSync(`${sel.dir}/results.json`, 'utf8'));
      const shipped = readFileSync(`public/recorded/${sel.id}.json`, 'utf8');
      expect(shipped, sel.id).toBe(JSON.stringify(stripResults(raw)));
      expect(m.runs.find((r) => r.id === sel.id), sel.id).toEqual(manifestEntry(sel, raw, Buffer.byteLength(shipped)));
    }
  });
  it('every shipped file imports as a finished run with its arms and checkpoints', () => {
    for (const e of parseManifest(manifest).runs) {
      const r = importResults(readFileSync(`public/recorded/${e.file}`, 'utf8'));
      expect(r.ok ? [] : r.errors, e.id).toEqual([]);
      if (!r.ok) continue;
      expect(r.snapshot.config.arms.map((a) => a.name)).toEqual(e.arms);
      expect(r.snapshot.update).toBe(e.updates);
      expect(r.snapshot.checkpoints.length).toBeGreaterThan(0);
      expect(r.backend).toBe(e.backend);
    }
  });
});
