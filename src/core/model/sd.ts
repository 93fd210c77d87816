/**
 * The reduced Stable Diffusion: autoencoder + text encoder + UNet, with the contract functions
 * the rest of the app uses (docs/ARCHITECTURE.md). Parameter names are `<prefix>/ae/…`,
 * `<prefix>/text/…`, `<prefix>/unet/…`; forward functions find the prefix from the map itself,
 * so one forward serves the policy, every frozen reference copy and the sampler.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../rng';
import { DEFAULT_AE, aeDecode, aeEncode, initAE, latentSize, type AEConfig } from './autoencoder';
import { countParams, disposeParams, type Params } from './layers';
import { encodeTextWith, initTextEncoder, type TextConfig } from './textEncoder';
import { initUNet, unetForwardWith, type UNetConfig } from './unet';

export type { AEConfig, TextConfig, UNetConfig, Params };
export { cloneParams, disposeParams, countParams } from './layers';

export interface SDConfig {
  ae: AEConfig;
  text: TextConfig;
  unet: UNetConfig;
}

export interface ReducedSD {
  config: SDConfig;
  ae: Params;
  text: Params;
  unet: Params;
  /** Multiplies the autoencoder's raw latents so they have unit variance (SD: 0.18215). */
  latentScale: number;
}

/** The sizes we ship (see README.md for the measurements behind them). */
export function defaultSDConfig(vocabSize: number, maxTokens: number): SDConfig {
  const ae: AEConfig = { ...DEFAULT_AE, channels: [...DEFAULT_AE.channels] };
  const text: TextConfig = { vocabSize, maxTokens, dim: 64, heads: 4, mlpMult: 4 };
  const unet: UNetConfig = {
    latentChannels: ae.latentChannels,
    latentSize: latentSize(ae),
    channels: [32, 64],
    timeDim: 64,
    ctxDim: text.dim,
    heads: 4,
    groups: 8,
    // 16×16 latents on 2×2 patches (so the UNet's levels run at 8×8 and 4×4), and a 32-channel
    // full-resolution head that reads the patches' pixels back (unet.ts).
    patch: 2,
    fullResHead: 32,
  };
  return { ae, text, unet };
}

/** A small config with the real structure, for tests (runs in seconds). */
export function tinySDConfig(vocabSize = 30, maxTokens = 12): SDConfig {
  return {
    ae: { imageSize: 32, imageChannels: 3, latentChannels: 4, channels: [8, 8, 16], groups: 4, fullResBlock: true },
    text: { vocabSize, maxTokens, dim: 16, heads: 2, mlpMult: 2 },
    unet: { latentChannels: 4, latentSize: 8, channels: [16, 32], timeDim: 16, ctxDim: 16, heads: 2, groups: 4 },
  };
}

export function initReducedSD(prefix: string, cfg: SDConfig, seed: number): ReducedSD {
  if (cfg.unet.ctxDim !== cfg.text.dim) throw new Error(`SDConfig: unet.ctxDim ${cfg.unet.ctxDim} ≠ text.dim ${cfg.text.dim}`);
  if (cfg.unet.latentChannels !== cfg.ae.latentChannels || cfg.unet.latentSize !== latentSize(cfg.ae)) {
    throw new Error(`SDConfig: UNet latents ${cfg.unet.latentSize}²×${cfg.unet.latentChannels} do not match the autoencoder's ${latentSize(cfg.ae)}²×${cfg.ae.latentChannels}`);
  }
  const patch = cfg.unet.patch ?? 1;
  if (cfg.unet.latentSize % patch !== 0) throw new Error(`SDConfig: UNet patch ${patch} does not divide the latent size ${cfg.unet.latentSize}`);
  const rng = new Rng(seed);
  return {
    config: cfg,
    ae: initAE(`${prefix}/ae`, cfg.ae, rng.fork('ae')),
    text: initTextEncoder(`${prefix}/text`, cfg.text, rng.fork('text')),
    unet: initUNet(`${prefix}/unet`, cfg.unet, rng.fork('unet')),
    latentScale: 1,
  };
}

export function disposeReducedSD(m: ReducedSD): void {
  disposeParams(m.ae);
  disposeParams(m.text);
  disposeParams(m.unet);
}

export function paramCounts(m: ReducedSD): { ae: number; text: number; unet: number; total: number } {
  const ae = countParams(m.ae), text = countParams(m.text), unet = countParams(m.unet);
  return { ae, text, unet, total: ae + text + unet };
}

const prefixCache = new WeakMap<Params, string>();
/** The name prefix of a network's parameters, found from a name it must contain (`anchor`). */
function prefixOf(p: Params, anchor: string, what: string): string {
  const cached = prefixCache.get(p);
  if (cached !== undefined) return cached;
  const key = Object.keys(p).find((k) => k.endsWith('/' + anchor));
  if (!key) throw new Error(`${what}: parameter map has no '…/${anchor}' (is this the right network's parameters?)`);
  const prefix = key.slice(0, key.length - anchor.length - 1);
  prefixCache.set(p, prefix);
  return prefix;
}

/** Images [B,32,32,3] in [-1,1] → scaled latents [B,8,8,4]. */
export function encodeImages(m: ReducedSD, x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => aeEncode(m.ae, prefixOf(m.ae, 'enc/in/w', 'encodeImages'), m.config.ae, x).mul(m.latentScale));
}

/** Scaled latents [B,8,8,4] → images [B,32,32,3] in (-1,1). */
export function decodeLatents(m: ReducedSD, z: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => aeDecode(m.ae, prefixOf(m.ae, 'enc/in/w', 'decodeLatents'), m.config.ae, z.div(m.latentScale) as tf.Tensor4D));
}

/** tokens int32 [B,L] → context [B,L,D]. */
export function encodeText(textParams: Params, textCfg: TextConfig, tokens: tf.Tensor2D): tf.Tensor3D {
  return encodeTextWith(textParams, prefixOf(textParams, 'tok_emb', 'encodeText'), textCfg, tokens);
}

/** ε̂ = UNet(z [B,8,8,4], t [B] float, ctx [B,L,D]) → [B,8,8,4]. */
export function unetForward(unetParams: Params, unetCfg: UNetConfig, z: tf.Tensor4D, t: tf.Tensor1D, ctx: tf.Tensor3D): tf.Tensor4D {
  return unetForwardWith(unetParams, prefixOf(unetParams, 'conv_in/w', 'unetForward'), unetCfg, z, t, ctx);
}

/** The unconditional context: the text encoder applied to `batch` all-PAD rows → [batch,L,D]. */
export function uncondContext(textParams: Params, textCfg: TextConfig, batch = 1): tf.Tensor3D {
  return tf.tidy(() => encodeText(textParams, textCfg, tf.zeros([batch, textCfg.maxTokens], 'int32') as tf.Tensor2D));
}

/** Stacks token rows (each MAX_TOKENS long) into an int32 [B,L] tensor, checking lengths. */
export function tokensTensor(tokens: Int32Array[], maxTokens: number): tf.Tensor2D {
  const buf = new Int32Array(tokens.length * maxTokens);
  tokens.forEach((row, i) => {
    if (row.length !== maxTokens) throw new Error(`token row ${i} has length ${row.length}, expected ${maxTokens}`);
    buf.set(row, i * maxTokens);
  });
  return tf.tensor2d(buf, [tokens.length, maxTokens], 'int32');
}
