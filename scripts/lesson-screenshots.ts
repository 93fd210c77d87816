/**
 * npx tsx scripts/lesson-screenshots.ts [--port 4192] [--out docs/figures/lessons]
 *
 * Screenshots of each lesson's first step in presenter mode at 1280×720 (issue 16), from the built site
 * (run `npm run build` first) served by `vite preview`, in headless Chromium on WASM. One PNG per lesson.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from '@playwright/test';
import { chromiumArgs, chromiumExecutable } from './chromium';
import { LESSONS } from '../src/ui/lessons/lessons';

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
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--port') port = Number(argv[++i]);
    else if (argv[i] === '--out') out = argv[++i];
    else throw new Error(`unknown option ${argv[i]}`);
  }
  mkdirSync(out, { recursive: true });
  const server = spawn('npx', ['vite', 'preview', '--port', String(port), '--strictPort'], { stdio: 'ignore' });
  try {
    const base = `http://localhost:${port}`;
    await waitFor(base, 60_000);
    const browser = await chromium.launch({ executablePath: chromiumExecutable(), args: chromiumArgs(false) });
    for (const l of LESSONS) {
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
    await browser.close();
  } finally {
    server.kill();
  }
}

main(process.argv.slice(2)).catch((e) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exitCode = 2;
});
