import { describe, expect, it } from 'vitest';
import { defectText } from './wording';

describe('defectText', () => {
  it('describes every defect kind', () => {
    expect(defectText({ kind: 'hue', towards: 'blue', amount: 0.4 })).toBe('hue drift 40% towards blue');
    expect(defectText({ kind: 'offset', dx: 3, dy: 4 })).toBe('moved 5.0 px');
    expect(defectText({ kind: 'clutter', blobs: [{ cx: 1, cy: 1, radius: 1, colour: 'red' }] })).toBe('1 distractor blob');
    expect(defectText({ kind: 'wrongShape', shape: 'ring' })).toBe('wrong shape (ring)');
  });
});
