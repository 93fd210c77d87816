import type { Page } from '@playwright/test';
import { test, expect } from './fixtures';

/** Standard deviation of the RGB values of the sample's canvas (0 for a blank image). */
async function canvasStd(page: Page): Promise<number> {
  return page.getByTestId('model-image').evaluate((c: HTMLCanvasElement) => {
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let s = 0, s2 = 0, n = 0;
    for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) (s += d[i + k]), (s2 += d[i + k] ** 2), n++;
    return Math.sqrt(s2 / n - (s / n) ** 2);
  });
}

test.describe('Model view (WebGPU)', () => {
  test('samples a prompt step by step; the image is not blank and its metrics are shown', async ({ page, consoleErrors }) => {
    test.setTimeout(480_000); // software WebGPU on a loaded 2-core machine: measured 1–3 min for 3 steps
    await page.goto('/?view=model&backend=webgpu');
    await expect(page.getByTestId('backend-badge')).toHaveText('WebGPU');
    await expect(page.getByTestId('model-info')).toBeVisible({ timeout: 120_000 });

    await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('a large green square on the left, light background');
    await page.getByRole('spinbutton', { name: 'Seed', exact: true }).fill('3');
    await page.getByRole('spinbutton', { name: 'DDIM steps', exact: true }).fill('3');
    await page.getByRole('spinbutton', { name: 'Guidance scale', exact: true }).fill('5');
    await page.getByRole('button', { name: 'Sample' }).click();

    // Progress "step k/N", then the final image with its five metrics.
    await expect(page.getByTestId('model-step')).toContainText('/3');
    // The first step compiles every GPU kernel: about a minute on the software adapter.
    await expect(page.getByTestId('model-caption')).toContainText('seed 3 · 3 DDIM steps · guidance 5', { timeout: 360_000 });
    await expect(page.getByTestId('model-caption')).toContainText('on webgpu');
    expect(await canvasStd(page)).toBeGreaterThan(3);
    await expect(page.getByTestId('model-metrics-error')).toHaveCount(0); // scorers loaded (else the message shows why)
    for (const k of ['pickScore', 'hps', 'alignment', 'aesthetic', 'trueUtility']) {
      await expect(page.getByTestId(`metric-${k}`).locator('.model-value')).toHaveText(/^-?\d+\.\d+$/);
    }
    await expect(page.getByTestId('model-scorer-notes')).toContainText(/pickscore-mini \(held-out \d+\.\d% vs ceiling \d+\.\d%/);
    const trueU = Number(await page.getByTestId('metric-trueUtility').locator('.model-value').textContent());
    expect(trueU).toBeGreaterThanOrEqual(0);
    expect(trueU).toBeLessThanOrEqual(1);
    await page.screenshot({ path: test.info().outputPath('model-view.png'), fullPage: true });

    // An unknown word: the message names it and lists the vocabulary; the image stays.
    const before = await page.getByTestId('model-image').evaluate((c: HTMLCanvasElement) => c.toDataURL());
    await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('a large green hexagon on the left, light background');
    await page.getByRole('button', { name: 'Sample' }).click();
    await expect(page.getByTestId('model-prompt-error')).toContainText('Unknown word "hexagon"');
    await expect(page.getByTestId('model-prompt-error')).toContainText('circle, square, triangle');
    expect(await page.getByTestId('model-image').evaluate((c: HTMLCanvasElement) => c.toDataURL())).toBe(before);
    await expect(page.getByTestId('metric-trueUtility')).toBeVisible();
    await page.screenshot({ path: test.info().outputPath('model-unknown-word.png'), fullPage: true });

    // Stop: a long run stops after its first step; the last completed image comes back.
    await page.getByRole('textbox', { name: 'Prompt', exact: true }).fill('a small red ring at the top, dark background');
    await page.getByRole('spinbutton', { name: 'DDIM steps', exact: true }).fill('200');
    await page.getByRole('button', { name: 'Sample' }).click();
    await expect(page.getByTestId('model-step')).toContainText(/[1-9]\d*\/200/, { timeout: 120_000 });
    await page.getByRole('button', { name: 'Stop' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Stopped at step' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Sample' })).toBeEnabled();
    expect(await page.getByTestId('model-image').evaluate((c: HTMLCanvasElement) => c.toDataURL())).toBe(before);
    expect(consoleErrors).toEqual([]);
  });

  test('a missing or corrupt base model gets a clear message', async ({ page, consoleErrors }) => {
    await page.context().route('**/models/base/model.safetensors', (r) => r.fulfill({ status: 404, body: 'not found' }));
    await page.goto('/?view=model');
    await expect(page.getByTestId('model-load-error')).toContainText('model.safetensors');
    await expect(page.getByTestId('model-load-error')).toContainText('404');
    await expect(page.getByRole('button', { name: 'Sample' })).toBeDisabled();

    // A truncated file, after Retry: the loader names the problem.
    await page.context().unroute('**/models/base/model.safetensors');
    await page.context().route('**/models/base/model.safetensors', async (r) => {
      const res = await r.fetch();
      const body = await res.body();
      await r.fulfill({ response: res, body: body.subarray(0, body.length - 1000) });
    });
    await page.getByRole('button', { name: 'Retry' }).click();
    await expect(page.getByTestId('model-load-error')).toContainText('corrupt');
    await expect(page.getByTestId('model-load-error')).toContainText(/truncated|length/);
    // The browser logs the 404 response itself; nothing else may reach the console.
    expect(consoleErrors.filter((e) => !/404/.test(e))).toEqual([]);
  });
});
