import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initNodeBackend } from '../backend';
import { loadIntoParams, loadReducedSD, loadWeightsInto, parseSafetensors, saveSafetensors, serializeReducedSD } from './checkpoint';
import { disposeReducedSD, initReducedSD, tinySDConfig, type ReducedSD } from './sd';

const TINY = tinySDConfig();

let m: ReducedSD;
beforeAll(async () => {
  await initNodeBackend('wasm');
  m = initReducedSD('ck', TINY, 3);
  m.latentScale = 0.4321;
});
afterAll(() => disposeReducedSD(m));

function allValues(x: ReducedSD): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  for (const [k, v] of Object.entries({ ...x.ae, ...x.text, ...x.unet })) out.set(k.split('/').slice(1).join('/'), v.dataSync() as Float32Array);
  return out;
}
function bitsEqual(a: Float32Array, b: Float32Array): boolean {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length), ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return ua.length === ub.length && ua.every((v, i) => v === ub[i]);
}

describe('safetensors', () => {
  it('writes the documented layout (u64 header length, JSON header, F32 data)', () => {
    const bytes = saveSafetensors(new Map([['a', { shape: [2], data: new Float32Array([1.5, -2]) }]]), { k: 'v' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header.a).toEqual({ dtype: 'F32', shape: [2], data_offsets: [0, 8] });
    expect(header.__metadata__).toEqual({ k: 'v' });
    expect((8 + n) % 8).toBe(0);
    expect(Array.from(new Float32Array(bytes.slice(8 + n).buffer))).toEqual([1.5, -2]);
  });

  it('round-trips a ReducedSD bit-exactly through serializeReducedSD / loadReducedSD', () => {
    // Include awkward values: −0, a subnormal, the largest float32.
    const b = m.unet['ck/unet/conv_in/b'];
    const special = new Float32Array(b.size).fill(0.1);
    special[0] = -0; special[1] = 1e-45; special[2] = 3.4028234663852886e38;
    b.assign(tf.tensor(special, b.shape));
    const { safetensors, config } = serializeReducedSD(m, { note: 'test' });
    const back = loadReducedSD(safetensors, JSON.parse(JSON.stringify(config)), 'ck2');
    expect(back.latentScale).toBe(0.4321);
    expect(back.config).toEqual(m.config);
    const a = allValues(m), c = allValues(back);
    expect([...c.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [k, v] of a) expect(bitsEqual(v, c.get(k)!), k).toBe(true);
    expect(parseSafetensors(safetensors).metadata.format).toBe('seppo-reduced-sd/1');
    disposeReducedSD(back);
  });

  it('rejects corrupt, truncated and mismatched checkpoints with a message, leaving weights untouched', () => {
    const { safetensors, config } = serializeReducedSD(m);
    const before = allValues(m);
    const n0 = tf.memory().numTensors;
    const expectRejected = (bytes: Uint8Array, re: RegExp) => {
      expect(() => loadWeightsInto(m, bytes)).toThrow(re);
      const now = allValues(m);
      for (const [k, v] of before) expect(bitsEqual(v, now.get(k)!), k).toBe(true);
    };
    // Truncated at several places.
    expectRejected(safetensors.slice(0, 4), /truncated/);
    expectRejected(safetensors.slice(0, 100), /truncated/);
    expectRejected(safetensors.slice(0, safetensors.length - 4), /truncated|length mismatch/);
    // Extra bytes at the end.
    const longer = new Uint8Array(safetensors.length + 4); longer.set(safetensors);
    expectRejected(longer, /length mismatch/);
    // Corrupt header JSON.
    const bad = safetensors.slice(); bad[9] = 0x7b; bad[10] = 0x7b;
    expectRejected(bad, /not valid JSON/);
    // A different model (another config): missing tensor / shape mismatch.
    const other = initReducedSD('other', { ...TINY, unet: { ...TINY.unet, channels: [16, 48] } }, 1);
    const otherBytes = serializeReducedSD(other).safetensors;
    disposeReducedSD(other);
    expectRejected(otherBytes, /shape mismatch for unet\/down1\/res\/conv1\/w: file has \[3,3,16,48\], model expects \[3,3,16,32\]/);
    // Missing tensor, wrong dtype, non-finite value.
    const { tensors } = parseSafetensors(safetensors);
    const missing = new Map(tensors); missing.delete('unet/out/conv/b');
    expectRejected(saveSafetensors(missing), /missing tensor unet\/out\/conv\/b/);
    const nan = new Map(tensors); const d = nan.get('text/tok_emb')!; nan.set('text/tok_emb', { shape: d.shape, data: d.data.map((v, i) => (i === 5 ? NaN : v)) });
    expectRejected(saveSafetensors(nan), /text\/tok_emb contains a non-finite value at index 5/);
    const json = new TextDecoder().decode(safetensors.subarray(8, 8 + Number(new DataView(safetensors.buffer).getBigUint64(0, true))));
    const f16 = safetensors.slice();
    f16.set(new TextEncoder().encode(json.replace('"dtype":"F32"', '"dtype":"F16"')), 8);
    expectRejected(f16, /dtype F16, expected F32/);
    expect(tf.memory().numTensors).toBe(n0);
    // loadReducedSD: bad config, and a bad file leaves no variables behind.
    expect(() => loadReducedSD(safetensors, { ...config, latentScale: -1 })).toThrow(/config\.json invalid at latentScale/);
    expect(() => loadReducedSD(safetensors.slice(0, 50), config, 'fresh')).toThrow(/truncated/);
    expect(tf.memory().numTensors).toBe(n0);
    const ok = loadReducedSD(safetensors, config, 'fresh'); // the name 'fresh' was released
    disposeReducedSD(ok);
  });

  it('loadIntoParams maps names without the prefix', () => {
    const { safetensors } = serializeReducedSD(m);
    const copy = initReducedSD('cp', TINY, 99);
    loadIntoParams({ ...copy.ae, ...copy.text, ...copy.unet }, safetensors, 'cp');
    expect(bitsEqual(copy.unet['cp/unet/out/conv/w'].dataSync() as Float32Array, m.unet['ck/unet/out/conv/w'].dataSync() as Float32Array)).toBe(true);
    disposeReducedSD(copy);
  });
});
