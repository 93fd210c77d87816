import { encodeConfig, parseExperimentConfig, presetConfig } from '../src/core/config';
import { test, expect } from './fixtures';

/**
 * Issue 18, item 5: the divergence guard on the built page (WASM). The smoke experiment with its
 * SePPO arm at lr = 1: that arm halts with a visible message naming the update and the value
 * (the loss above divergence.maxLoss, or the winners' error against θ₀ above
 * divergence.maxWinnerErrorRise), the Diffusion-DPO arm trains to the end. The per-arm lr field
 * shows the URL's value and refuses an out-of-range edit like the other knobs.
 */
test('an arm at lr = 1 is halted with a message naming the update and the value; the other arm finishes', async ({ page, consoleErrors }) => {
  test.setTimeout(300_000);
  const smoke = presetConfig('smoke');
  const cfg = parseExperimentConfig({ ...smoke, updates: 3, arms: [{ ...smoke.arms[0], lr: 1 }, smoke.arms[1]] });
  const [diverging, other] = cfg.arms.map((a) => a.name);
  await page.goto(`/?backend=wasm&exp=${encodeConfig(cfg)}`);
  await expect(page.getByTestId('pg-status')).toHaveText('ready', { timeout: 120_000 });

  // The per-arm learning rate is in the arms table, validated by the schema.
  await expect(page.getByLabel(`Learning rate of arm ${diverging}`)).toHaveValue('1');
  const otherLr = page.getByLabel(`Learning rate of arm ${other}`);
  await expect(otherLr).toHaveValue('');
  await otherLr.fill('5');
  await otherLr.press('Enter');
  await expect(page.getByTestId('pg-config-errors')).toContainText('arms[1].lr');
  await otherLr.fill('');
  await otherLr.press('Enter');
  await expect(page.getByTestId('pg-config-errors')).toHaveCount(0);

  await page.getByTestId('pg-play').click();
  await expect(page.getByTestId('pg-status')).toHaveText('finished', { timeout: 240_000 });
  const halted = page.getByTestId('pg-halted');
  await expect(halted).toBeVisible();
  await expect(halted).toContainText(
    new RegExp(`${diverging}: diverged: (loss [0-9.e+]+ above divergence\\.maxLoss 100000|winners' error .* above divergence\\.maxWinnerErrorRise 10) at update \\d; this arm is halted, the others go on`),
  );
  await expect(halted).not.toContainText(`${other}:`);
  await expect(page.getByTestId('pg-update')).toHaveText(String(cfg.updates));
  await expect(page.getByTestId('pg-results-row-0')).toContainText('halted');
  await expect(page.getByTestId('pg-results-row-1')).toContainText(other);
  await expect(page.getByTestId('pg-results-row-1')).not.toContainText('halted');
  expect(consoleErrors).toEqual([]);
});
