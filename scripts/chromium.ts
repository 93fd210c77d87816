/**
 * Where to find Chromium and how to launch it, shared by Playwright's config, the benchmark and
 * the headless experiment runner. Order: $CHROMIUM_PATH, then /usr/bin/chromium, then
 * Playwright's own browser (undefined executablePath).
 */
import { existsSync } from 'node:fs';

export function chromiumExecutable(): string | undefined {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist`);
    return fromEnv;
  }
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  return undefined;
}

/** Flags for a headless Chromium on a machine with a closed network; WebGPU on unless asked. */
export function chromiumArgs(webgpu = true): string[] {
  const args = [
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-quic',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-dev-shm-usage',
  ];
  if (webgpu) args.push('--enable-unsafe-webgpu');
  return args;
}

export function chromiumLaunchOptions(webgpu = true) {
  return { executablePath: chromiumExecutable(), args: chromiumArgs(webgpu), headless: true };
}
