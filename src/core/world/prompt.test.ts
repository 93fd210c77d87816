import { describe, expect, it } from 'vitest';
import {
  BACKGROUNDS, COLOURS, MAX_TOKENS, POSITIONS, PromptError, SHAPES, SIZES, VOCAB,
  allPrompts, parsePrompt, promptText, tokenize,
} from './index';

describe('prompts', () => {
  it('covers every attribute combination and round-trips through text', () => {
    const all = allPrompts();
    expect(all.length).toBe(SHAPES.length * COLOURS.length * SIZES.length * POSITIONS.length * BACKGROUNDS.length);
    for (const p of all) expect(parsePrompt(promptText(p))).toEqual(p);
  });

  it('canonical text follows the grammar', () => {
    expect(promptText({ shape: 'circle', colour: 'red', size: 'large', position: 'left', background: 'dark' }))
      .toBe('a large red circle on the left, dark background');
    expect(promptText({ shape: 'ring', colour: 'blue', size: 'small', position: 'center', background: 'light' }))
      .toBe('a small blue ring in the center, light background');
  });

  it('is tolerant of case, commas and spaces', () => {
    expect(parsePrompt('  A   LARGE Red circle,on the LEFT ,, dark   background ')).toEqual({
      shape: 'circle', colour: 'red', size: 'large', position: 'left', background: 'dark',
    });
  });

  it('rejects an unknown word, naming it and listing the vocabulary', () => {
    let err: unknown;
    try {
      parsePrompt('a large magenta circle on the left, dark background');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PromptError);
    const msg = (err as Error).message;
    expect(msg).toContain('"magenta"');
    for (const w of ['circle', 'purple', 'medium', 'bottom', 'light']) expect(msg).toContain(w);
  });

  it('names a missing or repeated attribute', () => {
    expect(() => parsePrompt('a large red on the left, dark background')).toThrow(/no shape.*circle/);
    expect(() => parsePrompt('a large red circle, dark background')).toThrow(/no position/);
    expect(() => parsePrompt('a large red circle square on the left, dark background')).toThrow(/more than one shape: circle, square/);
    expect(() => parsePrompt('')).toThrow(PromptError);
  });
});

describe('tokenizer', () => {
  it('has a fixed vocabulary with PAD at 0 and no duplicates', () => {
    expect(VOCAB[0]).toBe('<pad>');
    expect(new Set(VOCAB).size).toBe(VOCAB.length);
    for (const w of ['a', 'on', 'in', 'at', 'the', 'background', ...SHAPES, ...COLOURS]) expect(VOCAB).toContain(w);
  });

  it('fits every prompt in MAX_TOKENS, padded with 0, and distinguishes prompts', () => {
    const seen = new Set<string>();
    let longest = 0;
    for (const p of allPrompts()) {
      const ids = tokenize(p);
      expect(ids).toBeInstanceOf(Int32Array);
      expect(ids.length).toBe(MAX_TOKENS);
      const used = ids.findIndex((v) => v === 0);
      const n = used === -1 ? MAX_TOKENS : used;
      longest = Math.max(longest, n);
      expect(Array.from(ids.slice(n)).every((v) => v === 0)).toBe(true);
      seen.add(Array.from(ids).join(','));
    }
    expect(longest).toBeLessThanOrEqual(MAX_TOKENS);
    expect(longest).toBe(9);
    expect(seen.size).toBe(allPrompts().length);
  });

  it('tokenizes text and prompt objects identically; rejects unknown words', () => {
    const t = 'a small green cross at the bottom, light background';
    expect(tokenize(t)).toEqual(tokenize(parsePrompt(t)));
    expect(Array.from(tokenize(t).slice(0, 3)).map((i) => VOCAB[i])).toEqual(['a', 'small', 'green']);
    expect(() => tokenize('a small green banana at the bottom, light background')).toThrow(/banana/);
  });
});
