// The console's figures (issue: console), in headless Chromium (Debian's) against the
// running stack:
//   paint <url-hash> <testid> <count> <runs>: milliseconds from the navigation's start to
//     `count` elements with data-testid=`testid` laid out, each run in a fresh browser
//     context (no cache); prints one line per run and the median;
//   hold <stop-file>: keeps the dashboard open (polling every second, as a user would)
//     until stop-file exists.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';

const ui = (process.env.SLUICE_UI_URL || 'http://127.0.0.1:9000').replace(/\/+$/, '');
const [mode, ...args] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.SLUICE_CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--headless=new'],
});
try {
  if (mode === 'paint') {
    const [hash, testid, count, runs] = args;
    const times = [];
    for (let i = 0; i < Number(runs); i++) {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${ui}/#/${hash}`, { waitUntil: 'commit' });
      // Checked in the page on every animation frame; performance.now() counts from the
      // navigation's start, so the figure includes loading the bundle and the API calls.
      const handle = await page.waitForFunction(
        ([id, n]) => {
          const found = document.querySelectorAll(`[data-testid="${id}"]`);
          return found.length >= n && found[n - 1].getClientRects().length > 0 && performance.now();
        },
        [testid, Number(count)],
        { polling: 'raf', timeout: 30000 },
      );
      const elapsed = Math.round(await handle.jsonValue());
      times.push(elapsed);
      console.log(`  run ${i + 1}: ${elapsed} ms`);
      await context.close();
    }
    times.sort((a, b) => a - b);
    console.log(`median ${times[Math.floor(times.length / 2)]} ms`);
  } else if (mode === 'hold') {
    const page = await browser.newPage();
    await page.goto(`${ui}/#/`);
    await page.getByTestId('page-dashboard').waitFor();
    // Until the stop file appears (the bench creates it when its run ends).
    while (!existsSync(args[0])) await new Promise((r) => setTimeout(r, 200));
  } else {
    throw new Error(`unknown mode '${mode}': paint or hold`);
  }
} finally {
  await browser.close();
}
