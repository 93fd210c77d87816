import { test, expect } from './fixtures';

/**
 * Issue 18: a WebGPU device loss is survived. The smoke preset on WebGPU (software adapter here)
 * trains to its checkpoint; the device is destroyed from the page; the page says so, starts a
 * fresh worker on a new device and resumes from the saved checkpoint.
 */
const SLOW = 300_000;

test('WebGPU device lost: the page says so, re-initialises the backend and resumes from the last save', async ({ page, consoleErrors }) => {
  test.setTimeout(900_000);
  await page.goto('/?preset=smoke&backend=webgpu');
  await expect(page.getByTestId('backend-badge')).toHaveText('WebGPU');
  await expect(page.getByTestId('pg-status')).toHaveText('ready', { timeout: SLOW });
  await page.getByTestId('pg-play').click();
  await expect(page.getByTestId('pg-status')).toHaveText('finished', { timeout: SLOW });
  await expect(page.getByTestId('pg-saved')).toContainText('saved @2');
  const destroyed = await page.evaluate(() => (window as unknown as { __seppoDebug: { loseDevice(): Promise<{ destroyed: boolean }> } }).__seppoDebug.loseDevice());
  expect(destroyed.destroyed).toBe(true);
  await expect(page.getByTestId('device-lost-notice')).toContainText('The WebGPU device was lost (destroyed');
  await expect(page.getByTestId('pg-notice')).toContainText('Resumed the run saved at update 2', { timeout: SLOW });
  await expect(page.getByTestId('device-lost-notice')).toContainText('resumed the experiment from its last save');
  await expect(page.getByTestId('backend-badge')).toHaveText('WebGPU');
  await expect(page.getByTestId('worker-check')).toHaveText('[19, 22; 43, 50] on webgpu');
  await expect(page.getByTestId('pg-update')).toHaveText('2');
  await expect(page.getByTestId('pg-status')).toHaveText('finished');
  // WebGPU logs the destroyed device's pending work; nothing else may fail.
  expect(consoleErrors.filter((e) => !/destroyed|device (was )?lost|Device is lost/i.test(e))).toEqual([]);
});
