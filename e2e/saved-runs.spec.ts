import type { Page } from '@playwright/test';
import { encodeConfig, presetConfig } from '../src/core/config';
import { test, expect } from './fixtures';

/**
 * Issue 18, defect 2: saved runs are a list keyed by the experiment. A run saved, another
 * experiment opened (in the same tab and in a second tab), the first reopened: it resumes.
 * WASM on the built site (fast); the smoke preset saves at its checkpoint, update 2.
 */

const smoke = presetConfig('smoke');
const smokeUrl = `/?exp=${encodeConfig(smoke)}&backend=wasm`;
const otherUrl = (seed: number) => `/?exp=${encodeConfig({ ...smoke, seed })}&backend=wasm`;

async function ready(page: Page) {
  await expect(page.getByTestId('pg-status')).toHaveText(/ready|paused|finished/, { timeout: 120_000 });
}

async function playToTheEnd(page: Page) {
  await ready(page);
  await page.getByTestId('pg-play').click();
  await expect(page.getByTestId('pg-status')).toHaveText('finished', { timeout: 240_000 });
}

const rows = (page: Page) => page.getByTestId('pg-saved-row');

test.describe('saved runs (built site, WASM)', () => {
  test('a run saved, another experiment opened in the same tab and in a second tab, the first reopened: it resumes', async ({ page, context, consoleErrors }) => {
    test.setTimeout(600_000);
    await page.goto(smokeUrl);
    await playToTheEnd(page);
    await expect(page.getByTestId('pg-saved')).toContainText('saved @2');
    await expect(rows(page)).toHaveCount(1);
    await expect(rows(page).first()).toContainText('smoke');
    await expect(rows(page).first()).toContainText('2 / 2');
    await expect(rows(page).first()).toContainText(/\d+(\.\d)? (KB|MB)/);

    // Same tab: another experiment (seed 7), trained to its save.
    const seed = page.getByLabel('Seed', { exact: true });
    await seed.fill('7');
    await seed.press('Enter');
    await ready(page);
    await expect(page.getByTestId('pg-update')).toHaveText('0');
    await playToTheEnd(page);
    await expect(rows(page)).toHaveCount(2);

    // A second tab: a third experiment, trained to its save; the first tab's list follows.
    const other = await context.newPage();
    const otherErrors: string[] = [];
    other.on('pageerror', (e) => otherErrors.push(e.message));
    await other.goto(otherUrl(9));
    await playToTheEnd(other);
    await expect(rows(other)).toHaveCount(3);
    await expect(rows(page)).toHaveCount(3);

    // The first experiment reopened in the second tab: it resumes at its save.
    await other.goto(smokeUrl);
    await expect(other.getByTestId('pg-notice')).toContainText('Resumed the run saved at update 2', { timeout: 120_000 });
    await expect(other.getByTestId('pg-update')).toHaveText('2');
    await expect(other.getByTestId('pg-status')).toHaveText('finished');
    await other.close();

    // ... and in the first tab, from the Saved runs list.
    const first = rows(page).filter({ hasText: /^smoke/ });
    await first.getByRole('button', { name: 'Open' }).click();
    await expect(page.getByTestId('pg-notice')).toContainText('Resumed the run saved at update 2', { timeout: 120_000 });
    await expect(page.getByTestId('pg-update')).toHaveText('2');
    await expect(page.getByLabel('Seed', { exact: true })).toHaveValue(String(smoke.seed));
    // Points of both arms are back on the chart.
    const points = JSON.parse((await page.getByTestId('pg-chart-aaf-points').getAttribute('data-points'))!) as Record<string, number>;
    for (const a of smoke.arms) expect(points[a.name]).toBeGreaterThanOrEqual(2);

    // Delete removes one run and only that one.
    page.once('dialog', (d) => void d.accept());
    await rows(page).filter({ hasText: 'seed 9' }).getByRole('button', { name: /^Delete/ }).click();
    await expect(rows(page)).toHaveCount(2);
    await expect(rows(page).filter({ hasText: 'seed 9' })).toHaveCount(0);
    expect(otherErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  // A full disk, simulated where the worker stores runs: its IndexedDB put throws a
  // QuotaExceededError (the page's debug hook; Chrome's quota override applied unpredictably).
  test('a full disk: a clear message, training goes on, nothing saved before is lost', async ({ page, consoleErrors }) => {
    test.setTimeout(400_000);
    await page.goto(smokeUrl);
    await playToTheEnd(page);
    await expect(rows(page)).toHaveCount(1);
    await expect(page.getByTestId('pg-warning')).toHaveCount(0);
    const rowText = async () => ((await rows(page).first().textContent()) ?? '').replace(' · this tab', ''); // the marker follows the open experiment
    const before = await rowText();
    // From now on the disk is full.
    await page.evaluate(() => (window as unknown as { __seppoDebug: { fullDisk(): Promise<unknown> } }).__seppoDebug.fullDisk());
    // Another experiment (seed 5) in the same tab: it trains to the end, says its save failed, and the first save is intact.
    const seed = page.getByLabel('Seed', { exact: true });
    await seed.fill('5');
    await seed.press('Enter');
    await ready(page);
    await expect(page.getByTestId('pg-update')).toHaveText('0');
    await playToTheEnd(page);
    await expect(page.getByTestId('pg-update')).toHaveText('2');
    await expect(page.getByTestId('pg-warning')).toContainText("Could not save the run at update 2: the browser's storage for this site is full");
    await expect(page.getByTestId('pg-warning')).toContainText('every run saved before is intact');
    await expect(rows(page)).toHaveCount(1);
    expect(await rowText()).toBe(before); // same date, updates and size: the save is untouched
    // The first experiment, reopened from the list: it resumes at its save.
    await rows(page).first().getByRole('button', { name: 'Open' }).click();
    await expect(page.getByTestId('pg-notice')).toContainText('Resumed the run saved at update 2', { timeout: 120_000 });
    await expect(page.getByTestId('pg-update')).toHaveText('2');
    // ... and after a reload too (a fresh worker, the real storage).
    await page.goto(smokeUrl);
    await expect(page.getByTestId('pg-notice')).toContainText('Resumed the run saved at update 2', { timeout: 120_000 });
    await expect(rows(page)).toHaveCount(1);
    expect(consoleErrors).toEqual([]);
  });
});
