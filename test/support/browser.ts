// Debian's Chromium driven by playwright-core (never a browser download). Browser tests run where
// Chromium is installed (CI installs it: `apt-get install chromium`); FLOWGRAPH_CHROMIUM overrides the path.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { chromium, type Browser } from 'playwright-core';

export const chromiumPath = process.env.FLOWGRAPH_CHROMIUM ?? '/usr/bin/chromium';
export const hasChromium = existsSync(chromiumPath);

export const ARTIFACTS = 'test-results';

/** `extraArgs`: more Chromium flags (a test that maps a host name with --host-resolver-rules, for one). */
export async function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  await mkdir(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // The flags this machine needs: no sandbox as root, and no background traffic to hosts it cannot reach.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}
