/**
 * Checkpoints in the safetensors format (https://github.com/huggingface/safetensors), readable by
 * PyTorch users with `safetensors.torch.load_file`:
 *
 *   [8 bytes: header length N, u64 little-endian][N bytes: JSON header][raw little-endian data]
 *   header = { "<name>": { "dtype": "F32", "shape": [...], "data_offsets": [begin, end] }, …,
 *              "__metadata__": { "<key>": "<string value>" } }
 *
 * Offsets are relative to the start of the data section. Loading checks everything (header,
 * names, dtypes, shapes, offsets, total length) before touching any variable: on failure it
 * throws an Error naming the first problem and leaves the loaded weights as they were.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { commonPrefix, disposeParams, type Params } from './layers';
import { initReducedSD, type ReducedSD, type SDConfig } from './sd';

export interface TensorEntry {
  shape: number[];
  data: Float32Array;
}

/**
 * Serialises `params` (names as given, or with `stripPrefix/` removed) in the safetensors format:
 * tensors sorted by name and packed back to back; the header is padded so the data is 8-byte aligned.
 */
export function saveSafetensors(params: Params | Map<string, TensorEntry>, meta: Record<string, string> = {}, stripPrefix?: string): Uint8Array {
  const entries: Array<[string, TensorEntry]> = [];
  if (params instanceof Map) {
    for (const [k, v] of params) entries.push([k, v]);
  } else {
    for (const [k, v] of Object.entries(params)) {
      let name = k;
      if (stripPrefix !== undefined) {
        if (!k.startsWith(stripPrefix + '/')) throw new Error(`saveSafetensors: ${k} does not start with ${stripPrefix}/`);
        name = k.slice(stripPrefix.length + 1);
      }
      if (v.dtype !== 'float32') throw new Error(`saveSafetensors: ${k} is ${v.dtype}; only float32 is supported`);
      entries.push([name, { shape: v.shape.slice(), data: v.dataSync() as Float32Array }]);
    }
  }
  entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const header: Record<string, unknown> = {};
  let off = 0;
  for (const [name, e] of entries) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    if (n !== e.data.length) throw new Error(`saveSafetensors: ${name} has ${e.data.length} values for shape [${e.shape}]`);
    header[name] = { dtype: 'F32', shape: e.shape, data_offsets: [off, off + 4 * n] };
    off += 4 * n;
  }
  header.__metadata__ = meta;
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8); // pad so the data starts 8-byte aligned
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + off);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const [, e] of entries) {
    // Write float32 little-endian explicitly (independent of the platform's byte order).
    for (let i = 0; i < e.data.length; i++, pos += 4) dv.setFloat32(pos, e.data[i], true);
  }
  return out;
}

export interface ParsedSafetensors {
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
}

/** Parses and validates a safetensors file (F32 only). Throws an Error naming the first problem. */
export function parseSafetensors(bytes: Uint8Array): ParsedSafetensors {
  if (bytes.length < 8) throw new Error(`checkpoint truncated: ${bytes.length} bytes, not even the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  if (n <= 0 || 8 + n > bytes.length) throw new Error(`checkpoint truncated or corrupt: header length ${n} but the file has ${bytes.length} bytes`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new Error(`checkpoint header is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new Error('checkpoint header is not a JSON object');
  const dataLen = bytes.length - 8 - n;
  const metadata: Record<string, string> = {};
  const rawMeta = header.__metadata__;
  if (rawMeta !== undefined) {
    if (typeof rawMeta !== 'object' || rawMeta === null) throw new Error('checkpoint __metadata__ is not an object');
    for (const [k, v] of Object.entries(rawMeta)) {
      if (typeof v !== 'string') throw new Error(`checkpoint __metadata__.${k} is not a string`);
      metadata[k] = v;
    }
  }
  const spans: Array<[number, number, string]> = [];
  const tensors = new Map<string, TensorEntry>();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e.dtype !== 'F32') throw new Error(`checkpoint tensor ${name}: dtype ${String(e.dtype)}, expected F32`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`checkpoint tensor ${name}: bad shape ${JSON.stringify(e.shape)}`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isInteger(d) && d >= 0) || off[1] < off[0]) {
      throw new Error(`checkpoint tensor ${name}: bad data_offsets ${JSON.stringify(off)}`);
    }
    const count = (e.shape as number[]).reduce((a, b) => a * b, 1);
    if (off[1] - off[0] !== 4 * count) throw new Error(`checkpoint tensor ${name}: data_offsets span ${off[1] - off[0]} bytes, shape [${e.shape}] needs ${4 * count}`);
    if (off[1] > dataLen) throw new Error(`checkpoint truncated: tensor ${name} ends at byte ${off[1]} of the data, which has only ${dataLen} bytes`);
    spans.push([off[0], off[1], name]);
    const data = new Float32Array(count);
    const base = 8 + n + off[0];
    for (let i = 0; i < count; i++) data[i] = dv.getFloat32(base + 4 * i, true);
    tensors.set(name, { shape: e.shape as number[], data });
  }
  spans.sort((a, b) => a[0] - b[0]);
  let end = 0;
  for (const [b, e, name] of spans) {
    if (b !== end) throw new Error(`checkpoint corrupt: tensor ${name} starts at ${b}, expected ${end} (overlap or gap)`);
    end = e;
  }
  if (end !== dataLen) throw new Error(`checkpoint length mismatch: tensors cover ${end} bytes of data, the file has ${dataLen}`);
  return { tensors, metadata };
}

