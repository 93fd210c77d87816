import { describe, expect, it } from 'vitest';
import { comparePaired, fromColumns, toColumns } from '../eval/intervals';
import { Rng } from '../rng';
import { VIDEO_PRESETS } from './config';
import { pairedFrechetDelta, videoSeedsMarkdown, videoSummaryMarkdown, type VideoResults } from './report';

const clips = (u: number[]) => u.map((v) => ({ trueUtility: v, frame: v, temporal: v, follow: v, ssim: v, psnr: 20 * v, lpips: NaN }));
function results(seed: number, raw: number[], arm: number[]): VideoResults {
  const keys = ['trueUtility', 'frame', 'temporal', 'follow', 'ssim', 'psnr'] as const;
  return {
    kind: 'video', config: { ...VIDEO_PRESETS['video-smoke'], seed }, date: '2026-12-03', wallS: 1, backend: 'test', motion: 'm', features: null,
    arms: [{ name: 'SFT', halted: null, updates: [{ update: 1, loss: 0.1, aafRate: NaN, implicitAcc: NaN, refK: -1, ms: 5 }], checkpoints: [] }],
    final: {
      prompts: raw.map((_, i) => `p${i}`),
      models: [
        { name: 'raw', columns: toColumns(clips(raw)), fid: NaN, fvd: NaN },
        { name: 'SFT', columns: toColumns(clips(arm)), fid: NaN, fvd: NaN, vsRaw: comparePaired(clips(arm), clips(raw), keys) },
      ],
    },
  };
}

describe('video report', () => {
  it('pairedFrechetDelta: identical sets give exactly 0 with [0, 0]; a shifted set a positive delta', () => {
    const r = new Rng(1);
    const ideal = Array.from({ length: 40 }, () => Array.from(r.normals(3)));
    const a = Array.from({ length: 40 }, () => Array.from(r.normals(3)));
    expect(pairedFrechetDelta(a, a, ideal, 2, 50, 3)).toEqual({ mean: 0, lo: 0, hi: 0 });
    const shifted = a.map((row) => row.map((v) => v + 2));
    const d = pairedFrechetDelta(shifted, a, ideal, 2, 200, 3);
    expect(d.mean).toBeGreaterThan(5); // ≈ ‖2·1‖² = 12 above
    expect(d.lo).toBeGreaterThan(0);
    expect(() => pairedFrechetDelta(a, a.slice(1), ideal, 2, 10, 1)).toThrow(/paired/);
  });

  it('summary and pooled seeds: n, the raw model first, intervals, NaN metrics left out', () => {
    const r0 = results(0, [0.3, 0.4], [0.4, 0.5]);
    const md = videoSummaryMarkdown(r0);
    expect(md).toContain('2 paired clips per model');
    expect(md).toContain('| SFT | 100.0% [34.2%, 100.0%] | +0.100 [+0.100, +0.100] |');
    expect(md).not.toContain('LPIPS-like ↓');
    // Through JSON, as npm run video-seeds reads them: NaN becomes null.
    const r1 = JSON.parse(JSON.stringify(results(1, [0.5, 0.5], [0.5, 0.6]))) as VideoResults;
    const pooled = videoSeedsMarkdown([r0, r1]);
    expect(pooled).toContain('Pooled: 4 paired clips per model (2 + 2)');
    expect(pooled).toContain('| raw | — | — | 0.425 |');
    expect(pooled).toMatch(/\| SFT \| 87\.5% \[/); // 3 wins and a tie of 4
    expect(fromColumns(r1.final.models[0].columns)).toHaveLength(2);
    expect(() => videoSeedsMarkdown([r0, { ...r1, final: { ...r1.final, models: r1.final.models.slice(0, 1) } }])).toThrow(/different models/);
    expect(pooled).not.toContain('Arm against arm'); // one arm: no pairs
  });

  it('arm against arm: SFT − SePPO paired on the same clips, with its hand-computed Δ', () => {
    const r = results(0, [0.3, 0.4, 0.5], [0.4, 0.5, 0.7]);
    const seppo = clips([0.3, 0.5, 0.5]);
    r.arms.push({ name: 'SePPO', halted: null, updates: [], checkpoints: [] });
    r.final.models.push({ name: 'SePPO', columns: toColumns(seppo), fid: NaN, fvd: NaN });
    const md = videoSummaryMarkdown(r);
    // SFT − SePPO per clip: +0.1, 0, +0.2 → mean +0.100, sd 0.1, t(2) 4.303 · 0.1/√3 = 0.248;
    // 2 wins and a tie of 3 → 83.3 %.
    expect(md).toContain('| SFT − SePPO | 83.3% [31.0%, 98.2%] (1 ties) | +0.100 [−0.148, +0.348] |');
    expect(videoSeedsMarkdown([r, JSON.parse(JSON.stringify(r)) as VideoResults])).toMatch(/\| SFT − SePPO \| 83\.3% /);
  });
});
