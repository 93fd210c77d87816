import type { Page } from '@playwright/test';
import { encodeConfig, presetConfig } from '../src/core/config';
import type { ExpUpdateRecord } from '../src/worker/protocol-experiment';
import { test, expect } from './fixtures';

/**
 * Issue 18, defect 4: bounded page cost. A soak of a tiny experiment (one Diffusion-DPO arm, no
 * reference sampling) in the page, WASM on the built site: DOM nodes and the worker's tensors
 * stay flat after warm-up, the heap stays bounded. SOAK_UPDATES=2000 for the full soak of the
 * issue (about 8 minutes here); the suite runs 400. And a 10 MB import is read off the main
 * thread while the page stays responsive.
 */

const SOAK = Number(process.env.SOAK_UPDATES ?? 400);
const base = presetConfig('smoke');
const soakConfig = {
  ...base,
  updates: SOAK,
  checkpointEvery: Math.max(2, Math.floor(SOAK / 2)),
  maxCheckpoints: 3,
  refRegenerateEvery: 100000,
  evalPrompts: 1,
  evalSteps: 1,
  arms: [base.arms[1]],
  // The soak measures page cost, not training: its batch-2 Diffusion-DPO arm at lr 1e-4 really does
  // displace the winners' error past the divergence guard's default (+1,128 % at update 35, seen
  // in the suite), which would halt it, so the guard's winners' bound is lifted here.
  divergence: { maxWinnerErrorRise: 1e6 },
};

