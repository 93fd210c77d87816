/**
 * npx tsx scripts/lesson-screenshots.ts [--port 4192] [--out docs/figures/lessons] [--only lessons|compare]
 *
 * Screenshots of each lesson's first step in presenter mode at 1280×720 (issue 16), from the built site
 * (run `npm run build` first) served by `vite preview`, in headless Chromium on WASM. One PNG per lesson,
 * and compare-samples.png: the Compare samples card at 1280×720 on a real tiny live run trained in the
 * page (COMPARE_RUN: the reward-hacking lesson's two DDPO arms, 10 updates), its two arms at update 10.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { chromiumArgs, chromiumExecutable } from './chromium';
import { encodeConfig, presetConfig, type ExperimentConfig } from '../src/core/config';
import { smallLiveVersion } from '../src/core/recorded';
import { LESSONS } from '../src/ui/lessons/lessons';

/**
 * The compare screenshot's run: the reward-hacking preset's arms (DDPO on Aesthetic, DDPO on
 * PickScore-mini) and seed at the smoke preset's size, with batches of 4 (DDPO samples 4 trajectories
 * per prompt), 10 updates, one checkpoint at update 10, and the preset's 20 DDIM steps for the
 * evaluation images of 4 prompts.
 */
export function compareRun(): ExperimentConfig {
  const rh = presetConfig('reward-hacking');
  const r = smallLiveVersion(rh, { ...presetConfig('smoke'), batchSize: 4, updates: 10, checkpointEvery: 10, maxCheckpoints: 2, evalPrompts: 4, evalSteps: rh.evalSteps });
  if (!r.ok) throw new Error(`the compare run is not a valid experiment: ${r.errors.join('; ')}`);
  return r.config;
}

async function waitFor(url: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url} did not answer within ${ms / 1000} s`);
}

async function main(argv: string[]) {
  let port = 4192;
  let out = 'docs/figures/lessons';
  let only: 'lessons' | 'compare' | null = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--port') port = Number(argv[++i]);
    else if (argv[i] === '--out') out = argv[++i];
    else if (argv[i] === '--only') {
      const v = argv[++i];
      if (v !== 'lessons' && v !== 'compare') throw new Error(`--only ${v}: expected lessons or compare`);
      only = v;
    } else throw new Error(`unknown option ${argv[i]}`);
  }
  mkdirSync(out, { recursive: true });
  const server = spawn('npx', ['vite', 'preview', '--port', String(port), '--strictPort'], { stdio: 'ignore' });
  try {
    const base = `http://localhost:${port}`;
    await waitFor(base, 60_000);
    const browser = await chromium.launch({ executablePath: chromiumExecutable(), args: chromiumArgs(false) });
    for (const l of only === 'compare' ? [] : LESSONS) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      await page.goto(`${base}/?lesson=${l.id}&step=1&present=1&backend=wasm`);
      await page.getByTestId('lesson-panel').waitFor();
      await page.getByTestId('pg-status').filter({ hasText: /ready|paused|finished/ }).waitFor({ timeout: 180_000 });
      await page.waitForTimeout(600);
      const file = join(out, `${l.id}.png`);
      await page.screenshot({ path: file });
      console.log(`${l.id}: ${file}`);
      await page.close();
    }
    if (only !== 'lessons') {
      // The Compare samples card on a live run trained here: both arms at the run's last checkpoint, side by side.
      const c = compareRun();
      const [a, b] = c.arms.map((x) => `${x.name}@${c.updates}`);
      const q = new URLSearchParams({ backend: 'wasm', exp: encodeConfig(c), cmpA: a, cmpB: b, cmpMode: 'side' });
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      await page.goto(`${base}/?${q}`);
      await page.getByTestId('pg-status').filter({ hasText: /ready|paused/ }).waitFor({ timeout: 180_000 });
      await page.getByTestId('pg-play').click();
      await page.getByTestId('pg-status').filter({ hasText: 'finished' }).waitFor({ timeout: 600_000 });
      await page.getByTestId('pg-compare-img-b').waitFor({ timeout: 60_000 });
      // The card's top just under the sticky toolbar.
      await page.getByTestId('pg-compare').evaluate((e) => {
        const bar = document.querySelector('.pg-toolbar')?.getBoundingClientRect().height ?? 0;
        window.scrollBy({ top: e.getBoundingClientRect().top - bar - 12, behavior: 'instant' });
      });
      await page.waitForTimeout(600);
      const file = join(out, 'compare-samples.png');
      await page.screenshot({ path: file });
      console.log(`compare (${a} vs ${b}, ${c.updates} updates, seed ${c.seed}): ${file}`);
      await page.close();
    }
    await browser.close();
  } finally {
    server.kill();
  }
}

main(process.argv.slice(2)).catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 2;
});
