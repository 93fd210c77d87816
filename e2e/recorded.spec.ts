import { readFileSync } from 'node:fs';
import type { Page } from '@playwright/test';
import { decodeConfig, encodeConfig, presetConfig } from '../src/core/config';
import { parseManifest } from '../src/core/recorded';
import { test, expect } from './fixtures';

/**
 * Issue 16: the recorded-run gallery opens every shipped run (public/recorded), labelled RECORDED with
 * command, date, backend and seed, and the numbers in its tables are those of the run's summary.md
 * (parsed here from runs/<dir>/summary.md, written by the runner). A tiny live run (smoke, WASM) loads
 * first, so opening recorded runs is seen not to need training.
 */

const manifest = parseManifest(JSON.parse(readFileSync('public/recorded/index.json', 'utf8')));
const liveUrl = `/?exp=${encodeConfig(presetConfig('smoke'))}&backend=wasm`;

/** The rows of the first markdown table after a heading matching `heading` (or the first table of the file): cells by arm name. */
function mdTable(md: string, heading?: RegExp): Map<string, string[]> {
  const lines = md.split('\n');
  let i = heading ? lines.findIndex((l) => l.startsWith('## ') && heading.test(l)) : 0;
  if (i < 0) return new Map();
  while (i < lines.length && !lines[i].startsWith('|')) i++;
  const out = new Map<string, string[]>();
  for (i += 2; i < lines.length && lines[i].startsWith('|'); i++) {
    const cells = lines[i].split('|').slice(1, -1).map((c) => c.trim());
    out.set(cells[0], cells.slice(1));
  }
  return out;
}

async function ready(page: Page) {
  await expect(page.getByTestId('pg-status')).toHaveText(/ready|paused|finished/, { timeout: 120_000 });
}

