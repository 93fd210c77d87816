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
