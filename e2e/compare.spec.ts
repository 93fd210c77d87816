import { readFileSync } from 'node:fs';
import type { Locator, Page } from '@playwright/test';
import { decodeConfig, encodeConfig, presetConfig } from '../src/core/config';
import { test, expect } from './fixtures';

/**
 * Issue 16, the rest: compare samples (two arms or two checkpoints, same prompt and noise, side by side
 * or flickering, with the true preference and the learned metrics), a small live run beside a recorded
 * one, and presenter mode (the backend notice collapsed to one line; the AAF chart naming the arms whose
 * rate is 1 by construction). Tiny live runs: the smoke preset on WASM.
 */

const smoke = presetConfig('smoke');
const liveUrl = (extra = '') => `/?backend=wasm&exp=${encodeConfig(smoke)}${extra}`;
const recordedFile = JSON.parse(readFileSync('public/recorded/aaf-ablation-v3-seed0.json', 'utf8'));

async function ready(page: Page) {
  await expect(page.getByTestId('pg-status')).toHaveText(/ready|paused|finished/, { timeout: 180_000 });
}
const pixels = (l: Locator) => l.evaluate((c) => (c as HTMLCanvasElement).toDataURL());
const cell = (page: Page, metric: string, col: number) => page.getByTestId(`pg-compare-m-${metric}`).locator('td').nth(col);
/** The page's width once the charts have followed a viewport change (ResizeObserver), and what sticks out if it is too wide. */
const noOverflow = async (page: Page) => {
  const width = () => page.evaluate(() => document.documentElement.scrollWidth);
  await expect.poll(width, { timeout: 15_000 }).toBeLessThanOrEqual(page.viewportSize()!.width);
  return width();
};
/** Solid (AAF-rate) lines of a chart drawn in a colour. */
const solidLines = (chart: Locator, colour: string) => chart.locator(`path.recharts-line-curve[stroke="${colour}"]:not([stroke-dasharray])`).count();

