import { test, expect } from './fixtures';

test('playground without WebGPU: says so and defaults to a smaller experiment on the fallback backend', async ({ page, consoleErrors }) => {
  await page.goto('/');
  await expect(page.getByTestId('backend-badge')).toHaveText('WebGL');
  await expect(page.getByTestId('pg-fallback')).toContainText('No WebGPU here: training runs on WebGL');
  await expect(page.getByLabel('Updates', { exact: true })).toHaveValue('40');
  await expect(page.getByLabel('Evaluation prompts', { exact: true })).toHaveValue('8');
  expect(consoleErrors).toEqual([]);
});
