import { describe, expect, it } from 'vitest';
import type { EvalResult } from '../align/records';
import {
  baseEvalKey,
  cachedBaseEval,
  EvaluationCutShort,
  fileIdentity,
  fnv1a,
  isCutShort,
  layeredBaseEvalStore,
  memoryBaseEvalStore,
  usableEntry,
  type BaseEvalCacheStore,
  type BaseEvalIdentity,
} from './baseEvalCache';

const id: BaseEvalIdentity = { model: 'm1', scorers: 's1', prompts: ['a red circle', 'a blue square'], seed: 7, steps: 20, guidance: 5, backend: 'wasm' };
const result = (v = 1): EvalResult => ({ mean: { pickScore: v }, perImage: [{ pickScore: v }, { pickScore: v }], images: [new Float32Array(3), new Float32Array(3)] });

describe('baseEvalKey', () => {
  it('is stable and changes with every part of the identity', () => {
    expect(baseEvalKey(id)).toBe(baseEvalKey({ ...id, prompts: [...id.prompts] }));
    const variants: Partial<BaseEvalIdentity>[] = [
      { model: 'm2' },
      { scorers: 's2' },
      { prompts: ['a blue square', 'a red circle'] }, // order matters (images pair by index)
      { prompts: ['a red circle'] },
      { seed: 8 },
      { steps: 21 },
      { guidance: 5.5 },
      { backend: 'webgpu' },
    ];
    const keys = new Set([baseEvalKey(id), ...variants.map((v) => baseEvalKey({ ...id, ...v }))]);
    expect(keys.size).toBe(variants.length + 1);
  });

  it('file identities differ for one changed byte and agree for equal bytes', () => {
    const a = new Uint8Array(1000).map((_, i) => i % 251);
    const b = a.slice();
    expect(fileIdentity(a)).toBe(fileIdentity(b));
    b[500] ^= 1;
    expect(fileIdentity(a)).not.toBe(fileIdentity(b));
    expect(fnv1a('')).toBe('811c9dc5');
    expect(fnv1a('a')).toBe('e40c292c'); // the published FNV-1a 32-bit test vector
  });
});

describe('cachedBaseEval', () => {
  it('computes and stores on a miss, then answers from the store with its date', async () => {
    const store = memoryBaseEvalStore();
    let calls = 0;
    const compute = async () => (calls++, result());
    const key = baseEvalKey(id);
    const a = await cachedBaseEval(store, key, 2, compute, () => 1000);
    expect(a.cachedAt).toBeNull();
    const b = await cachedBaseEval(store, key, 2, compute, () => 2000);
    expect(b.cachedAt).toBe(1000);
    expect(b.result).toEqual(result());
    expect(calls).toBe(1);
    const c = await cachedBaseEval(store, baseEvalKey({ ...id, steps: 10 }), 2, compute);
    expect(c.cachedAt).toBeNull();
    expect(calls).toBe(2);
  });

  it('a cut-short evaluation throws through and stores nothing', async () => {
    const store = memoryBaseEvalStore();
    const p = cachedBaseEval(store, baseEvalKey(id), 2, async () => {
      throw new EvaluationCutShort(1, 2);
    });
    await expect(p).rejects.toSatisfy(isCutShort);
    expect(store.size()).toBe(0);
  });

  it('ignores partial, corrupt or mismatched entries and a failing store', async () => {
    const key = baseEvalKey(id);
    expect(usableEntry({ key, savedAt: 1, result: result() }, key, 2)).toBe(true);
    expect(usableEntry({ key, savedAt: 1, result: result() }, key, 3)).toBe(false); // not one row per prompt
    expect(usableEntry({ key: 'other', savedAt: 1, result: result() }, key, 2)).toBe(false);
    expect(usableEntry({ key, savedAt: 1, result: { ...result(), mean: { pickScore: NaN } } }, key, 2)).toBe(false);
    expect(usableEntry(null, key, 2)).toBe(false);

    const broken: BaseEvalCacheStore = {
      get: async () => {
        throw new Error('closed');
      },
      put: async () => {
        throw new DOMException('full', 'QuotaExceededError');
      },
    };
    const r = await cachedBaseEval(broken, key, 2, async () => result(3));
    expect(r).toEqual({ result: result(3), cachedAt: null });

    const wrong: BaseEvalCacheStore = { get: async () => ({ key: 'stale', savedAt: 1, result: result(9) }), put: async () => undefined };
    expect((await cachedBaseEval(wrong, key, 2, async () => result(4))).result.mean.pickScore).toBe(4);
  });

  it('a layered store answers from memory, fills memory from below, and writes both', async () => {
    const front = memoryBaseEvalStore();
    const back = memoryBaseEvalStore();
    const s = layeredBaseEvalStore(front, back);
    await back.put({ key: 'k', savedAt: 5, result: result() });
    expect((await s.get('k'))!.savedAt).toBe(5);
    expect(front.size()).toBe(1);
    await s.put({ key: 'j', savedAt: 6, result: result() });
    expect(back.size()).toBe(2);
    expect(await s.get('none')).toBeNull();
  });

  it('the memory store keeps only its newest entries', async () => {
    const m = memoryBaseEvalStore(2);
    for (const k of ['a', 'b', 'c']) await m.put({ key: k, savedAt: 0, result: result() });
    expect(m.size()).toBe(2);
    expect(await m.get('a')).toBeNull();
  });
});
