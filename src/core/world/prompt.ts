/**
 * Pick-a-Shape prompts (DESIGN §2): grammar, parsing, canonical text and the word-level tokenizer.
 * Grammar: `a {size} {colour} {shape} {on the left|on the right|in the center|at the top|at the bottom}, {dark|light} background`.
 */

export const SHAPES = ['circle', 'square', 'triangle', 'ring', 'cross', 'diamond'] as const;
/** Eight colours chosen to stay far (RGB distance > 0.7) from both backgrounds. */
export const COLOURS = ['red', 'orange', 'yellow', 'green', 'cyan', 'blue', 'purple', 'pink'] as const;
export const SIZES = ['small', 'medium', 'large'] as const;
export const POSITIONS = ['center', 'left', 'right', 'top', 'bottom'] as const;
export const BACKGROUNDS = ['dark', 'light'] as const;

export type Shape = (typeof SHAPES)[number];
export type Colour = (typeof COLOURS)[number];
export type Size = (typeof SIZES)[number];
export type Position = (typeof POSITIONS)[number];
export type Background = (typeof BACKGROUNDS)[number];

export interface Prompt {
  shape: Shape;
  colour: Colour;
  size: Size;
  position: Position;
  background: Background;
}

/** Function words of the grammar (kept in the vocabulary so the text encoder sees real sentences). */
const FUNCTION_WORDS = ['a', 'on', 'in', 'at', 'the', 'background'] as const;

/** Fixed vocabulary; index 0 is padding. Never reorder: token ids are baked into shipped weights. */
export const VOCAB: readonly string[] = Object.freeze([
  '<pad>',
  ...FUNCTION_WORDS,
  ...SHAPES,
  ...COLOURS,
  ...SIZES,
  ...POSITIONS,
  ...BACKGROUNDS,
]);
const WORD_ID = new Map(VOCAB.map((w, i) => [w, i]));

/** Longest prompt has 9 words (`a large purple diamond in the center dark background`); 12 leaves room. */
export const MAX_TOKENS = 12;

export class PromptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PromptError';
  }
}

/** How a prompt says where the object is (also the time-lapse world's prompts). */
export const POSITION_PHRASE: Record<Position, string> = {
  center: 'in the center',
  left: 'on the left',
  right: 'on the right',
  top: 'at the top',
  bottom: 'at the bottom',
};

/** Canonical text; `parsePrompt(promptText(p))` equals `p`. */
export function promptText(p: Prompt): string {
  return `a ${p.size} ${p.colour} ${p.shape} ${POSITION_PHRASE[p.position]}, ${p.background} background`;
}

/** A compact key, unique per prompt (for maps and set membership). */
export function promptKey(p: Prompt): string {
  return `${p.shape}|${p.colour}|${p.size}|${p.position}|${p.background}`;
}

function words(text: string): string[] {
  return text.toLowerCase().replace(/[,.;]/g, ' ').split(/\s+/).filter((w) => w.length > 0);
}

const CATEGORIES = [
  ['shape', SHAPES],
  ['colour', COLOURS],
  ['size', SIZES],
  ['position', POSITIONS],
  ['background', BACKGROUNDS],
] as const;

/**
 * Parse a prompt. Tolerant of case, commas and spacing; rejects unknown words (naming the word and
 * listing the vocabulary), missing attributes and repeated attributes.
 */
export function parsePrompt(text: string): Prompt {
  if (typeof text !== 'string') throw new PromptError(`parsePrompt: expected a string, got ${typeof text}`);
  const ws = words(text);
  if (ws.length === 0) throw new PromptError('parsePrompt: empty prompt');
  for (const w of ws) {
    if (!WORD_ID.has(w) || w === '<pad>') {
      throw new PromptError(
        `Unknown word "${w}" in prompt "${text}". Vocabulary: ${VOCAB.slice(1).join(', ')}`,
      );
    }
  }
  const out: Record<string, string> = {};
  for (const [name, values] of CATEGORIES) {
    // 'background' is both a category name and a function word; only the values count here.
    const found = ws.filter((w) => (values as readonly string[]).includes(w));
    if (found.length === 0) {
      throw new PromptError(`Prompt "${text}" has no ${name} (one of: ${values.join(', ')})`);
    }
    if (found.length > 1) {
      throw new PromptError(`Prompt "${text}" names more than one ${name}: ${found.join(', ')}`);
    }
    out[name] = found[0];
  }
  return out as unknown as Prompt;
}

/** Token ids of the canonical text, padded with 0 to MAX_TOKENS. Accepts a Prompt or text. */
export function tokenize(p: Prompt | string): Int32Array {
  const prompt = typeof p === 'string' ? parsePrompt(p) : p;
  const ws = words(promptText(prompt));
  if (ws.length > MAX_TOKENS) throw new PromptError(`Prompt has ${ws.length} tokens > MAX_TOKENS=${MAX_TOKENS}`);
  const ids = new Int32Array(MAX_TOKENS);
  ws.forEach((w, i) => {
    ids[i] = WORD_ID.get(w)!;
  });
  return ids;
}

/** All 6·8·3·5·2 = 1440 prompts, in a fixed order. */
export function allPrompts(): Prompt[] {
  const out: Prompt[] = [];
  for (const shape of SHAPES)
    for (const colour of COLOURS)
      for (const size of SIZES)
        for (const position of POSITIONS)
          for (const background of BACKGROUNDS) out.push({ shape, colour, size, position, background });
  return out;
}