/**
 * Checks a checkpoint against the expected names and shapes (`expected`: parameters keyed by the
 * names in the file) and returns its tensors. Throws on a missing, extra or mis-shaped tensor.
 */
export function loadSafetensors(bytes: Uint8Array, expected: Record<string, { shape: number[] }>): Map<string, TensorEntry> {
  const { tensors } = parseSafetensors(bytes);
  for (const [name, e] of Object.entries(expected)) {
    const t = tensors.get(name);
    if (!t) throw new Error(`checkpoint is missing tensor ${name}`);
    if (t.shape.length !== e.shape.length || t.shape.some((d, i) => d !== e.shape[i])) {
      throw new Error(`checkpoint shape mismatch for ${name}: file has [${t.shape}], model expects [${e.shape}]`);
    }
  }
  for (const name of tensors.keys()) if (!(name in expected)) throw new Error(`checkpoint has an unexpected tensor ${name}`);
  return tensors;
}

/**
 * Loads a checkpoint into existing variables `params` (file names = param names without
 * `stripPrefix/`). All checks run first; variables are assigned only when everything passed.
 */
export function loadIntoParams(params: Params, bytes: Uint8Array, stripPrefix: string): void {
  const expected: Record<string, { shape: number[] }> = {};
  const byFileName = new Map<string, tf.Variable>();
  for (const [k, v] of Object.entries(params)) {
    const name = k.startsWith(stripPrefix + '/') ? k.slice(stripPrefix.length + 1) : k;
    expected[name] = { shape: v.shape };
    byFileName.set(name, v);
  }
  const tensors = loadSafetensors(bytes, expected);
  for (const [name, e] of tensors) {
    for (let i = 0; i < e.data.length; i++) {
      if (!Number.isFinite(e.data[i])) throw new Error(`checkpoint tensor ${name} contains a non-finite value at index ${i}`);
    }
  }
  for (const [name, e] of tensors) {
    const v = byFileName.get(name)!;
    const t = tf.tensor(e.data, e.shape, 'float32');
    v.assign(t);
    t.dispose();
  }
}

// ---- the reduced SD as model.safetensors + config.json ----

const aeSchema = z.object({
  imageSize: z.number().int().positive(),
  imageChannels: z.number().int().positive(),
  latentChannels: z.number().int().positive(),
  channels: z.array(z.number().int().positive()).min(1),
  groups: z.number().int().positive(),
  fullResBlock: z.boolean().optional(),
  inputPatch: z.number().int().positive().optional(),
  blocks: z.number().int().positive().optional(),
});
const textSchema = z.object({
  vocabSize: z.number().int().positive(),
  maxTokens: z.number().int().positive(),
  dim: z.number().int().positive(),
  heads: z.number().int().positive(),
  mlpMult: z.number().int().positive(),
});
const unetSchema = z.object({
  latentChannels: z.number().int().positive(),
  latentSize: z.number().int().positive(),
  channels: z.tuple([z.number().int().positive(), z.number().int().positive()]),
  timeDim: z.number().int().positive(),
  ctxDim: z.number().int().positive(),
  heads: z.number().int().positive(),
  groups: z.number().int().positive(),
  patch: z.number().int().positive().optional(),
  snrShift: z.number().positive().optional(),
  fullResHead: z.number().int().nonnegative().optional(),
});
export const sdConfigSchema = z.object({ ae: aeSchema, text: textSchema, unet: unetSchema });
/** config.json: the SDConfig and latentScale (required) plus free-form training/quality records. */
export const modelConfigSchema = z.looseObject({
  format: z.literal('seppo-reduced-sd/1'),
  sd: sdConfigSchema,
  latentScale: z.number().positive(),
});
export type ModelConfigJson = z.infer<typeof modelConfigSchema> & Record<string, unknown>;

function allParams(m: ReducedSD): Params {
  return { ...m.ae, ...m.text, ...m.unet };
}

/** model.safetensors (names without the model prefix: `ae/…`, `text/…`, `unet/…`) and config.json. */
export function serializeReducedSD(m: ReducedSD, extra: Record<string, unknown> = {}): { safetensors: Uint8Array; config: ModelConfigJson } {
  const params = allParams(m);
  const prefix = commonPrefix(Object.keys(params));
  const config: ModelConfigJson = { ...extra, format: 'seppo-reduced-sd/1', sd: m.config, latentScale: m.latentScale };
  const safetensors = saveSafetensors(params, { format: 'seppo-reduced-sd/1', latentScale: String(m.latentScale) }, prefix);
  return { safetensors, config };
}

/**
 * Builds a ReducedSD named `prefix/…` from model.safetensors bytes and the parsed config.json.
 * Validates the config and the file; on any problem throws and leaves no variables behind.
 */
export function loadReducedSD(bytes: Uint8Array, configJson: unknown, prefix = 'base'): ReducedSD {
  const parsed = modelConfigSchema.safeParse(configJson);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`model config.json invalid at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const cfg = parsed.data.sd as SDConfig;
  const m = initReducedSD(prefix, cfg, 0);
  try {
    loadIntoParams(allParams(m), bytes, prefix);
  } catch (e) {
    disposeParams(allParams(m));
    throw e;
  }
  m.latentScale = parsed.data.latentScale;
  return m;
}

/** Loads weights into an existing model (same config); on failure the model is untouched. */
export function loadWeightsInto(m: ReducedSD, bytes: Uint8Array): void {
  const params = allParams(m);
  loadIntoParams(params, bytes, commonPrefix(Object.keys(params)));
}
