import { defineConfig } from '@playwright/test';
import { chromiumArgs, chromiumExecutable } from './scripts/chromium';

/**
 * End-to-end tests run against the built app (`npm run build`, served by `vite preview`) in real
 * Chromium. The default project has WebGPU on (software adapter where there is no GPU); the
 * `no-webgpu` project launches without --enable-unsafe-webgpu to test the fallback.
 */
// E2E_PORT lets two checkouts run their suites side by side without reusing each other's server.
const PORT = Number(process.env.E2E_PORT ?? 4173);
const executablePath = chromiumExecutable();

export default defineConfig({
  testDir: 'e2e',
  timeout: 300_000,
  expect: { timeout: 60_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://localhost:${PORT}`,
    viewport: { width: 1366, height: 900 },
    trace: 'off',
  },
  webServer: {
    command: `npx vite preview --port ${PORT} --strictPort`,
    url: `http://localhost:${PORT}`,
    reuseExistingServer: !process.env.CI,
    timeout: 60_000,
  },
  projects: [
    {
      name: 'webgpu',
      testIgnore: /no-webgpu\.spec\.ts/,
      use: { browserName: 'chromium', launchOptions: { executablePath, args: chromiumArgs(true) } },
    },
    {
      name: 'no-webgpu',
      testMatch: /no-webgpu\.spec\.ts/,
      use: { browserName: 'chromium', launchOptions: { executablePath, args: chromiumArgs(false) } },
    },
  ],
});
