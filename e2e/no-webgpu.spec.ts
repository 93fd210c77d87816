import { test, expect } from './fixtures';

test('without WebGPU (and WebGL in software) the page picks WASM and says why', async ({ page, consoleErrors }) => {
  await page.goto('/?view=data');
  await expect(page.getByTestId('backend-badge')).toHaveText('WASM');
  const notice = page.getByTestId('backend-notice');
  await expect(notice).toContainText('Running on WASM, not WebGPU');
  await expect(notice).toContainText(/WebGPU: .*(navigator\.gpu|adapter)/);
  await expect(page.getByTestId('backend-rule')).toContainText('No GPU here: there is no WebGPU and WebGL renders in software');
  await expect(page.getByTestId('worker-check')).toHaveText('[19, 22; 43, 50] on wasm');
  expect(consoleErrors).toEqual([]);
});

test('?backend=webgl is still honoured without WebGPU', async ({ page, consoleErrors }) => {
  await page.goto('/?backend=webgl&view=data');
  await expect(page.getByTestId('backend-badge')).toHaveText('WebGL');
  await expect(page.getByTestId('worker-check')).toHaveText('[19, 22; 43, 50] on webgl');
  expect(consoleErrors).toEqual([]);
});
