import type { Page } from '@playwright/test';
import { encodeConfig, presetConfig, safeParseExperimentConfig } from '../src/core/config';
import { smallLiveVersion } from '../src/core/recorded';
import { LESSONS, findLesson } from '../src/ui/lessons/lessons';
import { test, expect } from './fixtures';

/**
 * Issue 16: every lesson opens from its URL in presenter mode (1280×720), advances through its steps by
 * key (→ / PageDown, ← back) with the URL following; a condition-gated step fires on a tiny live run
 * and quotes its numbers, and a step whose condition cannot come within its (test-shortened) time says
 * so honestly. Built site, WASM.
 */

async function ready(page: Page) {
  await expect(page.getByTestId('pg-status')).toHaveText(/ready|paused|finished/, { timeout: 180_000 });
}

const stepParam = (page: Page) => new URL(page.url()).searchParams.get('step');

test.use({ viewport: { width: 1280, height: 720 } });

test('each lesson opens from its URL in presenter mode and steps by key', async ({ page, consoleErrors }) => {
  test.setTimeout(900_000);
  for (const l of LESSONS) {
    await page.goto(`/?lesson=${l.id}&step=1&present=1&backend=wasm`);
    const panel = page.getByTestId('lesson-panel');
    await expect(panel).toHaveAttribute('data-lesson', l.id);
    await ready(page);
    // The lesson's preset is the experiment (its update count), and presenter mode hides the controls.
    await expect(page.locator('.pg-counter')).toContainText(`/ ${presetConfig(l.preset).updates}`);
    await expect(page.getByTestId('pg-controls-toggle')).toBeHidden();
    await expect(page.getByTestId('pg-saved-runs')).toBeHidden();
    const titleSize = await page.getByTestId('lesson-step-title').evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
    expect(titleSize).toBeGreaterThanOrEqual(28);
    const box = (await panel.boundingBox())!;
    expect(box.y + box.height).toBeLessThanOrEqual(720);
    for (let i = 0; i < l.steps.length; i++) {
      await expect(page.getByTestId('lesson-step-number')).toHaveText(String(i + 1));
      await expect(page.getByTestId('lesson-step-title')).toHaveText(l.steps[i].title);
      expect(stepParam(page)).toBe(String(i + 1));
      const target = page.getByTestId(l.steps[i].target);
      if ((await target.count()) > 0) await expect(target.first()).toHaveClass(/lesson-target/);
      if (l.steps[i].recorded) await expect(page.getByTestId('lesson-recorded')).toContainText('Recorded, not this run:');
      else await expect(page.getByTestId('lesson-recorded')).toHaveCount(0);
      if (i < l.steps.length - 1) await page.keyboard.press(i % 2 ? 'PageDown' : 'ArrowRight');
    }
    // Past the last step nothing happens; ← goes back one.
    await page.keyboard.press('ArrowRight');
    await expect(page.getByTestId('lesson-step-number')).toHaveText(String(l.steps.length));
    await page.keyboard.press('ArrowLeft');
    await expect(page.getByTestId('lesson-step-number')).toHaveText(String(l.steps.length - 1));
    expect(stepParam(page)).toBe(String(l.steps.length - 1));
    expect(new URL(page.url()).searchParams.get('present')).toBe('1');
  }
  expect(consoleErrors).toEqual([]);
});

