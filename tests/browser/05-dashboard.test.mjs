// Dashboard: the live consumed rate of the C++ processor, at the stack's 50/s and under an
// extra burst of `sluice produce --count 2000 --rate 500`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeBrowser, shownNumber, sleep, sluiceProduce, until, waitForConsole, withPage } from './lib.mjs';

before(() => waitForConsole());
after(() => closeBrowser());

const BASELINE = 50; // users/s the stack's producer streams
const RISEN = 2 * BASELINE; // what the rate must exceed while 500/s more arrive

test('dashboard, stack producer running: consumed rate of the C++ processor is > 0, changes, and rises above 50/s while 2000 users are produced at 500/s', async (t) => {
  await withPage(t, async (ui) => {
    await ui.goto('', { waitFor: 'page-dashboard' });
    const panel = ui.testid('processor-cpp');
    await panel.waitFor();
    assert.equal((await panel.getByTestId('processor-state').innerText()).trim(), 'running');
    const consumed = panel.getByTestId('rate-consumed');
    const read = async () => shownNumber(await consumed.innerText());

    await until('a consumed rate > 0', async () => (await read()) > 0, { timeoutMs: 15000 });
    // The page polls every second: over 5 s the figure is redrawn with new values.
    const baseline = [];
    for (let i = 0; i < 10; i += 1) {
      baseline.push(await read());
      await sleep(500);
    }
    assert.ok(baseline.every((v) => v > 0), `consumed > 0 all along: ${baseline}`);
    assert.ok(new Set(baseline).size > 1, `the consumed rate changes over 5 s: ${baseline}`);
    const before = Math.max(...baseline);
    assert.ok(before < RISEN, `at the stack's pace the rate stays near ${BASELINE}/s: ${baseline}`);
    t.diagnostic(`baseline consumed/s: ${baseline.join(', ')}`);

    const producing = sluiceProduce(['--count', '2000', '--rate', '500']);
    const during = [];
    try {
      await until(() => `consumed > ${RISEN}/s (shown: ${during.join(', ')})`, async () => {
        const v = await read();
        during.push(v);
        return v > RISEN;
      }, { timeoutMs: 20000, everyMs: 250 });
    } finally {
      const r = await producing;
      assert.equal(r.code, 0, `sluice produce failed: ${r.stderr}`);
    }
    t.diagnostic(`consumed/s while producing: ${during.join(', ')}`);
    // The chart of the same panel is fed with the samples.
    assert.ok(Number(await panel.getByTestId('chart-rates-cpp').getAttribute('data-points')) > 1);
  });
});
