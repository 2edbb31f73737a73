// What the browser tests share: Debian's headless chromium in a throwaway profile.

import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Runs `body(page)` in a fresh headless chromium with `options` (playwright's context options), then
// closes it and deletes its profile; a thrown error is printed on stderr and sets a failing exit code.
export async function withPage(options, body) {
  const userDataDir = mkdtempSync(join(tmpdir(), 'openzone-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      args: [
        '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
      ...options,
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15000);
    await body(page);
  } catch (e) {
    console.error(e.stack || String(e));
    process.exitCode = 1;
  } finally {
    if (context) await context.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }
}
