/**
 * The `smoke` preset end to end through the headless runner (`npm run experiment`), with the
 * shipped base model and scorers, on the Node engine (the same src/runner/run.ts the Chromium
 * engine runs; the page runs the same preset on WebGPU in e2e/playground.spec.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '..');

describe('npm run experiment -- --preset smoke', () => {
  it('runs every arm to the end and writes results.json, metrics.csv and summary.md', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'smoke-'));
    try {
      const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/experiment.ts'), '--preset', 'smoke', '--engine', 'node', '--out', out], {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 240_000,
      });
      expect(r.status, r.stderr).toBe(0);

      const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8'));
      const arms: { name: string; halted: unknown; updates: { update: number; loss: number }[]; checkpoints: { metrics: Record<string, number> | null }[] }[] = results.arms;
      const updates = results.config.updates as number;
      expect(arms.length).toBeGreaterThanOrEqual(2);
      for (const arm of arms) {
        expect(arm.halted, arm.name).toBeFalsy();
        expect(arm.updates.map((u) => u.update)).toEqual(Array.from({ length: updates }, (_, i) => i + 1));
        arm.updates.forEach((u) => expect(Number.isFinite(u.loss)).toBe(true));
        const last = arm.checkpoints.at(-1)!;
        for (const k of ['pickScore', 'hps', 'alignment', 'aesthetic', 'trueUtility']) expect(Number.isFinite(last.metrics![k]), k).toBe(true);
      }

      const csv = readFileSync(path.join(out, 'metrics.csv'), 'utf8').trim().split('\n');
      expect(csv[0].startsWith('arm,update,loss')).toBe(true);
      expect(csv.length - 1).toBe(arms.length * updates);
      for (const arm of arms) expect(csv.filter((l) => l.startsWith(`${arm.name},`)).length).toBe(updates);

      const summary = readFileSync(path.join(out, 'summary.md'), 'utf8');
      for (const arm of arms) expect(summary).toContain(`| ${arm.name} |`);
      expect(r.stdout).toContain('| base (θ₀) |');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('--seeds runs one process per seed (eval seed + s each), each the same run as a single --seed, and pools them', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'seeds-'));
    const one = mkdtempSync(path.join(tmpdir(), 'seed1-'));
    const exp = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/experiment.ts'), '--preset', 'smoke', '--engine', 'node', '--random-base', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
    try {
      const r = exp('--seeds', '0,1', '--jobs', '2', '--eval-seed', '500', '--out', out);
      expect(r.status, r.stderr).toBe(0);
      const runs = [0, 1].map((s) => JSON.parse(readFileSync(path.join(out, `seed${s}`, 'results.json'), 'utf8')));
      expect(runs.map((x) => [x.config.seed, x.config.evalSeed])).toEqual([[0, 500], [1, 501]]);
      const seedsMd = readFileSync(path.join(out, 'seeds.md'), 'utf8');
      expect(seedsMd).toContain('over 2 seeds');
      expect(seedsMd).toMatch(/Run with `--seeds 0,1 --jobs 2`: 2 processes at a time on \d+ cores; wall [\d.]+ s in all, per seed 0: [\d.]+ s, 1: [\d.]+ s\./);
      expect(readFileSync(path.join(out, 'seed1.log'), 'utf8')).toContain('wrote');
      // the same run as `--seed 1 --eval-seed 501` on its own: same losses, same base and final metrics
      const d = exp('--seed', '1', '--eval-seed', '501', '--out', one);
      expect(d.status, d.stderr).toBe(0);
      const direct = JSON.parse(readFileSync(path.join(one, 'results.json'), 'utf8'));
      const gist = (x: { base: unknown; arms: { updates: { loss: number }[]; checkpoints: { metrics: unknown }[] }[] }) => ({ base: x.base, arms: x.arms.map((a) => ({ losses: a.updates.map((u) => u.loss), metrics: a.checkpoints.map((c) => c.metrics) })) });
      expect(gist(runs[1])).toEqual(gist(direct));
      expect(gist(runs[0])).not.toEqual(gist(direct));
    } finally {
      rmSync(out, { recursive: true, force: true });
      rmSync(one, { recursive: true, force: true });
    }
  });
});
