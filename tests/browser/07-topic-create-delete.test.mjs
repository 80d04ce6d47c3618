// Creating a topic in the UI makes it in Kafka; deleting it in the UI (typing its name) removes it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ConsoleApi, closeBrowser, independentPartitions, unique, until, waitForConsole, withPage } from './lib.mjs';

before(() => waitForConsole());
after(() => closeBrowser());

test('topic created in the UI with 3 partitions exists in Kafka; deleted in the UI after typing its name, it is gone', async (t) => {
  const api = new ConsoleApi();
  const name = unique('browser-test.created');
  try {
    await withPage(t, async (ui) => {
      // Create.
      await ui.goto('topics', { waitFor: 'page-topics' });
      await ui.page.locator('[data-testid=topic-row]').first().waitFor();
      await ui.testid('create-topic-button').click();
      const dialog = ui.testid('create-topic-dialog');
      await dialog.waitFor();
      await ui.testid('create-topic-name').fill(name);
      await ui.testid('create-topic-partitions').fill('3');
      // What the page asks the console around "Create" (POST, then its reload of the list).
      const calls = [];
      const onResponse = async (r) => {
        if (new URL(r.url()).pathname !== '/api/v1/topics') return;
        const body = await r.text().catch(() => '');
        calls.push(`${r.request().method()} ${r.status()} ${body.includes(`"${name}"`) ? 'with' : 'without'} the topic${r.status() >= 400 ? `: ${body}` : ''}`);
      };
      ui.page.on('response', onResponse);
      await ui.testid('create-topic-submit').click();
      await dialog.waitFor({ state: 'detached' });
      assert.match(await ui.page.getByRole('status').innerText(), new RegExp(`Created topic ${name.replace(/\./g, '\\.')}`));
      // The page reloads the list once after creating: the new row is in it (the console
      // answers the create only once the metadata shows the topic with a leader per partition).
      const row = ui.page.locator(`[data-testid=topic-row][data-name="${name}"]`);
      await row.waitFor({ timeout: 5000 }).catch(async () => {
        await ui.screenshot('missed-after-create');
        assert.fail(`"Created topic ${name}" is shown but the table does not list it; /api/v1/topics answered: ${calls.join('; ')}`);
      });
      ui.page.off('response', onResponse);
      assert.equal((await row.locator('td').nth(1).innerText()).trim(), '3', 'the new row shows 3 partitions');

      // Kafka has it: through the console's JSON API and through a client independent of sluice.
      const detail = await api.get(`/topics/${encodeURIComponent(name)}`);
      assert.equal(detail.partitions, 3);
      assert.equal(detail.partition_details.length, 3);
      assert.equal(await independentPartitions(name), 3, 'an independent Kafka client sees the topic with 3 partitions');

      // Delete from the topic's page: the button stays disabled until the name is typed.
      await ui.screenshot('created');
      await row.getByTestId('topic-link').click();
      await ui.testid('page-topic').waitFor();
      assert.equal((await ui.testid('topic-name').innerText()).trim(), name);
      await ui.page.locator('[data-testid=partition-row]').nth(2).waitFor();
      await ui.testid('delete-topic-button').click();
      await ui.testid('delete-topic-dialog').waitFor();
      const confirm = ui.testid('delete-topic-confirm');
      assert.equal(await confirm.isDisabled(), true, 'Delete is disabled before the name is typed');
      await ui.testid('delete-topic-confirm-input').fill(name.slice(0, -1));
      assert.equal(await confirm.isDisabled(), true, 'Delete is disabled for a wrong name');
      await ui.testid('delete-topic-confirm-input').fill(name);
      assert.equal(await confirm.isDisabled(), false, 'Delete is enabled once the name is typed');
      await ui.screenshot('delete-dialog');
      await confirm.click();

      // Back on the topics page with a notice; the row is gone.
      await ui.testid('page-topics').waitFor();
      assert.equal((await ui.testid('flash').innerText()).trim(), `Deleted topic ${name}`);
      await ui.page.locator('[data-testid=topic-row]').first().waitFor();
      assert.equal(await ui.page.locator(`[data-testid=topic-row][data-name="${name}"]`).count(), 0, 'the topics table no longer lists it');
    });

    // Gone for the console's API (404) and for the independent client (deletion is asynchronous in Kafka).
    const gone = await api.request('GET', `/topics/${encodeURIComponent(name)}`);
    assert.equal(gone.status, 404, `GET /topics/${name} after delete: ${gone.status} ${JSON.stringify(gone.body)}`);
    assert.equal(gone.body.parameter, 'topic');
    assert.equal((await api.get('/topics')).topics.some((x) => x.name === name), false);
    await until('the independent client no longer sees the topic', async () => (await independentPartitions(name)) === null, { timeoutMs: 20000, everyMs: 1000 });

  } finally {
    const left = await api.request('GET', `/topics/${encodeURIComponent(name)}`);
    if (left.status === 200) await api.post(`/topics/${encodeURIComponent(name)}/delete`, {});
  }
});
