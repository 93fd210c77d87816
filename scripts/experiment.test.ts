import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');
const run = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/experiment.ts'), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

describe('npm run experiment: bad input exits 2 with a message naming the field', () => {
  it('bad flags', () => {
    const a = run('--preset', 'nope');
    expect(a.status).toBe(2);
    expect(a.stderr).toContain("--preset: expected one of reference-strategies | aaf-ablation | table1 | table2 | beta-sweep | smoke | reward-hacking | first-look | gates | lr-sweep, got 'nope'");
    const e = run('--preset', 'smoke', '--sweep', 'lr=0,1e-4');
    expect(e.status).toBe(2);
    expect(e.stderr).toContain("--sweep: expected lr=A,B,… with learning rates in (0, 1], got 'lr=0,1e-4'");
    const g = run('--preset', 'smoke', '--final-eval', '64');
    expect(g.status).toBe(2);
    expect(g.stderr).toContain("--final-eval: expected PxR (prompts × noises, e.g. 64x16), got '64'");
    const h = run('--preset', 'table1', '--sweep', 'lr=1e-5,1e-4,3e-4');
    expect(h.status).toBe(2); // 8 arms × 3 lrs = 24 > 12
    expect(h.stderr).toContain('arms: length must be at most 12, got 24 items');
    const b = run('--preset', 'smoke', '--backend', 'metal');
    expect(b.status).toBe(2);
    expect(b.stderr).toContain("--backend: expected one of webgpu | webgl | wasm | cpu, got 'metal'");
    const c = run('--preset', 'smoke', '--updates', '-3');
    expect(c.status).toBe(2);
    expect(c.stderr).toContain("--updates: expected an integer ≥ 1, got '-3'");
    const d = run('--preset', 'smoke', '--engine', 'node', '--backend', 'webgpu');
    expect(d.status).toBe(2);
    expect(d.stderr).toMatch(/with --engine node expected one of wasm \| cpu/);
    const w = run('--preset', 'smoke', '--engine', 'node', '--winners', 'best');
    expect(w.status).toBe(2);
    expect(w.stderr).toContain("--winners: expected data | ideal, got 'best'");
    const wb = run('--preset', 'smoke', '--winners', 'ideal');
    expect(wb.status).toBe(2);
    expect(wb.stderr).toContain('--winners ideal: only with --engine node');
    // --seeds / --jobs: [flags after --preset smoke, the message]
    const seedCases: [string[], string][] = [
      [['--engine', 'node', '--seeds', '0,1,0'], "--seeds: each seed once, got '0,1,0'"],
      [['--engine', 'node', '--seeds', '0,x'], "--seeds: expected an integer ≥ 0, got 'x'"],
      [['--engine', 'node', '--seed', '1', '--seeds', '0,1'], 'give either --seed or --seeds, not both'],
      [['--seeds', '0,1'], '--seeds: only with --engine node'],
      [['--engine', 'node', '--jobs', '2'], '--jobs: only with --seeds'],
      [['--engine', 'node', '--seeds', '0,1', '--jobs', '0'], "--jobs: expected an integer ≥ 1, got '0'"],
    ];
    for (const [flags, message] of seedCases) {
      const r = run('--preset', 'smoke', ...flags);
      expect(r.status, flags.join(' ')).toBe(2);
      expect(r.stderr).toContain(message);
    }
  });

  it('bad config file', () => {
    const f = path.join(tmpdir(), `bad-config-${process.pid}.json`);
    writeFileSync(f, JSON.stringify({ seed: 1, arms: [{ name: 'a', method: 'seppo', data: 'winners', flip: 'maybe' }] }));
    const r = run('--config', f);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("arms[0].flip: expected one of 'sign' | 'indicator' | 'off', got 'maybe'");
    expect(r.stderr).toContain('dataSize: expected number');
  });
});
