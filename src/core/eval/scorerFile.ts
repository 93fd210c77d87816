/**
 * The shipped scorer's file format (`public/models/{pickscore-mini,hps-mini}/`): the weights as
 * model.safetensors (local names `img/…`, `txt/…`) and config.json (format, name, architecture,
 * the vocabulary the token ids were trained with, plus free-form training records). Loading
 * checks everything before it creates a variable.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { loadSafetensors, saveSafetensors, type TensorEntry } from '../model/checkpoint';
import { scorerConfigSchema, scorerParamShapes, type Params, type Scorer, type ScorerConfig, type ScorerTrainingRecord } from './scorer';

export const SCORER_FORMAT = 'seppo-scorer/1';

/** config.json of a shipped scorer: the architecture (required) plus free-form training records. */
export const scorerFileSchema = z.looseObject({
  format: z.literal(SCORER_FORMAT),
  name: z.string().min(1),
  config: scorerConfigSchema,
  /** The tokenizer's vocabulary the weights were trained with (token ids are baked in). */
  vocab: z.array(z.string()),
});
export type ScorerFileJson = z.infer<typeof scorerFileSchema> & Record<string, unknown>;

/** The weights as safetensors (local names: `img/…`, `txt/…`) and config.json (with `extra` records). */
export function serializeScorer(s: Scorer, vocab: readonly string[], extra: Record<string, unknown> = {}): { safetensors: Uint8Array; config: ScorerFileJson } {
  if (vocab.length !== s.config.vocabSize) throw new Error(`serializeScorer: vocabulary has ${vocab.length} words, the scorer ${s.config.vocabSize}`);
  const tensors = new Map<string, TensorEntry>();
  for (const [key] of scorerParamShapes(s.config)) {
    const v = s.params[key];
    tensors.set(key, { shape: v.shape.slice(), data: v.dataSync() as Float32Array });
  }
  const config: ScorerFileJson = { ...extra, format: SCORER_FORMAT, name: s.name, config: s.config, vocab: [...vocab] };
  return { safetensors: saveSafetensors(tensors, { format: SCORER_FORMAT, name: s.name }), config };
}

/**
 * Builds a scorer from shipped files. Checks config.json (schema, vocabulary = the world's
 * current one) and the weights (every name and shape, finite values) before creating any
 * variable; throws an Error naming the first problem.
 */
export function loadScorer(bytes: Uint8Array, configJson: unknown, prefix: string, vocab: readonly string[]): Scorer {
  const parsed = scorerFileSchema.safeParse(configJson);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`scorer config.json invalid at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const file = parsed.data;
  if (file.vocab.length !== vocab.length || file.vocab.some((w, i) => w !== vocab[i])) {
    throw new Error(`scorer ${file.name} was trained with a different vocabulary (${file.vocab.length} words) than the world's (${vocab.length}); retrain it with npm run train-scorers`);
  }
  if (file.config.vocabSize !== vocab.length) throw new Error(`scorer ${file.name}: config.vocabSize ${file.config.vocabSize} ≠ vocabulary size ${vocab.length}`);
  const cfg: ScorerConfig = file.config;
  const expected = Object.fromEntries(scorerParamShapes(cfg).map(([k, shape]) => [k, { shape }]));
  let tensors: Map<string, TensorEntry>;
  try {
    tensors = loadSafetensors(bytes, expected);
  } catch (e) {
    throw new Error(`scorer ${file.name}: ${e instanceof Error ? e.message : String(e)}`);
  }
  for (const [name, t] of tensors) {
    const bad = t.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new Error(`scorer ${file.name}: tensor ${name} has a non-finite value at index ${bad}`);
  }
  const params: Params = {};
  for (const [key, shape] of scorerParamShapes(cfg)) {
    const init = tf.tensor(tensors.get(key)!.data, shape);
    params[key] = tf.variable(init, true, `${prefix}/${key}`); // the variable keeps the data
    init.dispose();
  }
  const rec = file as Record<string, unknown>;
  const trained: ScorerTrainingRecord = {};
  for (const k of ['testAccuracy', 'ceiling', 'testPairs', 'trainPairs', 'seed', 'steps'] as const) {
    if (typeof rec[k] === 'number' && Number.isFinite(rec[k])) trained[k] = rec[k] as number;
  }
  return { name: file.name, prefix, config: cfg, params, trained };
}
