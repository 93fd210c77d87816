import { test, expect } from './fixtures';

test.describe('backend selection (WebGPU on)', () => {
  test('badge reads WebGPU and the worker computed on webgpu', async ({ page, consoleErrors }) => {
    await page.goto('/');
    await expect(page.getByTestId('backend-badge')).toHaveText('WebGPU');
    await expect(page.getByTestId('worker-check')).toHaveText('[19, 22; 43, 50] on webgpu');
    await expect(page.getByTestId('backend-notice')).toHaveCount(0);
    expect(consoleErrors).toEqual([]);
  });

  test('?backend=cpu is honoured', async ({ page, consoleErrors }) => {
    await page.goto('/?backend=cpu');
    await expect(page.getByTestId('backend-badge')).toHaveText('CPU');
    await expect(page.getByTestId('worker-check')).toHaveText('[19, 22; 43, 50] on cpu');
    await expect(page.getByTestId('backend-notice')).toContainText('You asked for CPU');
    expect(consoleErrors).toEqual([]);
  });

  test('an unknown ?backend= value gives a clear message and a working default', async ({ page, consoleErrors }) => {
    await page.goto('/?backend=quantum');
    await expect(page.getByTestId('url-warning')).toContainText('Unknown backend "quantum"');
    await expect(page.getByTestId('url-warning')).toContainText('webgpu, webgl, wasm, cpu');
    await expect(page.getByTestId('backend-badge')).toHaveText('WebGPU');
    await expect(page.getByTestId('worker-check')).toHaveText('[19, 22; 43, 50] on webgpu');
    expect(consoleErrors).toEqual([]);
  });
});
