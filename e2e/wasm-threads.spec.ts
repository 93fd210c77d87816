import type { Page, Request } from '@playwright/test';
import { test, expect } from './fixtures';

/**
 * Issue 14, "Use the cores": on the built site (vite preview sends COOP/COEP) the training worker is
 * cross-origin isolated, tfjs-wasm loads its threaded build, and its XNNPACK pool has the size the
 * badge reports — more than one thread when the page asks for it with ?threads= (tfjs alone caps the
 * pool at half the logical cores: one on a 2-core machine; src/core/backend.ts, liftWasmCoreCap).
 */

async function trainingWorker(page: Page) {
  await expect.poll(() => page.workers().length, { timeout: 60_000 }).toBeGreaterThan(0);
  const w = page.workers().find((x) => /worker/i.test(x.url()) && !x.url().startsWith('blob:')) ?? page.workers()[0];
  return w;
}

function wasmRequests(page: Page): string[] {
  const urls: string[] = [];
  const on = (r: Request) => {
    if (/\.wasm(\?|$)/.test(r.url())) urls.push(r.url().split('/').pop()!);
  };
  page.context().on('request', on);
  page.on('request', on);
  return urls;
}

test.describe('WASM threads in the built page', () => {
  test('?threads=2: isolated worker, threaded binary, a pool of 2 threads, and the badge says so', async ({ page, consoleErrors }) => {
    const wasm = wasmRequests(page);
    await page.goto('/?backend=wasm&threads=2');
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await expect(page.getByTestId('backend-badge')).toHaveText('WASM');
    await expect(page.getByTestId('worker-check')).toHaveText('[19, 22; 43, 50] on wasm');
    const worker = await trainingWorker(page);
    expect(await worker.evaluate(() => (self as unknown as { crossOriginIsolated: boolean }).crossOriginIsolated)).toBe(true);
    // the real value is back after the module started (the cap was lifted only for that moment)
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    expect(await worker.evaluate(() => navigator.hardwareConcurrency)).toBe(cores);
    await expect(page.getByTestId('backend-threads')).toContainText(`WASM runs multi-threaded (the page is cross-origin isolated; a pool of 2 threads on ${cores} logical cores)`);
    await expect.poll(() => wasm.some((u) => /threaded-simd/.test(u)), { timeout: 30_000 }).toBe(true);
    expect(wasm.filter((u) => !/threaded-simd/.test(u))).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });

  test('?threads=1: the threaded binary with a pool of one is reported as computing on one thread', async ({ page, consoleErrors }) => {
    await page.goto('/?backend=wasm&threads=1');
    await expect(page.getByTestId('worker-check')).toHaveText('[19, 22; 43, 50] on wasm');
    await expect(page.getByTestId('backend-threads')).toContainText('WASM runs single-threaded: the threaded build is loaded, but its pool has 1 thread');
    expect(consoleErrors).toEqual([]);
  });

  test('default: the badge reports the pool tfjs really made, and it matches the worker', async ({ page, consoleErrors }) => {
    await page.goto('/?backend=wasm');
    await expect(page.getByTestId('worker-check')).toHaveText('[19, 22; 43, 50] on wasm');
    const text = (await page.getByTestId('backend-threads').textContent()) ?? '';
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const m = /a pool of (\d+) threads on (\d+) logical cores/.exec(text);
    if (m) {
      expect(Number(m[2])).toBe(cores);
      expect(Number(m[1])).toBeGreaterThan(1);
    } else {
      expect(text).toContain('pool has 1 thread');
    }
    expect(consoleErrors).toEqual([]);
  });
});
