// Message browser: Avro users decoded through the registry, and records that do not decode.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ConsoleApi, closeBrowser, kafkaConsoleProduce, unique, until, waitForConsole, withPage } from './lib.mjs';

before(() => waitForConsole());
after(() => closeBrowser());

test('message browser on users.raw, partition 0: shows the newest records as Avro users with their email', async (t) => {
  await withPage(t, async (ui) => {
    await ui.goto('topics/users.raw/messages?partition=0&newest=20&limit=20', { waitFor: 'page-messages' });
    const messages = ui.page.locator('[data-testid=messages] [data-testid=message]');
    await messages.first().waitFor();
    assert.equal(await messages.count(), 20, 'newest=20 shows 20 records');
    assert.equal((await ui.testid('message-count').innerText()).trim(), '20 messages');

    const first = messages.first();
    assert.equal(await first.getAttribute('data-partition'), '0');
    assert.match((await first.getByTestId('message-format').innerText()).trim(), /^avro · schema \d+$/);
    const value = await first.getByTestId('message-value').innerText();
    assert.match(value, /"email": "[^"\s]+@[^"\s]+"/, `a decoded user with an email: ${value}`);
    assert.match(value, /"id": "[^"]+"/);
    assert.equal(await first.getByTestId('message-note').count(), 0, 'a decoded record has no "not decoded" note');

    // Every record of the page is a decoded user, none is shown as hex. (textContent: records
    // below the fold are not rendered yet, .message has content-visibility: auto.)
    const formats = await ui.page.locator('[data-testid=messages] [data-testid=message-format]').allTextContents();
    assert.deepEqual([...new Set(formats.map((f) => f.replace(/ · schema \d+$/, '')))], ['avro']);
  });
});

test('message browser on records that do not decode: shows hex with the reason, and broken JSON as text', async (t) => {
  // A throwaway topic (created through the console's API) that receives three records written
  // byte for byte with Kafka's own console producer (no sluice command writes raw bytes, and
  // the stack's producer injects only field defects, which decode): a Confluent header for
  // schema 1 with a body that is no User, a Confluent header naming a schema id the registry
  // does not have, and text that looks like JSON.
  const api = new ConsoleApi();
  const topic = unique('browser-test.undecodable');
  const created = await api.post('/topics', { name: topic, partitions: 1, replication_factor: 1, configs: {} });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  try {
    await kafkaConsoleProduce(topic, ['\x00\x00\x00\x00\x01\x02', '\x00\x00\x7f\x7f\x7f\x01', '{not json']);
    const page = await until('the 3 records readable', async () => {
      const r = await api.request('GET', `/topics/${encodeURIComponent(topic)}/messages?partition=0&offset=0&limit=10`);
      return r.status === 200 && r.body.messages.length === 3 ? r.body : null;
    });
    const brokenJsonNote = page.messages[2].note;
    assert.equal(brokenJsonNote, 'looks like JSON but does not parse', 'the API explains the text record');

    await withPage(t, async (ui) => {
      await ui.goto(`topics/${encodeURIComponent(topic)}/messages?partition=0&offset=0&limit=10`, { waitFor: 'page-messages' });
      const at = (o) => ui.page.locator(`[data-testid=messages] [data-testid=message][data-partition="0"][data-offset="${o}"]`);
      await at(2).waitFor();
      assert.equal((await ui.testid('message-count').innerText()).trim(), '3 messages');

      // offset 0: Confluent framing, schema 1 (the User), but the body is not a User.
      assert.equal((await at(0).getByTestId('message-format').innerText()).trim(), 'hex · schema 1');
      assert.match(
        (await at(0).getByTestId('message-note').innerText()).trim(),
        /^not decoded: Confluent Avro with schema id 1, but the bytes do not decode: .+/,
      );
      assert.equal((await at(0).getByTestId('message-value').innerText()).trim(), '000000000102');

      // offset 1: schema id 0x7f7f7f (8355711), which the registry does not have.
      assert.equal((await at(1).getByTestId('message-format').innerText()).trim(), 'hex · schema 8355711');
      assert.match(
        (await at(1).getByTestId('message-note').innerText()).trim(),
        /^not decoded: schema id 8355711: schema registry GET \S+\/schemas\/ids\/8355711: HTTP 404\b.*not found/,
      );
      assert.equal((await at(1).getByTestId('message-value').innerText()).trim(), '00007f7f7f01');

      // offset 2: text that is not JSON is shown as it is.
      assert.equal((await at(2).getByTestId('message-format').innerText()).trim(), 'text');
      assert.equal((await at(2).getByTestId('message-value').innerText()).trim(), '{not json');

      // ... with the API's note on why it is not JSON.
      const note = at(2).getByTestId('message-note');
      assert.equal(await note.count(), 1, 'a note under the text record');
      assert.match(await note.innerText(), /looks like JSON but does not parse/);
    });
  } finally {
    await api.post(`/topics/${encodeURIComponent(topic)}/delete`, {});
  }
});
