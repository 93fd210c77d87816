import type { Page } from '@playwright/test';
import { test, expect } from './fixtures';

/**
 * Backend choice on the built site. The automatic choice takes WebGPU only on a GPU: on this
 * machine's software adapter (SwiftShader) it picks WASM by rule and says why; `?backend=`
 * still overrides. Where the adapter is a real GPU, the default is WebGPU.
 */

/** Whether this browser's WebGPU adapter is software (fallback adapter or SwiftShader-like info), checked in the page. */
async function softwareAdapter(page: Page): Promise<boolean> {
  return page.evaluate(async () => {
    const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<{ isFallbackAdapter?: boolean; info?: Record<string, unknown> } | null> } }).gpu;
    const a = await gpu?.requestAdapter();
    if (!a) return true;
    const text = [a.info?.vendor, a.info?.architecture, a.info?.description].join(' ');
    return a.isFallbackAdapter === true || a.info?.isFallbackAdapter === true || /swiftshader|llvmpipe|lavapipe|software/i.test(text);
  });
}

test.describe('backend selection (WebGPU on)', () => {
  test('the default picks WASM on a software WebGPU adapter and says why (WebGPU on a real GPU); playable within a minute', async ({ page, consoleErrors }) => {
    const t0 = Date.now();
    await page.goto('/');
    const software = await softwareAdapter(page);
    if (software) {
      await expect(page.getByTestId('backend-badge')).toHaveText('WASM');
      await expect(page.getByTestId('backend-rule')).toContainText('No GPU here: WebGPU runs on a software adapter');
      await expect(page.getByTestId('backend-notice')).toContainText(/WebGPU: the only WebGPU adapter is a (fallback \(software\)|software) adapter.*\?backend=webgpu/);
      await expect(page.getByTestId('pg-fallback')).toContainText('No GPU here: training runs on WASM');
      await expect(page.getByTestId('worker-check')).toHaveText('[19, 22; 43, 50] on wasm');
    } else {
      await expect(page.getByTestId('backend-badge')).toHaveText('WebGPU');
      await expect(page.getByTestId('backend-notice')).toHaveCount(0);
    }
    // The default experiment is playable (base model loaded and evaluated, Play enabled) within a minute.
    await expect(page.getByTestId('pg-play')).toBeEnabled({ timeout: 60_000 });
    console.log(`default URL playable after ${((Date.now() - t0) / 1000).toFixed(1)} s on ${software ? 'WASM (software adapter)' : 'WebGPU'}`);
    expect(consoleErrors).toEqual([]);
  });

  test('?backend=webgpu overrides the rule: the worker computes on the software adapter', async ({ page, consoleErrors }) => {
    await page.goto('/?backend=webgpu&view=data');
    await expect(page.getByTestId('backend-badge')).toHaveText('WebGPU');
    await expect(page.getByTestId('worker-check')).toHaveText('[19, 22; 43, 50] on webgpu');
    await expect(page.getByTestId('backend-notice')).toHaveCount(0);
    expect(consoleErrors).toEqual([]);
  });

  test('?backend=cpu is honoured', async ({ page, consoleErrors }) => {
    await page.goto('/?backend=cpu&view=data');
    await expect(page.getByTestId('backend-badge')).toHaveText('CPU');
    await expect(page.getByTestId('worker-check')).toHaveText('[19, 22; 43, 50] on cpu');
    await expect(page.getByTestId('backend-notice')).toContainText('You asked for CPU');
    expect(consoleErrors).toEqual([]);
  });

  test('an unknown ?backend= value gives a clear message and a working default', async ({ page, consoleErrors }) => {
    await page.goto('/?backend=quantum&view=data');
    await expect(page.getByTestId('url-warning')).toContainText('Unknown backend "quantum"');
    await expect(page.getByTestId('url-warning')).toContainText('webgpu, webgl, wasm, cpu');
    const expected = (await softwareAdapter(page)) ? 'wasm' : 'webgpu';
    await expect(page.getByTestId('worker-check')).toHaveText(`[19, 22; 43, 50] on ${expected}`);
    expect(consoleErrors).toEqual([]);
  });
});
