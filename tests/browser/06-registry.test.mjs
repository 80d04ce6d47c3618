// Registry view: a subject with two versions, and the line diff between them.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { closeBrowser, registry, unique, waitForConsole, withPage } from './lib.mjs';

before(() => waitForConsole());
after(() => closeBrowser());

const V1 = {
  type: 'record',
  name: 'Probe',
  namespace: 'sluice.browser_test',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'email', type: 'string' },
  ],
};
// Backward compatible: the new field has a default.
const V2 = { ...V1, fields: [...V1.fields, { name: 'nickname', type: ['null', 'string'], default: null }] };

test('registry view, subject with 2 compatible versions: diff from version 1 to 2 shows the added field as + lines', async (t) => {
  const subject = `${unique('browser-test')}-value`;
  const r1 = await registry('POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema: JSON.stringify(V1) });
  assert.equal(r1.status, 200, `register v1: ${JSON.stringify(r1.body)}`);
  const r2 = await registry('POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema: JSON.stringify(V2) });
  assert.equal(r2.status, 200, `register v2: ${JSON.stringify(r2.body)}`);
  assert.notEqual(r2.body.id, r1.body.id, 'version 2 is a new schema');
  try {
    await withPage(t, async (ui) => {
      await ui.goto('registry', { waitFor: 'page-registry' });
      const row = ui.page.locator(`[data-testid=subject-row][data-name="${subject}"]`);
      await row.waitFor();
      assert.equal((await row.locator('td').nth(1).innerText()).trim(), '1, 2', 'the subject lists versions 1 and 2');
      await row.getByTestId('subject-link').click();
      const panel = ui.page.locator(`[data-testid=subject-panel][data-subject="${subject}"]`);
      await panel.waitFor();
      assert.equal(await row.getAttribute('class').then((c) => c.split(' ').includes('selected')), true, 'the row is selected');

      // The schema pane shows the latest version, with its registry id.
      await panel.getByTestId('schema-view').waitFor();
      assert.equal((await panel.getByTestId('schema-id').innerText()).trim(), String(r2.body.id));
      assert.match(await panel.getByTestId('schema-view').innerText(), /"name": "nickname"/);

      // Choose the versions to compare explicitly.
      await panel.getByTestId('diff-from').selectOption('1');
      await panel.getByTestId('diff-to').selectOption('2');
      const diff = panel.getByTestId('schema-diff');
      await diff.waitFor();
      const lines = await diff.locator('[data-op]').evaluateAll((els) => els.map((e) => ({ op: e.dataset.op, text: e.textContent, cls: e.className })));
      const added = lines.filter((l) => l.op === '+');
      const removed = lines.filter((l) => l.op === '-');
      t.diagnostic(`+ lines: ${JSON.stringify(added.map((l) => l.text))}; - lines: ${JSON.stringify(removed.map((l) => l.text))}`);
      assert.ok(added.some((l) => /^\+ \s*"name": "nickname",?$/.test(l.text)), 'the new field\'s name is a + line');
      assert.ok(added.some((l) => /^\+ \s*"default": null,?$/.test(l.text)), 'its default is a + line');
      assert.ok(added.every((l) => l.cls === 'diff-add'), 'added lines are styled as additions');
      for (const l of removed) assert.doesNotMatch(l.text, /"name"/, `no field is removed (${l.text})`);
      assert.ok(lines.some((l) => l.op === ' ' && /"name": "email"/.test(l.text)), 'the unchanged fields are context lines');
      const stats = (await panel.getByTestId('schema-diff-stats').innerText()).trim();
      assert.match(stats, new RegExp(`^version 1 → version 2: \\+${added.length} -${removed.length}$`));

      // Reversed, the field is a - line.
      await panel.getByTestId('diff-from').selectOption('2');
      await panel.getByTestId('diff-to').selectOption('1');
      await panel.getByTestId('schema-diff-stats').filter({ hasText: 'version 2 → version 1' }).waitFor();
      const back = await diff.locator('[data-op="-"]').allTextContents();
      assert.ok(back.some((l) => /"name": "nickname"/.test(l)), 'from 2 to 1 the field is a - line');
    });
  } finally {
    await registry('DELETE', `/subjects/${encodeURIComponent(subject)}`);
  }
});
