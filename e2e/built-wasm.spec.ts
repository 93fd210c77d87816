import type { Page } from '@playwright/test';
import { presetConfig } from '../src/core/config';
import { test, expect } from './fixtures';

/**
 * Issue 18, defect 1: the *built* site (the suite serves `dist/` with `vite preview`) trains on
 * WASM — on the threaded build when the page is cross-origin isolated (vite preview sends COOP/COEP;
 * its pool is half the logical cores, so one thread on a 2-core machine: issue 14,
 * e2e/wasm-threads.spec.ts), single-threaded when it is not — and says which. Before the fix every pthread worker of the
 * bundled WASM backend died with "ReferenceError: e is not defined".
 */

async function canvasSpread(page: Page, testId: string): Promise<number> {
  return page.getByTestId(testId).evaluate((c) => {
    const cv = c as HTMLCanvasElement;
    const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
    let s = 0, s2 = 0, n = 0;
    for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) { s += d[i + k]; s2 += d[i + k] ** 2; n++; }
    const m = s / n;
    return Math.sqrt(Math.max(0, s2 / n - m * m));
  });
}

async function playSmokeToTheEnd(page: Page) {
  await expect(page.getByTestId('pg-status')).toHaveText('ready', { timeout: 120_000 });
  await page.getByTestId('pg-play').click();
  await expect(page.getByTestId('pg-status')).toHaveText('finished', { timeout: 240_000 });
  const smoke = presetConfig('smoke');
  await expect(page.getByTestId('pg-update')).toHaveText(String(smoke.updates));
  for (const [i, a] of smoke.arms.entries()) {
    await expect(page.getByTestId(`pg-results-row-${i}`)).toContainText(a.name);
    await expect(page.getByTestId(`pg-results-row-${i}`).locator('td').nth(2)).toHaveText(/^\d+\.\d+$/);
    expect(await canvasSpread(page, `pg-img-${a.name}-0`), `image of ${a.name}`).toBeGreaterThan(2);
  }
}

test.describe('built site on WASM', () => {
  test('cross-origin isolated: the threaded WASM build trains the smoke preset to the end', async ({ page, consoleErrors }) => {
    test.setTimeout(420_000);
    await page.goto('/?preset=smoke&backend=wasm');
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await expect(page.getByTestId('backend-badge')).toHaveText('WASM');
    // tfjs's pool is half the logical cores: on a 2-core machine the threaded build computes on one thread (issue 14)
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    await expect(page.getByTestId('backend-threads')).toContainText(
      cores >= 4 ? /WASM runs multi-threaded \(the page is cross-origin isolated; a pool of \d+ threads on \d+ logical cores\)/ : 'WASM runs single-threaded: the threaded build is loaded, but its pool has 1 thread',
    );
    await expect(page.getByTestId('worker-check')).toHaveText('[19, 22; 43, 50] on wasm');
    await playSmokeToTheEnd(page);
    expect(consoleErrors).toEqual([]);
  });

  test('not isolated (no COOP/COEP): single-threaded WASM trains and says why', async ({ page, consoleErrors }) => {
    test.setTimeout(420_000);
    // Serve the same build without the isolation headers (a plain static host).
    await page.route('**/*', async (route) => {
      const response = await route.fetch();
      const headers = { ...response.headers() };
      delete headers['cross-origin-opener-policy'];
      delete headers['cross-origin-embedder-policy'];
      await route.fulfill({ response, headers });
    });
    await page.goto('/?preset=smoke&backend=wasm');
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    await expect(page.getByTestId('backend-badge')).toHaveText('WASM');
    await expect(page.getByTestId('backend-threads')).toContainText('WASM runs single-threaded: the page is not cross-origin isolated');
    await playSmokeToTheEnd(page);
    expect(consoleErrors).toEqual([]);
  });
});
