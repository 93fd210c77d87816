import { test, expect } from './fixtures';

test('without WebGPU the page falls back to WebGL and says why', async ({ page, consoleErrors }) => {
  await page.goto('/');
  await expect(page.getByTestId('backend-badge')).toHaveText('WebGL');
  const notice = page.getByTestId('backend-notice');
  await expect(notice).toContainText('Running on WebGL, not WebGPU');
  await expect(notice).toContainText(/WebGPU: .*(navigator\.gpu|adapter)/);
  await expect(page.getByTestId('worker-check')).toHaveText('[19, 22; 43, 50] on webgl');
  expect(consoleErrors).toEqual([]);
});