test('a gated step fires on a tiny live run and quotes it; one that cannot come in time says so', async ({ page, consoleErrors }) => {
  test.setTimeout(600_000);
  // first-look's arms at the smoke preset's size: 60 updates of batch 2, a checkpoint of 2 images at update 30.
  const tiny = safeParseExperimentConfig({ ...presetConfig('smoke'), arms: presetConfig('first-look').arms, updates: 60, checkpointEvery: 30, maxCheckpoints: 3, keepPerImage: true });
  expect(tiny.ok ? [] : tiny.errors).toEqual([]);
  if (!tiny.ok) return;
  // Step 3 waits for SFTʷ and SFT on losers to separate: its time cut to 3 s of training by the URL.
  await page.goto(`/?lesson=first-look&step=3&lessonTimeout=3&backend=wasm&exp=${encodeConfig(tiny.config)}`);
  await ready(page);
  const status = page.getByTestId('lesson-status');
  await expect(status).toHaveAttribute('data-state', 'waiting');
  await expect(status).toContainText('Waiting for the live run');
  await page.getByTestId('pg-play').click();
  await expect(status).toHaveAttribute('data-state', 'not-met', { timeout: 120_000 });
  await expect(status).toHaveAttribute('data-why', 'timeout');
  await expect(status).toContainText('On this run the effect has not appeared yet (after 3 s of training)');
  await expect(status).toContainText('Why that can happen: with 32 images per checkpoint');
  // The live numbers it read: no checkpoint yet, or the interval of the 2 images at update 30 (or 60, on a machine fast enough to finish) that still includes 0.
  await expect(page.getByTestId('lesson-live')).toHaveText(/^(no checkpoint with per-image evaluations of SFTʷ and SFT on losers yet \(update \d+; the first is at update 30\)|SFTʷ − SFT on losers on true preference at update (30|60): [+−]\d\.\d{3} \[[+−]\d\.\d{3}, [+−]\d\.\d{3}\] over 2 paired images: the interval still includes 0)$/);

  // ← to step 2, gated on update ≥ 10: it fires and quotes each arm's live loss.
  await page.keyboard.press('ArrowLeft');
  await expect(page.getByTestId('lesson-step-number')).toHaveText('2');
  await expect(status).toHaveAttribute('data-state', 'met', { timeout: 180_000 });
  await expect(status).toContainText('On this run, now:');
  const live = (await page.getByTestId('lesson-live').textContent())!;
  expect(live).toMatch(/^update (\d+) of 60; loss, mean of the last 10 updates: SePPOʷ \d\.\d{3}, SFTʷ \d\.\d{3}, SFT on losers \d\.\d{3}$/);
  expect(Number(/^update (\d+)/.exec(live)![1])).toBeGreaterThanOrEqual(10);
  // It keeps the numbers it fired on while the run goes on.
  await expect(page.getByTestId('pg-update')).not.toHaveText(/^\d$/);
  await page.waitForTimeout(1500);
  await expect(page.getByTestId('lesson-live')).toHaveText(live);
  if ((await page.getByTestId('pg-status').textContent()) === 'running') await page.getByTestId('pg-play').click();
  expect(consoleErrors).toEqual([]);
});

test('bad lesson URLs name the problem and fall back without losing the experiment', async ({ page, consoleErrors }) => {
  const smoke = presetConfig('smoke');
  await page.goto(`/?lesson=nope&step=2&backend=wasm&exp=${encodeConfig(smoke)}`);
  await ready(page);
  await expect(page.getByTestId('lesson-url-message')).toContainText(`Unknown lesson 'nope' in the URL; the lessons are ${LESSONS.map((l) => l.id).join(', ')}`);
  await expect(page.getByTestId('lesson-panel')).toHaveCount(0);
  await expect(page.getByTestId('lesson-list')).toBeVisible();
  await expect(page.getByTestId('pg-results')).toBeVisible();
  expect(new URL(page.url()).searchParams.get('exp')).toBe(encodeConfig(smoke));

  await page.goto(`/?lesson=aaf&step=99&present=1&backend=wasm&exp=${encodeConfig(smoke)}`);
  await ready(page);
  await expect(page.getByTestId('lesson-url-message')).toContainText("Step 99 is out of range: lesson 'aaf' has steps 1–5. It starts at step 1.");
  await expect(page.getByTestId('lesson-step-number')).toHaveText('1');
  // The URL's experiment is kept (smoke: 2 updates), and a step whose arm the experiment lacks says so.
  await expect(page.locator('.pg-counter')).toContainText('/ 2');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('lesson-step-number')).toHaveText('4');
  await expect(page.getByTestId('lesson-status')).toHaveAttribute('data-why', 'uncheckable');
  await expect(page.getByTestId('lesson-status')).toContainText('This experiment cannot show this step: this experiment has no arm with method seppo, flip off (its arms: SePPO, Diffusion-DPO)');
  expect(consoleErrors).toEqual([]);
});

