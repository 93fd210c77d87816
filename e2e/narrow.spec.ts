import { encodeConfig, presetConfig } from '../src/core/config';
import { test, expect } from './fixtures';

/** Issue 18, defect 8: at 390 px the page is one column, the controls collapse, nothing is cut. */
test.use({ viewport: { width: 390, height: 844 } });

test('390 px: one column, controls collapsed so the charts come first, open controls fit their cards', async ({ page, consoleErrors }) => {
  await page.goto(`/?backend=wasm&exp=${encodeConfig(presetConfig('smoke'))}`);
  await expect(page.getByTestId('pg-play')).toBeEnabled({ timeout: 120_000 });
  const layout = () =>
    page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      chartsTop: document.querySelector('.pg-main')!.getBoundingClientRect().top + window.scrollY,
      sideWidth: document.querySelector('.pg-side')!.getBoundingClientRect().width,
    }));
  const closed = await layout();
  expect(closed.scrollWidth).toBeLessThanOrEqual(390); // no sideways scrolling
  expect(closed.sideWidth).toBeGreaterThan(340); // one column, full width
  expect(closed.chartsTop).toBeLessThan(844); // the charts start on the first screen
  await expect(page.getByLabel('Seed', { exact: true })).toBeHidden();
  // Open the controls: every select and label of the arm cards fits inside its card, wide enough to read.
  await page.getByTestId('pg-controls-toggle').click();
  await expect(page.getByLabel('Seed', { exact: true })).toBeVisible();
  const fit = await page.evaluate(() =>
    [...document.querySelectorAll('.pg-arm')].flatMap((card) => {
      const c = card.getBoundingClientRect();
      return [...card.querySelectorAll('select, label')].map((el) => {
        const r = el.getBoundingClientRect();
        const cut = el instanceof HTMLSelectElement ? r.width < 110 : el.scrollWidth > el.clientWidth + 1;
        return { text: (el.textContent ?? '').slice(0, 20), inside: r.left >= c.left - 1 && r.right <= c.right + 1, cut };
      });
    }),
  );
  expect(fit.length).toBeGreaterThan(4);
  expect(fit.filter((f) => !f.inside || f.cut)).toEqual([]);
  expect((await layout()).scrollWidth).toBeLessThanOrEqual(390);
  expect(consoleErrors).toEqual([]);
});

test('390 px: the Video view, its charts and its animated grid fit without sideways scrolling', async ({ page, consoleErrors }) => {
  test.setTimeout(600_000);
  await page.goto('/?backend=wasm&view=video&vpreset=video-smoke');
  await page.getByTestId('video-start').click();
  await expect(page.getByTestId('video-status')).toHaveText('finished', { timeout: 480_000 });
  await expect(page.getByTestId('video-cell').first()).toBeVisible();
  const fit = await page.evaluate(() => {
    const grid = document.querySelector('[data-testid="video-grid"]')!.getBoundingClientRect();
    const cell = document.querySelector('[data-testid="video-cell"]')!.getBoundingClientRect();
    return { scrollWidth: document.documentElement.scrollWidth, gridRight: grid.right, cellWidth: cell.width };
  });
  expect(fit.scrollWidth).toBeLessThanOrEqual(390);
  expect(fit.gridRight).toBeLessThanOrEqual(390);
  expect(fit.cellWidth).toBeGreaterThan(40); // the clips shrink to fit, but stay large enough to see
  await page.screenshot({ path: process.env.VIDEO_SHOT ?? 'test-results/video-390.png', fullPage: true });
  expect(consoleErrors).toEqual([]);
});
