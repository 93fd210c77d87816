import { describe, expect, it } from 'vitest';
import { checkpointRows, fmtDelta, frameCount, frameRgba, updateRows } from './videoData';
import { DEFAULT_VIDEO_PRESET, videoPresetFromUrl, withVideoPreset } from './videoUrl';

describe('videoPresetFromUrl', () => {
  it('reads vpreset, defaults when absent, and names a bad value', () => {
    expect(videoPresetFromUrl('?view=video')).toEqual({ preset: DEFAULT_VIDEO_PRESET, message: null });
    expect(videoPresetFromUrl('?view=video&vpreset=video-smoke')).toEqual({ preset: 'video-smoke', message: null });
    const bad = videoPresetFromUrl('?view=video&vpreset=table9');
    expect(bad.preset).toBe('table3');
    expect(bad.message).toMatch(/vpreset="table9" is not a video preset \(expected 'table3' or 'video-smoke'\); showing 'table3'/);
  });
  it('writes the preset into the URL, dropping the default', () => {
    expect(withVideoPreset('http://x/?view=video', 'video-smoke')).toBe('http://x/?view=video&vpreset=video-smoke');
    expect(withVideoPreset('http://x/?view=video&vpreset=video-smoke', 'table3')).toBe('http://x/?view=video');
  });
});

describe('chart rows', () => {
  const arms = ['SFT', 'SePPO'];
  it('puts loss and AAF per arm per update, skipping null AAF and unknown arms', () => {
    const rows = updateRows(
      [
        { arm: 'SePPO', update: 2, loss: 0.6, aafRate: 0.5, implicitAcc: 0.5, refK: 0, ms: 1 },
        { arm: 'SFT', update: 1, loss: 0.1, aafRate: null, implicitAcc: null, refK: -1, ms: 1 },
        { arm: 'SePPO', update: 1, loss: 0.7, aafRate: 1, implicitAcc: 0, refK: 0, ms: 1 },
        { arm: 'other', update: 1, loss: 9, aafRate: 1, implicitAcc: 0, refK: 0, ms: 1 },
      ],
      arms,
    );
    expect(rows).toEqual([
      { update: 1, loss0: 0.1, loss1: 0.7, aaf1: 1 },
      { update: 2, loss1: 0.6, aaf1: 0.5 },
    ]);
  });
  it('puts Δ vs raw and its band per checkpoint, from 0 at update 0, without infinite bands', () => {
    const rows = checkpointRows(
      [
        { arm: 'SFT', update: 5, trueUtility: 0.5, deltaVsRaw: { n: 8, mean: 0.01, lo: -0.01, hi: 0.03 } },
        { arm: 'SePPO', update: 5, trueUtility: 0.5, deltaVsRaw: { n: 1, mean: 0.02, lo: -Infinity, hi: Infinity } },
      ],
      arms,
    );
    expect(rows).toEqual([
      { update: 0, d0: 0, d1: 0 },
      { update: 5, d0: 0.01, band0: [-0.01, 0.03], d1: 0.02 },
    ]);
  });
});

describe('frames', () => {
  it('turns frame f of a uint8 RGB clip into RGBA', () => {
    const clip = Uint8Array.from({ length: 2 * 2 * 2 * 3 }, (_, i) => i); // 2 frames of 2×2
    expect(frameCount(clip, 2)).toBe(2);
    expect(Array.from(frameRgba(clip, 1, 2))).toEqual([12, 13, 14, 255, 15, 16, 17, 255, 18, 19, 20, 255, 21, 22, 23, 255]);
    expect(() => frameRgba(clip, 2, 2)).toThrow(/frame 2 of 2/);
    expect(() => frameRgba(clip.subarray(1), 0, 2)).toThrow(/not whole/);
  });
  it('formats a Δ with its interval', () => {
    expect(fmtDelta({ mean: 0.0123, lo: -0.004, hi: 0.0286 })).toBe('+0.012 [−0.004, +0.029]');
    expect(fmtDelta({ mean: 0.5, lo: -Infinity, hi: Infinity }, 1)).toBe('+0.5 [−∞, +∞]');
  });
});
