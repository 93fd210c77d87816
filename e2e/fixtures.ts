import { test as base, expect } from '@playwright/test';

/**
 * A page fixture that records console errors and uncaught exceptions; every test ends by
 * asserting there were none (tests may list messages they expect).
 */
export const test = base.extend<{ consoleErrors: string[] }>({
  consoleErrors: async ({ page }, use) => {
    const errors: string[] = [];
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text());
    });
    page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
    await use(errors);
  },
});

export { expect };
