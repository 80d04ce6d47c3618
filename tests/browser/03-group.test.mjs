// Consumer group view: the processor's committed offsets, lag per partition, total lag.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeBrowser, shownNumber, until, waitForConsole, withPage } from './lib.mjs';

before(() => waitForConsole());
after(() => closeBrowser());

// The stack's producer streams 50 users/s; the processor keeps up, so the lag it leaves
// between two commits stays far below this.
const SMALL_LAG = 100;

test('group view of sluice-processor, stream running: shows lag for each of the 6 users.raw partitions and a total lag that stays small', async (t) => {
  await withPage(t, async (ui) => {
    await ui.goto('groups', { waitFor: 'page-groups' });
    const row = ui.page.locator('[data-testid=group-row][data-name="sluice-processor"]');
    await row.waitFor();
    assert.match(await row.innerText(), /Stable/, 'the group is Stable while the processor runs');
    await ui.screenshot();
    await row.getByTestId('group-link').click();
    await ui.testid('page-group').waitFor();
    assert.equal((await ui.testid('group-id').innerText()).trim(), 'sluice-processor');

    // Members: the processor, assigned users.raw.
    await ui.testid('members-table').waitFor();
    assert.match(await ui.testid('members-table').innerText(), /users\.raw \[/);

    const rows = ui.page.locator('[data-testid=offset-row][data-topic="users.raw"]');
    await rows.first().waitFor();
    const read = async () => {
      const shown = [];
      for (const r of await rows.all()) {
        const [topic, partition, committed, high, lag] = (await r.locator('td').allInnerTexts()).map((s) => s.trim());
        shown.push({ topic, partition: Number(partition), committed: shownNumber(committed), high: shownNumber(high), lag: shownNumber(lag) });
      }
      return { shown, total: shownNumber(await ui.testid('total-lag').innerText()) };
    };

    const first = await read();
    assert.deepEqual(first.shown.map((o) => o.partition).sort(), [0, 1, 2, 3, 4, 5], 'one row per partition of users.raw');
    for (const o of first.shown) {
      assert.ok(o.committed > 0 && o.high >= o.committed, `partition ${o.partition}: committed ${o.committed} <= high ${o.high}`);
      assert.equal(o.lag, o.high - o.committed, `partition ${o.partition}: lag is high - committed`);
    }
    const everyRow = await ui.page.locator('[data-testid=offset-row]').all();
    assert.equal(everyRow.length, first.shown.length, 'the group reads only users.raw');
    assert.equal(first.total, first.shown.reduce((a, o) => a + o.lag, 0), 'total lag is the sum of the partitions\' lag');

    // While the stream runs the lag moves; on "Refresh" the page must show it small three
    // times in a row (one second apart).
    const seen = [];
    let inARow = 0;
    const final = await until(() => `3 readings in a row of total lag <= ${SMALL_LAG} (shown: ${seen.join(', ')})`, async () => {
      await ui.reloadVia(() => ui.testid('refresh').click(), '/groups/sluice-processor');
      const now = await read();
      seen.push(now.total);
      for (const o of now.shown) assert.equal(o.lag, o.high - o.committed, `partition ${o.partition}: lag is high - committed`);
      inARow = now.total <= SMALL_LAG ? inARow + 1 : 0;
      return inARow >= 3 ? now : null;
    }, { timeoutMs: 40000, everyMs: 1000 });
    // The high watermarks move with the stream: the page shows fresh numbers on Refresh.
    assert.ok(
      final.shown.reduce((a, o) => a + o.high, 0) > first.shown.reduce((a, o) => a + o.high, 0),
      'the high offsets grew while the page was refreshed',
    );
    t.diagnostic(`total lag seen: ${seen.join(', ')}`);
  });
});
