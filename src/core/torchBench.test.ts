import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { VOCAB, MAX_TOKENS } from './world';
import { defaultSDConfig, initReducedSD, countParams, disposeReducedSD } from './model/sd';
import { unetArchDescription, parseTorchReady, parseTorchTiming, parseTorchCheck, checkFilePayload, pairedRatios, pairedTableMarkdown } from './torchBench';

function hasPython(): boolean {
  try {
    execFileSync('python3', ['-c', 'import json, math'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const script = path.resolve(__dirname, '../../scripts/torch_unet.py');

describe('the PyTorch anchor (no torch needed)', () => {
  tf.setBackend('cpu');
  const cfg = defaultSDConfig(VOCAB.length, MAX_TOKENS);
  const m = initReducedSD('tb', cfg, 0);
  const desc = unetArchDescription(m.unet, cfg.unet, { batch: 8, ctxLen: MAX_TOKENS });
  const shipped = countParams(m.unet);
  disposeReducedSD(m);

  it('describes the shipped UNet: every parameter, prefix stripped, the same count', () => {
    expect(desc.paramCount).toBe(shipped);
    expect(desc.params.length).toBe(109);
    expect(new Set(desc.params.map((p) => p.name)).size).toBe(desc.params.length);
    expect(desc.params.find((p) => p.name === 'down1/res/conv2/w')?.shape).toEqual([3, 3, 64, 64]);
    expect(desc.params.every((p) => !p.name.startsWith('tb/'))).toBe(true);
    expect(desc).toMatchObject({ batch: 8, ctxLen: MAX_TOKENS, threads: 1 });
  });

  it.runIf(hasPython())("torch_unet.py --check-arch rebuilds the same parameter list from the config, and notices a difference", () => {
    const run = (d: unknown) => spawnSync('python3', [script, '--check-arch'], { input: JSON.stringify(d) + '\n', encoding: 'utf8' });
    const ok = run(desc);
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual({ ok: true, count: shipped, mismatches: [] });
    // one shape changed, one parameter dropped: both reported, exit 1
    const bad = { ...desc, params: desc.params.filter((p) => p.name !== 'mid/attn/q/w').map((p) => (p.name === 'conv_in/w' ? { ...p, shape: [3, 3, 4, 32] } : p)) };
    const r = run(bad);
    expect(r.status).toBe(1);
    const o = JSON.parse(r.stdout);
    expect(o.ok).toBe(false);
    expect(o.mismatches).toContain('missing in tfjs: mid/attn/q/w [64, 64]');
    expect(o.mismatches).toContain('shape of conv_in/w: python [3, 3, 16, 32], tfjs [3, 3, 4, 32]');
  });

  it('parses the handshake, its refusals and timing answers', () => {
    expect(parseTorchReady('{"ready": true, "torch": "1.13.0", "python": "3.11", "executable": "/usr/bin/python3", "threads": 1, "params": 455252, "batch": 8}')).toMatchObject({ ready: true, params: 455252 });
    expect(parseTorchReady('{"ready": false, "error": "torch is not importable"}')).toEqual({ ready: false, error: 'torch is not importable' });
    expect(parseTorchReady(undefined)).toMatchObject({ ready: false });
    expect(parseTorchReady('Traceback (most recent call last):')).toMatchObject({ ready: false, error: expect.stringContaining('not JSON') });
    expect(parseTorchReady('{"ready": true}')).toMatchObject({ ready: false, error: expect.stringContaining('unexpected handshake') });
    expect(parseTorchTiming('{"ok": true, "what": "train", "ms": [50, 40, 45], "median": 45}', 'train').median).toBe(45);
    expect(() => parseTorchTiming('{"ok": true, "what": "forward", "ms": [1], "median": 1}', 'train')).toThrow(/unexpected/);
    expect(() => parseTorchTiming('{"ok": false, "error": "boom"}', 'train')).toThrow(/boom/);
    expect(() => parseTorchTiming(undefined, 'train')).toThrow(/ended/);
  });

  it('computes per-round ratios and their median, and prints them', () => {
    const rounds = [
      { tfjsForwardMs: 20, torchForwardMs: 10, tfjsTrainMs: 150, torchTrainMs: 50 },
      { tfjsForwardMs: 30, torchForwardMs: 20, tfjsTrainMs: 120, torchTrainMs: 60 },
      { tfjsForwardMs: 40, torchForwardMs: 10, tfjsTrainMs: 100, torchTrainMs: 25 },
    ];
    const r = pairedRatios(rounds);
    expect(r.train.each).toEqual([3, 2, 4]);
    expect(r.train.median).toBe(3);
    expect(r.forward.median).toBe(2);
    expect(r.forward.min).toBe(1.5);
    const md = pairedTableMarkdown(rounds);
    expect(md.split('\n')).toHaveLength(2 + 3 + 1);
    expect(md).toContain('| 3 | 40.0 | 10.0 | 4.00× | 100.0 | 25.0 | 4.00× |');
    expect(md).toContain('**3.00×**');
    expect(() => pairedRatios([])).toThrow();
  });

  it('packs the check file in the order torch_unet.py reads it, and parses its answer', () => {
    const p = checkFilePayload([new Float32Array([1, 2]), new Float32Array([3])], new Float32Array([4]), new Float32Array([5, 6]), new Float32Array([7]), new Float32Array([8, 9]));
    expect(Array.from(p)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(parseTorchCheck('{"ok": true, "what": "check", "maxAbsDiff": 1e-6, "maxAbs": 3.8}')).toEqual({ maxAbsDiff: 1e-6, maxAbs: 3.8 });
    expect(() => parseTorchCheck('{"ok": false, "error": "check file has 3 floats, expected 9"}')).toThrow(/3 floats/);
    expect(() => parseTorchCheck('{"ok": true, "what": "train", "ms": [], "median": 1}')).toThrow(/unexpected/);
  });
});
