import { test, expect } from './fixtures';

test.describe('Data view', () => {
  test('shows the dataset figures and pages through pairs with images and utilities', async ({ page, consoleErrors }) => {
    await page.goto('/?view=data');
    await expect(page.getByRole('tab', { name: 'Data' })).toHaveAttribute('aria-selected', 'true');

    // Figures: the train split's pair count, rater agreement, generators, evaluation prompts.
    await expect(page.getByTestId('data-splits')).toContainText('train (alignment)');
    await expect(page.getByTestId('data-splits')).toContainText('1000');
    await expect(page.getByTestId('data-agreement')).toContainText('%');
    await expect(page.getByTestId('data-generators')).toContainText('sharp-pro');
    await expect(page.getByTestId('data-validation').locator('li')).not.toHaveCount(0);
    await expect(page.getByTestId('data-ood').locator('li')).not.toHaveCount(0);

    // A page of pairs: each has a winner and a loser image, a utility each, the winner marked.
    const pairs = page.getByTestId('data-pair');
    await expect(pairs).toHaveCount(6);
    const first = pairs.first();
    await expect(first.getByTestId('data-winner')).toContainText('winner');
    await expect(first.getByTestId('data-winner').getByRole('img')).toHaveCount(1);
    await expect(first.getByTestId('data-loser').getByRole('img')).toHaveCount(1);
    const u = await first.getByTestId('data-utility').allTextContents();
    expect(u).toHaveLength(2);
    for (const v of u) expect(Number(v)).toBeGreaterThanOrEqual(0);

    // The winner image is really drawn (not a blank canvas).
    const std = await first.getByTestId('data-winner').locator('canvas').evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let s = 0, s2 = 0, n = 0;
      for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) (s += d[i + k]), (s2 += d[i + k] ** 2), n++;
      return Math.sqrt(s2 / n - (s / n) ** 2);
    });
    expect(std).toBeGreaterThan(5);

    // Paging.
    const firstPrompt = await first.locator('.data-pair-head').textContent();
    await expect(page.getByTestId('data-page')).toContainText('page 1 of 167');
    await page.getByRole('button', { name: 'Next page' }).click();
    await expect(page.getByTestId('data-page')).toContainText('page 2 of 167');
    await expect(pairs.first()).toContainText('#7');
    expect(await pairs.first().locator('.data-pair-head').textContent()).not.toBe(firstPrompt);
    await page.getByRole('button', { name: 'Last page' }).click();
    await expect(page.getByTestId('data-page')).toContainText('page 167 of 167');
    await expect(pairs).toHaveCount(4); // 1000 = 166·6 + 4
    await expect(page.getByRole('button', { name: 'Next page' })).toBeDisabled();
    await page.getByRole('button', { name: 'Previous page' }).click();
    await expect(page.getByTestId('data-page')).toContainText('page 166 of 167');

    // Filter: pairs where the raters chose the lower-utility image (simulated human noise).
    await page.getByLabel('Show').selectOption('upset');
    await expect(page.getByTestId('data-page')).toContainText('out of 1000');
    await expect(pairs.first()).toBeVisible();
    const [uw, ul] = (await pairs.first().getByTestId('data-utility').allTextContents()).map(Number);
    expect(uw).toBeLessThan(ul);

    await page.screenshot({ path: test.info().outputPath('data-view.png'), fullPage: true });
    expect(consoleErrors).toEqual([]);
  });
});