test("reward hacking's compare step opens the card on its two arms, waits for their checkpoint, then shows both images", async ({ page, consoleErrors }) => {
  test.setTimeout(600_000);
  // The lesson's two DDPO arms at the smoke preset's size (2 updates, a checkpoint of 2 images at update 2),
  // with batches of 4: DDPO samples 4 trajectories per prompt.
  const small = smallLiveVersion(presetConfig('reward-hacking'), { ...presetConfig('smoke'), batchSize: 4 });
  expect(small.ok ? [] : small.errors).toEqual([]);
  if (!small.ok) return;
  const [aes, pick] = small.config.arms.map((a) => a.name);
  const n = findLesson('reward-hacking')!.steps.findIndex((s) => s.target === 'pg-compare') + 1;
  expect(n).toBeGreaterThan(0);
  await page.goto(`/?lesson=reward-hacking&step=${n}&backend=wasm&exp=${encodeConfig(small.config)}`);
  await ready(page);
  const card = page.getByTestId('pg-compare');
  await expect(card).toHaveClass(/lesson-target/);
  await expect(page.getByTestId('pg-compare-a-arm')).toHaveValue(aes);
  await expect(page.getByTestId('pg-compare-b-arm')).toHaveValue(pick);
  await expect(page.getByTestId('pg-compare-side-by-side')).toHaveCount(0);
  await expect(page.getByTestId('pg-compare-gap')).toContainText(`${aes} @ update 2: the run has not reached it yet`);
  const status = page.getByTestId('lesson-status');
  await expect(status).toHaveAttribute('data-state', 'waiting');
  await expect(page.getByTestId('lesson-live')).toHaveText(`no checkpoint with per-image evaluations of both ${aes} and ${pick} yet (update 0; the first is at update 2)`);
  const u = new URL(page.url()).searchParams;
  expect([u.get('cmpA'), u.get('cmpB'), u.get('cmpMode')]).toEqual([`${aes}@2`, `${pick}@2`, 'side']);

  await page.getByTestId('pg-play').click();
  await expect(status).toHaveAttribute('data-state', 'met', { timeout: 300_000 });
  const num = '-?\\d+\\.\\d{3}';
  await expect(page.getByTestId('lesson-live')).toHaveText(new RegExp(`^at update 2, mean over the same 2 prompts and noises: DDPO \\(Aesthetic\\) true preference ${num}, Aesthetic ${num}, Alignment ${num}; DDPO \\(PickScore-mini\\) true preference ${num}, Aesthetic ${num}, Alignment ${num}$`));
  // Both arms' images of the checkpoint, side by side: the sample grid's images of those arms.
  await expect(page.getByTestId('pg-compare-side-by-side')).toBeVisible();
  const pixels = (id: string) => page.getByTestId(id).evaluate((c) => (c as HTMLCanvasElement).toDataURL());
  expect(await pixels('pg-compare-img-a')).toBe(await pixels(`pg-img-${aes}-0`));
  expect(await pixels('pg-compare-img-b')).toBe(await pixels(`pg-img-${pick}-0`));
  await expect(page.getByTestId('pg-compare-m-trueUtility').locator('td')).toHaveCount(3);

  // The viewer picks another side; leaving the step and coming back brings the lesson's two arms again.
  await page.getByTestId('pg-compare-a-arm').selectOption('');
  await expect(page.getByTestId('pg-compare-a-arm')).toHaveValue('');
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.keyboard.press('ArrowLeft');
  await expect(page.getByTestId('lesson-step-number')).toHaveText(String(n - 1));
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('lesson-step-number')).toHaveText(String(n));
  await expect(page.getByTestId('pg-compare-a-arm')).toHaveValue(aes);
  await expect.poll(() => new URL(page.url()).searchParams.get('cmpA')).toBe(`${aes}@2`);

  // A comparison prepared in the URL wins over the step's own at load.
  await page.goto(`/?lesson=reward-hacking&step=${n}&backend=wasm&exp=${encodeConfig(small.config)}&cmpA=base&cmpB=${encodeURIComponent(pick)}%402`);
  await ready(page);
  await expect(page.getByTestId('pg-compare-a-arm')).toHaveValue('');
  await expect(page.getByTestId('pg-compare-b-arm')).toHaveValue(pick);
  expect(consoleErrors).toEqual([]);
});
