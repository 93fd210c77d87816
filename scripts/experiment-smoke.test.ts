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
});
