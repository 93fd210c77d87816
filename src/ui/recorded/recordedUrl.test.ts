import { describe, expect, it } from 'vitest';
import { BESIDE_SIZES } from '../../core/recorded';
import { recordedFromUrl, searchWithRecorded } from './recordedUrl';

describe('recorded run in the URL', () => {
  it('reads the recorded run and the live run beside it', () => {
    expect(recordedFromUrl('')).toEqual({ recorded: null, beside: null, messages: [] });
    expect(recordedFromUrl('?recorded=aaf-ablation-v3-seed0')).toEqual({ recorded: 'aaf-ablation-v3-seed0', beside: null, messages: [] });
    for (const size of BESIDE_SIZES) expect(recordedFromUrl(`?backend=wasm&recorded=first-look-chromium-wasm&beside=${size}`)).toEqual({ recorded: 'first-look-chromium-wasm', beside: size, messages: [] });
  });
  it('bad values name the problem; the recorded run still opens', () => {
    expect(recordedFromUrl('?recorded=aaf-ablation-v3-seed0&beside=huge')).toEqual({
      recorded: 'aaf-ablation-v3-seed0',
      beside: null,
      messages: ["beside='huge' in the URL: expected smoke or first-look; the recorded run opens without a live run beside it."],
    });
    expect(recordedFromUrl('?beside=smoke')).toEqual({ recorded: null, beside: null, messages: ['beside=smoke in the URL needs a recorded run to train beside (recorded=<id>); the live experiment is shown.'] });
    expect(recordedFromUrl('?beside=')).toMatchObject({ beside: null, messages: ["beside='' in the URL: expected smoke or first-look; no live run is started beside a recorded one."] });
    expect(recordedFromUrl('?recorded=&beside=smoke')).toEqual({
      recorded: null,
      beside: null,
      messages: ['recorded= in the URL names no run; the live experiment is shown.', 'beside=smoke in the URL needs a recorded run to train beside (recorded=<id>); the live experiment is shown.'],
    });
  });
  it('writes both, keeping the other parameters; no recorded run removes both', () => {
    expect(searchWithRecorded('?backend=wasm&exp=abc', 'aaf-ablation-v3-seed0', 'smoke')).toBe('?backend=wasm&exp=abc&recorded=aaf-ablation-v3-seed0&beside=smoke');
    expect(searchWithRecorded('?backend=wasm&recorded=x&beside=smoke', 'y', null)).toBe('?backend=wasm&recorded=y');
    expect(searchWithRecorded('?recorded=x&beside=smoke&lesson=aaf', null, 'smoke')).toBe('?lesson=aaf');
    expect(searchWithRecorded('?recorded=x', null, null)).toBe('');
    const round = recordedFromUrl(searchWithRecorded('?exp=abc', 'reward-hacking-v3-seed0', 'first-look'));
    expect(round).toEqual({ recorded: 'reward-hacking-v3-seed0', beside: 'first-look', messages: [] });
  });
});
