/**
 * The text encoder (the role of SD's CLIP text model, reduced): token + learned position
 * embeddings, one pre-LN transformer layer (self-attention that ignores PAD keys, then an MLP),
 * a final LayerNorm. tokens int32 [B,L] (0 = PAD) → context [B,L,D] for the UNet's
 * cross-attention. The unconditional context is this encoder applied to an all-PAD row.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { ParamBuilder, attention, dense, getP, layerNorm, matMulFast, silu, type Params } from './layers';

export interface TextConfig {
  vocabSize: number; // world VOCAB.length (index 0 = PAD)
  maxTokens: number; // world MAX_TOKENS
  dim: number; // 64
  heads: number; // 4
  mlpMult: number; // 4
}

export function initTextEncoder(prefix: string, cfg: TextConfig, rng: Rng): Params {
  const pb = new ParamBuilder(prefix, rng);
  const D = cfg.dim;
  pb.add('tok_emb', [cfg.vocabSize, D], { kind: 'normal', std: 0.5 });
  pb.add('pos_emb', [cfg.maxTokens, D], { kind: 'normal', std: 0.5 });
  pb.norm('ln1', D);
  pb.dense('attn/qkv', D, 3 * D);
  pb.dense('attn/out', D, D);
  pb.norm('ln2', D);
  pb.dense('mlp/fc', D, cfg.mlpMult * D);
  pb.dense('mlp/proj', cfg.mlpMult * D, D);
  pb.norm('ln_f', D);
  return pb.params;
}

/** tokens int32 [B,L] → [B,L,D]. */
export function encodeTextWith(p: Params, prefix: string, cfg: TextConfig, tokens: tf.Tensor2D): tf.Tensor3D {
  const [B, L] = tokens.shape;
  if (L !== cfg.maxTokens) throw new Error(`encodeText: expected ${cfg.maxTokens} tokens per row, got ${L}`);
  if (tokens.dtype !== 'int32') throw new Error(`encodeText: tokens must be int32, got ${tokens.dtype}`);
  const D = cfg.dim;
  // Embedding lookup as one-hot × table: a plain matMul, whose gradient every backend has.
  const oneHot = tf.oneHot(tokens.reshape([B * L]), cfg.vocabSize).toFloat(); // [B·L, V]
  const tok = matMulFast(oneHot, getP(p, prefix, 'tok_emb') as unknown as tf.Tensor2D).reshape([B, L, D]);
  let x = tf.add(tok, getP(p, prefix, 'pos_emb')) as tf.Tensor3D; // [B,L,D]
  const keyMask = tf.notEqual(tokens, 0).toFloat() as tf.Tensor2D; // [B,L] 1 = real token

  // Self-attention block (pre-LN).
  const h = layerNorm(p, prefix, 'ln1', x);
  const qkv = dense(p, prefix, 'attn/qkv', h); // [B,L,3D]
  const [q, k, v] = tf.split(qkv, 3, -1) as tf.Tensor3D[]; // each [B,L,D]
  x = tf.add(x, dense(p, prefix, 'attn/out', attention(q, k, v, cfg.heads, keyMask))) as tf.Tensor3D;

  // MLP block.
  const m = dense(p, prefix, 'mlp/proj', silu(dense(p, prefix, 'mlp/fc', layerNorm(p, prefix, 'ln2', x))));
  x = tf.add(x, m) as tf.Tensor3D;
  return layerNorm(p, prefix, 'ln_f', x) as tf.Tensor3D;
}