test('compare two arms of a tiny live run: the same images as the grid, their metrics, flicker with a pause; then a recorded run, and a live run beside it', async ({ page, consoleErrors }) => {
  test.setTimeout(600_000);
  await page.goto(liveUrl('&cmpA=SePPO%402&cmpB=Diffusion-DPO%402'));
  await ready(page);
  const panel = page.getByTestId('pg-compare');
  // Before the checkpoint: the URL's sides are kept and said to be not reached yet.
  await expect(page.getByTestId('pg-compare-gap')).toContainText('SePPO @ update 2: the run has not reached it yet');
  await page.getByTestId('pg-play').click();
  await expect(page.getByTestId('pg-status')).toHaveText('finished', { timeout: 300_000 });
  await expect(page.getByTestId('pg-compare-gap')).toHaveCount(0);

  // Side by side: image i of each side is the sample grid's image i of that arm (the worker's images, same prompt and noise).
  await expect(page.getByTestId('pg-compare-side-by-side')).toBeVisible();
  expect(await pixels(page.getByTestId('pg-compare-img-a'))).toBe(await pixels(page.getByTestId('pg-img-SePPO-0')));
  expect(await pixels(page.getByTestId('pg-compare-img-b'))).toBe(await pixels(page.getByTestId('pg-img-Diffusion-DPO-0')));
  await expect(page.getByTestId('pg-compare-count')).toHaveText(`${smoke.evalPrompts} (prompt, noise) pairs in common`);
  // The metrics under them are the grid's per-image metrics; B − A is their difference.
  await page.getByTestId('pg-img-SePPO-0').click();
  const detailTrue = await page.getByTestId('pg-detail').locator('dt', { hasText: 'True preference' }).locator('xpath=following-sibling::dd').textContent();
  await expect(cell(page, 'trueUtility', 0)).toHaveText(detailTrue!);
  for (const m of ['trueUtility', 'pickScore', 'hps', 'alignment', 'aesthetic']) {
    const [a, b, d] = await Promise.all([0, 1, 2].map(async (i) => Number((await cell(page, m, i).textContent())!.replace('−', '-'))));
    expect(Number.isFinite(a) && Number.isFinite(b), m).toBe(true);
    expect(Math.abs(b - a - d), m).toBeLessThanOrEqual(0.0015 * (m === 'pickScore' || m === 'hps' || m === 'aesthetic' ? 10 : 1));
  }
  // Two checkpoints of one arm: the base (update 0) against SePPO at update 2; the base image is the grid's.
  await page.getByTestId('pg-compare-a-arm').selectOption('');
  expect(await pixels(page.getByTestId('pg-compare-img-a'))).toBe(await pixels(page.getByTestId('pg-img-base-0')));
  await expect(page).toHaveURL(/cmpA=base/);
  // The second pair, by the keyboard.
  await panel.getByRole('button', { name: 'Next image' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('pg-compare-pair')).toHaveValue('1');
  expect(await pixels(page.getByTestId('pg-compare-img-b'))).toBe(await pixels(page.getByTestId('pg-img-Diffusion-DPO-1')));

  // Flicker: one image alternating A and B; paused, it stays; "Show B/A" swaps by hand.
  await page.getByTestId('pg-compare-mode-flicker').check();
  await page.getByTestId('pg-compare-rate').selectOption('3');
  const flick = page.getByTestId('pg-compare-flicker');
  await expect(flick).toHaveAttribute('data-showing', 'b');
  await expect(flick).toHaveAttribute('data-showing', 'a');
  await expect(page).toHaveURL(/cmpMode=flicker&cmpRate=3/);
  await page.getByTestId('pg-compare-pause').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('pg-compare-pause')).toHaveAttribute('aria-pressed', 'true');
  const held = await flick.getAttribute('data-showing');
  await page.waitForTimeout(1500); // four periods at 3 per second
  await expect(flick).toHaveAttribute('data-showing', held!);
  await expect(page.getByTestId('pg-compare-showing')).toContainText('(paused)');
  await page.getByTestId('pg-compare-swap').click();
  await expect(flick).toHaveAttribute('data-showing', held === 'a' ? 'b' : 'a');
  const shownImg = page.getByTestId(`pg-compare-img-${held === 'a' ? 'b' : 'a'}`);
  expect(await pixels(shownImg)).toBe(await pixels(page.getByTestId(held === 'a' ? 'pg-img-Diffusion-DPO-1' : 'pg-img-base-1')));

  // The AAF chart: Diffusion-DPO has no flipper, its rate of 1 is named, not drawn; SePPO's is drawn.
  const aaf = page.getByTestId('pg-chart-aaf');
  await expect(page.getByTestId('pg-chart-aaf-constant')).toContainText('AAF off for Diffusion-DPO: every reference sample is a loser, so the AAF rate is 1 by construction');
  expect(await solidLines(aaf, smoke.arms[0].colour!)).toBe(1);
  expect(await solidLines(aaf, smoke.arms[1].colour!)).toBe(0);

  // 390 px: the comparison fits (no sideways scrolling of the page).
  await page.setViewportSize({ width: 390, height: 844 });
  expect(await noOverflow(page)).toBeLessThanOrEqual(390);
  await page.getByTestId('pg-compare-mode-side').check();
  expect(await noOverflow(page)).toBeLessThanOrEqual(390);
  await page.setViewportSize({ width: 1366, height: 900 });

  // A recorded run: per-image metrics of its checkpoints, no images, and it says so.
  await page.getByTestId('pg-recorded-open-aaf-ablation-v3-seed0').click();
  await expect(page.getByTestId('pg-recorded-banner')).toContainText('RECORDED');
  await expect(page.getByTestId('pg-compare-a-arm')).toHaveValue('AAF sign (SePPO)');
  await expect(page.getByTestId('pg-compare-b-arm')).toHaveValue('AAF indicator');
  await expect(page.getByTestId('pg-compare-noimg-a')).toContainText('recorded files keep per-image metrics, not images');
  await expect(page.getByTestId('pg-compare-count')).toContainText('32 (prompt, noise) pairs in common');
  const cpA = recordedFile.arms[0].checkpoints.at(-1);
  const cpB = recordedFile.arms[1].checkpoints.at(-1);
  await page.getByTestId('pg-compare-pair').selectOption('0');
  await expect(cell(page, 'trueUtility', 0)).toHaveText(cpA.perImage.trueUtility[0].toFixed(3));
  await expect(cell(page, 'trueUtility', 1)).toHaveText(cpB.perImage.trueUtility[0].toFixed(3));
  await expect(cell(page, 'pickScore', 1)).toHaveText(cpB.perImage.pickScore[0].toFixed(2));
  await page.getByTestId('pg-compare-a-update').selectOption('30');
  await expect(cell(page, 'hps', 0)).toHaveText(recordedFile.arms[0].checkpoints[0].perImage.hps[0].toFixed(2));
  await expect(page.getByTestId('pg-chart-aaf-constant')).toContainText('AAF off for w/o AAF');

  // A small live version beside it: the recorded arms and seed at the smoke size, both on screen and labelled.
  await page.getByTestId('pg-beside-size').selectOption('smoke');
  await page.getByTestId('pg-beside-go').click();
  const beside = page.getByTestId('pg-beside');
  await expect(beside.getByTestId('pg-beside-recorded')).toContainText('RECORDED');
  await expect(beside.getByTestId('pg-beside-recorded')).toContainText('aaf-ablation: AAF sign / indicator / off, seed 0');
  await expect(beside.getByTestId('pg-beside-live')).toContainText('LIVE');
  await expect(page.getByTestId('pg-beside-note')).toContainText('same arms and seed; the live run is smoke-sized: 2 updates on 8 pairs, against the recorded 210 on 1,000');
  await expect(page.getByTestId('pg-beside-live-status')).toHaveText('done', { timeout: 300_000 });
  await expect(page.getByTestId('pg-beside-live-update')).toHaveText(String(smoke.updates));
  const live = decodeConfig(new URL(page.url()).searchParams.get('exp')!);
  expect(live.ok && live.config.arms.map((a) => a.name)).toEqual(recordedFile.config.arms.map((a: { name: string }) => a.name));
  expect(live.ok && [live.config.updates, live.config.dataSize, live.config.seed]).toEqual([smoke.updates, smoke.dataSize, recordedFile.config.seed]);
  // The recorded column draws the recorded curves (210 updates), the live one the live run's (2).
  const pts = async (id: string) => JSON.parse((await page.getByTestId(id).getAttribute('data-points'))!) as Record<string, number>;
  const recPts = await pts('pg-beside-recorded-aaf-points');
  const livePts = await pts('pg-beside-live-aaf-points');
  expect(recPts['AAF sign (SePPO)']).toBe(210 + recordedFile.arms[0].checkpoints.length + 1);
  expect(livePts['AAF sign (SePPO)']).toBe(smoke.updates + 1 + 1);
  await expect(page.getByTestId('pg-beside-recorded-aaf-constant')).toContainText('w/o AAF');
  expect(await solidLines(page.getByTestId('pg-beside-live-aaf'), recordedFile.config.arms[2].colour)).toBe(0);
  expect(await solidLines(page.getByTestId('pg-beside-live-aaf'), recordedFile.config.arms[0].colour)).toBe(1);
  await page.setViewportSize({ width: 390, height: 844 });
  expect(await noOverflow(page)).toBeLessThanOrEqual(390);
  expect(consoleErrors).toEqual([]);
});

