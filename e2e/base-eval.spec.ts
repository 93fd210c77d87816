import { encodeConfig, presetConfig } from '../src/core/config';
import { test, expect } from './fixtures';

/**
 * Issue 18, item 7: the base model's evaluation never blocks the controls. While it runs the page
 * shows its progress and a Cut short button; cut short, the run loads without base figures and
 * says so; a full evaluation is cached, so a reload reuses it and says from when.
 * Built site, WASM; the smoke preset with 32 evaluation prompts × 20 DDIM steps (4 batches of 8).
 */
const cfg = { ...presetConfig('smoke'), evalPrompts: 32, evalSteps: 20, seed: 4242 };
const url = `/?exp=${encodeConfig(cfg)}&backend=wasm`;

test('the base evaluation: cut short (the page is usable and says so), then evaluated in full, then a reload uses the cache', async ({ page, consoleErrors }) => {
  test.setTimeout(480_000);
  await page.goto(url);
  const cut = page.getByTestId('pg-cut-base');
  await expect(cut).toBeVisible({ timeout: 180_000 });
  await expect(page.getByTestId('pg-progress')).toContainText(/evaluating the base model: \d+ of 32 images/);
  await cut.click();
  await expect(page.getByTestId('pg-status')).toHaveText('ready', { timeout: 120_000 });
  await expect(page.getByTestId('pg-base-eval')).toContainText('cut short');
  await expect(page.getByTestId('pg-base-eval')).toContainText('win rates against the base are not computed');
  await expect(page.getByTestId('pg-play')).toBeEnabled();
  // Playable: one step runs.
  await page.getByRole('button', { name: 'Step', exact: true }).click();
  await expect(page.getByTestId('pg-update')).toHaveText('1', { timeout: 120_000 });

  // A reload: nothing was cached (it was cut short), so it evaluates in full.
  await page.reload();
  await expect(page.getByTestId('pg-status')).toHaveText(/ready|paused/, { timeout: 300_000 });
  await expect(page.getByTestId('pg-base-eval')).toHaveCount(0);

  // Another reload: the full evaluation comes from the cache, dated.
  await page.reload();
  await expect(page.getByTestId('pg-status')).toHaveText(/ready|paused/, { timeout: 120_000 });
  await expect(page.getByTestId('pg-base-eval')).toContainText(/cached from .*\d/);
  await expect(page.getByTestId('pg-cut-base')).toHaveCount(0);

  // A changed protocol (guidance) does not hit the cache.
  await page.goto(`/?exp=${encodeConfig({ ...cfg, evalGuidance: 3 })}&backend=wasm`);
  await expect(page.getByTestId('pg-cut-base')).toBeVisible({ timeout: 180_000 });
  await page.getByTestId('pg-cut-base').click();
  await expect(page.getByTestId('pg-base-eval')).toContainText('cut short', { timeout: 120_000 });
  expect(consoleErrors).toEqual([]);
});