async function stats(page: Page) {
  return page.evaluate(() => ({
    update: Number(document.querySelector('[data-testid=pg-update]')!.textContent),
    dom: document.getElementsByTagName('*').length,
    heapMB: Math.round(((performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0) / 1e6),
    tensors: Number((document.querySelector('[data-testid=pg-mem-tensors]')!.textContent ?? '').replace(/,/g, '')),
  }));
}

/** Waits until the memory readout has been refreshed after the run stopped (it polls every 2 s). */
async function settledStats(page: Page) {
  await page.waitForTimeout(2500);
  return stats(page);
}

test.describe('bounded page cost (built site, WASM)', () => {
  test(`soak of ${SOAK} updates: DOM nodes and worker tensors flat after warm-up, heap bounded`, async ({ page, consoleErrors }) => {
    test.setTimeout(Math.max(300_000, SOAK * 600));
    await page.goto(`/?backend=wasm&exp=${encodeConfig(soakConfig)}`);
    await expect(page.getByTestId('pg-play')).toBeEnabled({ timeout: 120_000 });
    // Warm-up: play to a tenth of the run, pause, measure.
    await page.getByTestId('pg-play').click();
    const warmAt = Math.max(20, Math.floor(SOAK / 10));
    await expect.poll(async () => (await stats(page)).update, { timeout: 600_000 }).toBeGreaterThanOrEqual(warmAt);
    // Pause (a DOM click: the toolbar re-renders every update, so no pointer aim is involved).
    await expect(page.getByTestId('pg-play')).toHaveText('Pause');
    await page.getByTestId('pg-play').dispatchEvent('click');
    await expect(page.getByTestId('pg-status')).toHaveText('paused', { timeout: 120_000 });
    const warm = await settledStats(page);
    // The rest of the run.
    await page.getByTestId('pg-play').click();
    await expect(page.getByTestId('pg-status')).toHaveText('finished', { timeout: SOAK * 600 });
    const end = await settledStats(page);
    console.log(`soak: warm-up at update ${warm.update}: ${warm.dom} DOM nodes, ${warm.tensors} tensors, ${warm.heapMB} MB heap; end at update ${end.update}: ${end.dom} DOM nodes, ${end.tensors} tensors, ${end.heapMB} MB heap`);
    expect(end.update).toBe(SOAK);
    expect(end.tensors).toBe(warm.tensors);
    expect(end.dom).toBeLessThanOrEqual(warm.dom + 150); // a checkpoint row or two, never per update
    expect(end.heapMB).toBeLessThan(warm.heapMB + 100);
    // Charts draw a bounded number of points; the heat map is one canvas.
    expect(await page.locator('[data-testid=pg-diag-inside] canvas').count()).toBe(1);
    const cols = Number(await page.getByTestId('pg-diag-inside-canvas').getAttribute('data-columns'));
    expect(cols).toBeLessThanOrEqual(400);
    // Every update chart labels the same ticks.
    const ticks = async (id: string) => page.getByTestId(id).locator('.recharts-xAxis-tick-labels .recharts-cartesian-axis-tick-value').allTextContents();
    const t0 = await ticks('pg-chart-aaf');
    expect(t0[0]).toBe('0');
    expect(await ticks('pg-chart-loss')).toEqual(t0);
    expect(await ticks('pg-chart-implicitAcc')).toEqual(t0);
    expect(consoleErrors).toEqual([]);
  });

  test('a 10 MB import is read off the main thread: the page stays responsive and the run is shown', async ({ page, consoleErrors }) => {
    test.setTimeout(300_000);
    await page.goto(`/?backend=wasm&exp=${encodeConfig(base)}`);
    await expect(page.getByTestId('pg-play')).toBeEnabled({ timeout: 120_000 });
    // An honest results file of 2 arms × 17,000 updates (about 10 MB).
    const n = 17_000;
    const cfg = { ...base, updates: n, checkpointEvery: 1000 };
    const rec = (arm: string, u: number): ExpUpdateRecord => ({
      arm, update: u, loss: 0.69 - u / n / 10, implicitAcc: 0.5, aafRate: 0.5 + 0.4 * Math.sin(u / 300), mW: 0.1, mL: 0.2, rW: 0.1, rL: 0.2,
      rewardW: 0, rewardL: 0, margin: 0, insideHist: [0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0], accByTBucket: [1, null, 0, null], flippedShare: 0.5, refK: 0, ms: 10, refMs: 5,
    });
    const file = JSON.stringify({
      config: cfg,
      updatesDone: n,
      base: { metrics: { pickScore: 20 } },
      arms: cfg.arms.map((a) => ({
        name: a.name, halted: null,
        updates: Array.from({ length: n }, (_, i) => rec(a.name, i + 1)),
        checkpoints: Array.from({ length: Math.floor(n / 1000) }, (_, k) => ({ arm: a.name, update: (k + 1) * 1000, metrics: { pickScore: 20 + k / 10 }, winRate: { trueUtility: 0.5 } })),
      })),
      meta: { backend: 'wasm' },
    });
    expect(file.length).toBeGreaterThan(9_000_000);
    // Watch the main thread: the longest task while the file is read, checked and drawn.
    await page.evaluate(() => {
      (window as unknown as { longest: number }).longest = 0;
      new PerformanceObserver((l) => {
        for (const e of l.getEntries()) (window as unknown as { longest: number }).longest = Math.max((window as unknown as { longest: number }).longest, e.duration);
      }).observe({ type: 'longtask', buffered: false });
    });
    await page.getByLabel('Import results JSON').setInputFiles({ name: 'big.json', mimeType: 'application/json', buffer: Buffer.from(file) });
    await expect(page.getByTestId('pg-notice')).toContainText('Viewing big.json', { timeout: 60_000 });
    await expect(page.getByTestId('pg-update')).toHaveText(String(n));
    const longest = await page.evaluate(() => (window as unknown as { longest: number }).longest);
    const dom = await page.evaluate(() => document.getElementsByTagName('*').length);
    console.log(`10 MB import: longest main-thread task ${Math.round(longest)} ms, ${dom} DOM nodes`);
    expect(longest).toBeLessThan(5_000); // before: the tab froze for over 5 minutes
    expect(dom).toBeLessThan(4_000);
    // Over the cap: refused at once, naming the cap, nothing changed.
    await page.getByLabel('Import results JSON').setInputFiles({ name: 'huge.json', mimeType: 'application/json', buffer: Buffer.alloc(33 * 1024 * 1024, 32) });
    await expect(page.getByTestId('pg-file-error')).toContainText('Could not import huge.json: the file is 33.0 MB; the page imports results files of at most 32 MB. Nothing was changed.');
    await expect(page.getByTestId('pg-update')).toHaveText(String(n));
    expect(consoleErrors).toEqual([]);
  });
});