test('a bad comparison in the URL is named, and the experiment is untouched', async ({ page, consoleErrors }) => {
  await page.goto(liveUrl('&cmpA=Ghost%402&cmpB=SePPO%403&cmpMode=wobble'));
  await ready(page);
  const msg = page.getByTestId('pg-compare-message');
  await expect(msg).toContainText("Compare side A: unknown arm 'Ghost' in the URL; this experiment's arms are 'SePPO', 'Diffusion-DPO'");
  await expect(msg).toContainText('Compare side B: update 3 is not a checkpoint of this experiment (checkpoints at 0, 2)');
  await expect(msg).toContainText("Compare mode 'wobble' in the URL is not 'side' or 'flicker'");
  expect(new URL(page.url()).searchParams.get('exp')).toBe(encodeConfig(smoke));
  await expect(page.getByTestId('pg-update')).toHaveText('0');
  expect(consoleErrors).toEqual([]);
});

test('presenter mode at 1280×720: the backend notice is one line and expands; a comparison in the URL stays on screen', async ({ page, consoleErrors }) => {
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.goto(liveUrl('&lesson=aaf&step=1&present=1&cmpA=base&cmpB=SePPO%402'));
  await ready(page);
  const notice = page.getByTestId('backend-notice');
  await expect(notice).toBeVisible();
  await expect(notice).toContainText('Running on WASM, not WebGPU.');
  const h = async () => (await notice.boundingBox())!.height;
  const collapsed = await h();
  expect(collapsed).toBeLessThan(48); // one line (the full notice took about 115 px of the 720)
  await expect(page.getByTestId('backend-notice-details')).not.toHaveAttribute('open');
  await expect(page.getByTestId('backend-threads')).toBeHidden();
  await page.getByTestId('backend-notice-summary').focus();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('backend-notice-details')).toHaveAttribute('open');
  await expect(page.getByTestId('backend-threads')).toBeVisible();
  expect(await h()).toBeGreaterThan(collapsed);
  await expect(page.getByTestId('pg-compare')).toBeVisible();
  await expect(page.getByTestId('pg-compare-a-arm')).toHaveValue('');
  // Out of presenter mode the notice is open in full again.
  await page.getByRole('button', { name: 'Leave presenter mode' }).click();
  await expect(page.getByTestId('backend-notice-details')).toHaveAttribute('open');
  expect(consoleErrors).toEqual([]);
});
