import { VIDEO_PRESETS } from '../src/core/video/config';
import { test, expect } from './fixtures';

/**
 * Issue 17, the page: the video-smoke preset trains its updates in Chromium (WASM, the built site)
 * on the shipped image base + motion modules, and the animated sample grid is not blank: every
 * cell draws non-uniform pixels, cycles through all F frames, and its frames differ.
 */
const SMOKE = VIDEO_PRESETS['video-smoke'];

test('video-smoke trains its updates and the animated grid is not blank', async ({ page, consoleErrors }) => {
  test.setTimeout(600_000);
  await page.goto('/?backend=wasm&view=video&vpreset=video-smoke');
  await expect(page.getByTestId('video-view')).toBeVisible({ timeout: 120_000 });
  await expect(page.getByRole('tab', { name: 'Video' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('video-preset')).toHaveValue('video-smoke');
  await expect(page.getByTestId('video-preset-description')).toContainText('Two updates of SFT and SePPO');
  await page.getByTestId('video-start').click();
  await expect(page.getByTestId('video-status')).toHaveText('finished', { timeout: 480_000 });
  await expect(page.getByTestId('video-error')).toHaveCount(0);
  await expect(page.getByTestId('video-update')).toHaveText(String(SMOKE.updates));
  await expect(page.getByTestId('video-chart-loss').locator('.recharts-line')).toHaveCount(SMOKE.arms.length);
  await expect(page.getByTestId('video-chart-delta').locator('.recharts-line')).toHaveCount(SMOKE.arms.length);
  await expect(page.getByTestId('video-final')).toContainText('SePPO');

  const grid = page.getByTestId('video-grid');
  await expect(grid).toHaveAttribute('data-update', String(SMOKE.updates));
  const rows = 1 + SMOKE.arms.length;
  const cols = await page.getByTestId('video-prompt').count();
  expect(cols).toBeGreaterThan(0);
  await expect(page.getByTestId('video-prompt').first()).toHaveText(/^a (small|medium|large) /);
  const cells = page.getByTestId('video-cell');
  await expect(cells).toHaveCount(rows * cols);

  // Every cell has drawn each of its F frames (the clock cycles them every 150 ms).
  await expect
    .poll(async () => cells.evaluateAll((cs) => cs.map((c) => Number((c as HTMLElement).dataset.framesDrawn ?? 0))), { timeout: 30_000 })
    .toEqual(Array(rows * cols).fill(SMOKE.frames));
  for (const c of await cells.all()) expect(await c.getAttribute('data-frames')).toBe(String(SMOKE.frames));

  // Watch every cell for ~3 s: the pixels of each frame it shows, their spread, and how many distinct frames look different.
  const seen = await page.evaluate(async () => {
    const canvases = [...document.querySelectorAll<HTMLCanvasElement>('[data-testid="video-cell"]')];
    const out = canvases.map(() => ({ spread: [] as number[], hashes: new Map<string, string>() }));
    const t0 = performance.now();
    while (performance.now() - t0 < 3000) {
      canvases.forEach((cv, i) => {
        const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
        let s = 0, s2 = 0, n = 0, h = 0;
        for (let p = 0; p < d.length; p += 4)
          for (let k = 0; k < 3; k++) {
            s += d[p + k];
            s2 += d[p + k] ** 2;
            n++;
            h = (Math.imul(h, 31) + d[p + k]) | 0;
          }
        const m = s / n;
        out[i].spread.push(Math.sqrt(Math.max(0, s2 / n - m * m)));
        out[i].hashes.set(cv.dataset.frame ?? '?', String(h));
      });
      await new Promise((r) => setTimeout(r, 40));
    }
    return out.map((o) => ({ minSpread: Math.min(...o.spread), framesSeen: o.hashes.size, distinctImages: new Set(o.hashes.values()).size }));
  });
  expect(seen).toHaveLength(rows * cols);
  for (const [i, s] of seen.entries()) {
    expect(s.minSpread, `cell ${i}: non-uniform pixels`).toBeGreaterThan(2);
    expect(s.framesSeen, `cell ${i}: frames cycled`).toBeGreaterThanOrEqual(SMOKE.frames - 1);
    expect(s.distinctImages, `cell ${i}: its frames differ`).toBeGreaterThan(1);
  }

  // Leak-free: after the finished run, the worker holds the base model alone; a second run stopped after one update frees everything too.
  const tensors = () => page.evaluate(async () => ((await (window as unknown as { __seppoDebug: { memory(): Promise<{ numTensors: number }> } }).__seppoDebug.memory()).numTensors));
  const afterDone = await tensors();
  await page.getByTestId('video-start').click();
  await expect(page.getByTestId('video-update')).toHaveText('1', { timeout: 240_000 });
  await page.getByTestId('video-stop').click();
  await expect(page.getByTestId('video-status')).toHaveText('stopped', { timeout: 120_000 });
  await expect(page.getByTestId('video-start')).toBeEnabled();
  expect(await tensors()).toBe(afterDone);
  expect(consoleErrors).toEqual([]);
});

test('a bad vpreset says so and shows the default', async ({ page, consoleErrors }) => {
  await page.goto('/?backend=wasm&view=video&vpreset=table9');
  await expect(page.getByTestId('video-url-warning')).toContainText("vpreset=\"table9\" is not a video preset (expected 'table3' or 'video-smoke'); showing 'table3'");
  await expect(page.getByTestId('video-preset')).toHaveValue('table3');
  await expect(page.getByTestId('video-preset-description')).toContainText('Table 3');
  expect(consoleErrors).toEqual([]);
});
