// Dead-letter page: counts by rule, sample letters with their reason, and replay of a rule.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeBrowser, shownNumber, waitForConsole, withPage } from './lib.mjs';

before(() => waitForConsole());
after(() => closeBrowser());

test('dead-letter page, stream with 5% bad users: lists rules with counts > 0 and sample letters with their reason', async (t) => {
  await withPage(t, async (ui) => {
    await ui.goto('dlq', { waitFor: 'page-dlq' });
    const rows = ui.page.locator('[data-testid=dlq-rule-row]');
    await rows.first().waitFor();
    assert.equal((await ui.testid('dlq-topic').innerText()).trim(), 'users.dlq');
    const total = shownNumber(await ui.testid('dlq-records').innerText());
    assert.ok(total > 0, 'the page counts letters');
    // Rules count distinct source records (a record dead-lettered twice, as after a
    // processor crash, counts once), so they cover the distinct count, not every letter.
    const distinct = shownNumber(await ui.testid('dlq-distinct').innerText());
    assert.ok(distinct > 0 && distinct <= total, `distinct sources ${distinct} of ${total} letters`);

    let sum = 0;
    for (const r of await rows.all()) {
      const rule = await r.getAttribute('data-rule');
      assert.match(rule, /^[a-z_]+\.[a-z_]+$/, `a rule id (${rule})`);
      const n = shownNumber(await r.getByTestId('dlq-rule-count').innerText());
      assert.ok(n > 0, `rule ${rule} shows a count > 0 (${n})`);
      sum += n;
    }
    assert.ok(sum >= distinct, `the per-rule counts (${sum}) cover the ${distinct} distinct sources`);

    // The most frequent rule (first row) has sample letters, each with its reason, naming the
    // field the rule checks.
    const rule = await rows.first().getAttribute('data-rule');
    const section = ui.page.locator(`[data-testid=dlq-rule-samples][data-rule="${rule}"]`);
    const samples = section.getByTestId('dlq-sample');
    await samples.first().waitFor();
    assert.ok((await samples.count()) >= 1 && (await samples.count()) <= 5, 'up to 5 samples per rule');
    const field = rule.split('.')[0];
    for (const reason of await section.getByTestId('dlq-sample-reason').allTextContents()) {
      assert.ok(reason.startsWith(`${field}: `) && reason.length > field.length + 3, `reason "${reason}" explains a ${field} defect`);
    }
    const cells = (await samples.first().locator('td').allTextContents()).map((s) => s.trim());
    // Position | Time | Rules | Fields | Reason | Source | Key | Value
    assert.match(cells[0], /^\d+:\d+$/, 'the letter\'s partition:offset');
    assert.ok(cells[2].split(', ').includes(rule), `the sample names rule ${rule}`);
    assert.match(cells[5], /^users\.raw\[\d+\]@\d+$/, `the source record (${cells[5]})`);
  });
});

test('dead-letter replay of the least-hit rule: dry run shows the matched count, confirming sends exactly the matched records', async (t) => {
  await withPage(t, async (ui) => {
    await ui.goto('dlq', { waitFor: 'page-dlq' });
    const rows = ui.page.locator('[data-testid=dlq-rule-row]');
    await rows.first().waitFor();
    // Rows are sorted by count, most first: replay the last one (the fewest re-sent records).
    const row = rows.last();
    const rule = await row.getAttribute('data-rule');
    const count = shownNumber(await row.getByTestId('dlq-rule-count').innerText());
    t.diagnostic(`replaying rule ${rule} (${count} letters)`);

    await row.getByTestId('replay-button').click();
    const dialog = ui.testid('replay-dialog');
    await dialog.waitFor();
    assert.match(await dialog.locator('h2').innerText(), new RegExp(`Replay dead letters of ${rule.replace('.', '\\.')}`));
    const dry = ui.testid('replay-dry-run');
    await dry.waitFor();
    const matched = Number(await dry.getAttribute('data-matched'));
    assert.ok(matched > 0, `the dry run matches records of ${rule}`);
    assert.ok(matched >= count, `it matches at least the ${count} letters the table showed (${matched})`);
    assert.match(await dry.innerText(), new RegExp(`^${matched.toLocaleString('en-US')} records? would be replayed`));
    assert.equal(await ui.testid('replay-result').count(), 0, 'nothing is sent by the dry run');

    const confirm = ui.testid('replay-confirm');
    assert.equal((await confirm.innerText()).trim(), `Replay ${matched.toLocaleString('en-US')} records`);
    await ui.reloadVia(() => confirm.click(), '/dlq/replay');
    const result = ui.testid('replay-result');
    await result.waitFor({ timeout: 30000 });
    const text = await result.innerText();
    const m = /Replayed: ([\d,]+) sent, ([\d,]+) failed \(of ([\d,]+) matched\)/.exec(text);
    assert.ok(m, `the result line: ${text}`);
    const [sent, failed, matchedNow] = m.slice(1).map(shownNumber);
    assert.equal(sent, matchedNow, 'sent == matched');
    assert.equal(failed, 0, 'nothing failed');
    assert.ok(matchedNow >= matched, `the replay matched at least what the dry run did (${matchedNow} >= ${matched})`);
    assert.equal(shownNumber(await ui.testid('replay-sent').innerText()), sent);
    assert.equal(await ui.testid('replay-confirm').count(), 0, 'no second replay is offered');
  });
});
