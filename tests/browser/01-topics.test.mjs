// Topics page: the stack's topics as a user sees them in the table.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ConsoleApi, closeBrowser, waitForConsole, withPage } from './lib.mjs';

before(() => waitForConsole());
after(() => closeBrowser());

test('topics page, stack running: names the cluster, its controller and broker, and lists users.raw with 6 partitions and the dead-letter topic users.dlq', async (t) => {
  const api = new ConsoleApi();
  const dlq = (await api.get('/topics')).topics.find((x) => x.name === 'users.dlq');
  assert.ok(dlq, 'the console API knows users.dlq');

  await withPage(t, async (ui) => {
    await ui.goto('topics', { waitFor: 'page-topics' });
    const raw = ui.page.locator('[data-testid=topic-row][data-name="users.raw"]');
    await raw.waitFor();
    const cells = (await raw.locator('td').allInnerTexts()).map((s) => s.trim());
    // Name | Partitions | Replication | ISR | Under-replicated | Messages | Size
    assert.equal(cells[0], 'users.raw');
    assert.equal(cells[1], '6', 'users.raw shows 6 partitions');
    assert.equal(cells[4], '0', 'no under-replicated partition');
    assert.ok(Number(cells[5].replace(/,/g, '')) > 0, `users.raw shows messages (${cells[5]})`);

    const dlqRow = ui.page.locator('[data-testid=topic-row][data-name="users.dlq"]');
    await dlqRow.waitFor();
    const dlqCells = (await dlqRow.locator('td').allInnerTexts()).map((s) => s.trim());
    assert.equal(dlqCells[0], 'users.dlq');
    assert.equal(dlqCells[1], String(dlq.partitions), 'users.dlq shows the partitions Kafka has');
    assert.equal(await ui.page.getByTestId('error').count(), 0, 'no error box');

    // The cluster above the table: the id, the controller and the broker Kafka reports.
    const cluster = await api.get('/cluster');
    await ui.testid('cluster').waitFor();
    assert.equal((await ui.testid('cluster-id').innerText()).trim(), cluster.cluster_id);
    assert.equal((await ui.testid('cluster-controller').innerText()).trim(), String(cluster.controller_id));
    const broker = cluster.brokers[0];
    assert.match(await ui.testid('broker').first().innerText(), new RegExp(`${broker.id} at ${broker.host}:${broker.port}`));
  });
});
