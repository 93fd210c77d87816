import { test, expect } from './fixtures';

test('playground without WebGPU: says so and defaults to the teaching preset sized for the fallback backend', async ({ page, consoleErrors }) => {
  await page.goto('/');
  await expect(page.getByTestId('backend-badge')).toHaveText('WASM');
  await expect(page.getByTestId('pg-fallback')).toContainText('No GPU here: training runs on WASM');
  await expect(page.getByLabel('Updates', { exact: true })).toHaveValue('90');
  await expect(page.getByLabel('Evaluation prompts', { exact: true })).toHaveValue('32');
  await expect(page.getByLabel('Preset')).toHaveValue('first-look');
  await expect(page.getByTestId('pg-play')).toBeEnabled({ timeout: 60_000 });
  expect(consoleErrors).toEqual([]);
});