test('the gallery opens every shipped run, labelled RECORDED, with the numbers of its summary.md', async ({ page, consoleErrors }) => {
  test.setTimeout(600_000);
  expect(manifest.errors).toEqual([]);
  expect(manifest.runs.length).toBeGreaterThanOrEqual(10);
  await page.goto(liveUrl);
  await ready(page);
  const gallery = page.getByTestId('pg-recorded-gallery');
  await expect(gallery.getByTestId('pg-recorded-row')).toHaveCount(manifest.runs.length);
  let checked = 0;
  for (const entry of manifest.runs) {
    await gallery.getByTestId(`pg-recorded-open-${entry.id}`).click();
    const banner = page.getByTestId('pg-recorded-banner');
    await expect(banner).toContainText('RECORDED');
    await expect(banner).toContainText(entry.title);
    await expect(page.getByTestId('pg-recorded-command')).toHaveText(entry.command);
    await expect(page.getByTestId('pg-recorded-backend')).toHaveText(`${entry.engine}, backend ${entry.backend}`);
    await expect(page.getByTestId('pg-recorded-seeds')).toHaveText(entry.seeds.join(', '));
    await expect(page.getByTestId('pg-status')).toHaveText('finished');
    await expect(page.getByTestId('pg-update')).toHaveText(String(entry.updates));
    expect(new URL(page.url()).searchParams.get('recorded')).toBe(entry.id);

    // The results table against the summary's first table: PickScore, HPS, Alignment, true preference, win rate by true preference.
    const md = readFileSync(`${entry.source}/summary.md`, 'utf8');
    const main = mdTable(md);
    expect(main.size, entry.id).toBe(entry.arms.length + 1);
    const baseCells = page.getByTestId('pg-results-base').locator('td');
    const base = main.get('base (θ₀)')!;
    for (const [col, md] of [[2, 0], [3, 1], [4, 2], [6, 4]] as const) await expect(baseCells.nth(col)).toHaveText(base[md]);
    for (const [i, arm] of entry.arms.entries()) {
      const want = main.get(arm)!;
      const cells = page.getByTestId(`pg-results-row-${i}`).locator('td');
      for (const [col, md] of [[2, 0], [3, 1], [4, 2], [6, 4]] as const) {
        await expect(cells.nth(col), `${entry.id} ${arm} column ${md}`).toHaveText(want[md]);
        checked++;
      }
      await expect(cells.nth(7)).toHaveText(new RegExp(`^${want[5].split(' ')[0]} / `));
      checked++;
    }

    // The final evaluation (validation set) against the summary's: win rate [Wilson] and Δ [paired t], true preference and PickScore-mini.
    const fin = mdTable(md, /^## Final evaluation: /);
    if (entry.finalImages > 0) {
      expect(fin.size, entry.id).toBe(entry.arms.length + 1);
      for (const arm of entry.arms) {
        const want = fin.get(arm)!;
        const row = page.getByTestId('pg-final-table').locator(`tr[data-arm="${arm}"][data-split="validation"] td`);
        await expect(row.nth(0)).toHaveText('validation');
        for (const [col, md] of [[2, 0], [3, 1], [4, 2], [5, 3]] as const) {
          await expect(row.nth(col), `${entry.id} ${arm} final column ${md}`).toHaveText(want[md]);
          checked++;
        }
      }
    } else {
      expect(fin.size).toBe(0);
      await expect(page.getByTestId('pg-final-table')).toHaveCount(0);
    }
  }
  expect(checked).toBeGreaterThan(200);

  // Back to the live run: the banner goes, the URL forgets the recorded run, the live run is untouched.
  await page.getByRole('button', { name: /Back to live run/ }).click();
  await expect(page.getByTestId('pg-recorded-banner')).toHaveCount(0);
  await expect(page.getByTestId('pg-update')).toHaveText('0');
  expect(new URL(page.url()).searchParams.get('recorded')).toBeNull();
  expect(consoleErrors).toEqual([]);
});

test('?recorded=<id> opens a recorded run at start; an unknown id says so and keeps the live run', async ({ page, consoleErrors }) => {
  const entry = manifest.runs.find((r) => r.id.startsWith('aaf-ablation'))!;
  await page.goto(`${liveUrl}&recorded=${entry.id}`);
  await expect(page.getByTestId('pg-recorded-banner')).toContainText(entry.title, { timeout: 120_000 });
  await expect(page.getByTestId('pg-final-eval')).toBeVisible();
  await expect(page.getByTestId('pg-displacement-table')).toContainText('⚠');

  await page.goto(`${liveUrl}&recorded=no-such-run`);
  await ready(page);
  await expect(page.getByTestId('pg-url-message')).toContainText("Unknown recorded run 'no-such-run'");
  await expect(page.getByTestId('pg-url-message')).toContainText(entry.id);
  await expect(page.getByTestId('pg-recorded-banner')).toHaveCount(0);
  expect(consoleErrors).toEqual([]);
});

test('?recorded=<id>&beside=smoke opens the recorded run and starts the small live run beside it; a bad size is named and the recorded run still opens', async ({ page, consoleErrors }) => {
  test.setTimeout(600_000);
  const entry = manifest.runs.find((r) => r.id === 'aaf-ablation-v3-seed0')!;
  await page.goto(`${liveUrl}&recorded=${entry.id}&beside=smoke`);
  const beside = page.getByTestId('pg-beside');
  await expect(beside.getByTestId('pg-beside-recorded')).toContainText('RECORDED', { timeout: 180_000 });
  await expect(beside.getByTestId('pg-beside-recorded')).toContainText(entry.title);
  await expect(beside.getByTestId('pg-beside-live')).toContainText('LIVE');
  await expect(page.getByTestId('pg-beside-note')).toContainText('same arms and seed; the live run is smoke-sized: 2 updates on 8 pairs');
  // Started, not only offered: it trains to its end.
  await expect(page.getByTestId('pg-beside-live-status')).toHaveText('done', { timeout: 300_000 });
  await expect(page.getByTestId('pg-beside-live-update')).toHaveText('2');
  const u = new URL(page.url()).searchParams;
  expect([u.get('recorded'), u.get('beside')]).toEqual([entry.id, 'smoke']);
  const live = decodeConfig(u.get('exp')!);
  expect(live.ok && live.config.arms.map((a) => a.name)).toEqual(entry.arms);
  // Closing the pair: the URL forgets both, the live run stays.
  await page.getByTestId('pg-beside-close').click();
  await expect(beside).toHaveCount(0);
  expect([new URL(page.url()).searchParams.get('recorded'), new URL(page.url()).searchParams.get('beside')]).toEqual([null, null]);
  await expect(page.getByTestId('pg-update')).toHaveText('2');

  await page.goto(`${liveUrl}&recorded=${entry.id}&beside=huge`);
  await expect(page.getByTestId('pg-recorded-banner')).toContainText(entry.title, { timeout: 120_000 });
  await expect(page.getByTestId('pg-url-message')).toContainText("beside='huge' in the URL: expected smoke or first-look; the recorded run opens without a live run beside it.");
  await expect(page.getByTestId('pg-beside-start')).toBeVisible();
  await expect(page.getByTestId('pg-beside')).toHaveCount(0);
  expect(new URL(page.url()).searchParams.get('exp')).toBe(encodeConfig(presetConfig('smoke')));

  await page.goto(`${liveUrl}&recorded=no-such-run&beside=smoke`);
  await ready(page);
  await expect(page.getByTestId('pg-url-message')).toContainText("Unknown recorded run 'no-such-run' in the URL");
  await expect(page.getByTestId('pg-url-message')).toContainText('with no live run started beside it (beside=smoke)');
  await expect(page.getByTestId('pg-beside')).toHaveCount(0);
  expect(consoleErrors).toEqual([]);
});

test('a missing manifest or a bad entry gives a clear message', async ({ page, consoleErrors }) => {
  const good = JSON.parse(readFileSync('public/recorded/index.json', 'utf8'));
  await page.route('**/recorded/index.json', (r) => r.fulfill({ json: { ...good, runs: [good.runs[0], { ...good.runs[1], file: '../x' }] } }));
  await page.route(`**/recorded/${good.runs[0].file}`, (r) => r.fulfill({ status: 404, body: 'gone' }));
  await page.goto(liveUrl);
  await ready(page);
  await expect(page.getByTestId('pg-recorded-errors')).toContainText(`runs[1] ('${good.runs[1].id}'): file a .json file name in the recorded folder; left out`);
  await expect(page.getByTestId('pg-recorded-row')).toHaveCount(1);
  await page.getByTestId(`pg-recorded-open-${good.runs[0].id}`).click();
  await expect(page.getByTestId('pg-file-error')).toContainText(`Could not open the recorded run '${good.runs[0].id}': ${good.runs[0].file} is missing from the site: HTTP 404. Nothing was changed.`);
  await expect(page.getByTestId('pg-recorded-banner')).toHaveCount(0);

  await page.unroute('**/recorded/index.json');
  await page.route('**/recorded/index.json', (r) => r.fulfill({ status: 404, body: '' }));
  await page.reload();
  await ready(page);
  await expect(page.getByTestId('pg-recorded-errors')).toContainText('is missing: HTTP 404');
  expect(consoleErrors.filter((e) => !/404/.test(e))).toEqual([]);
});
