// Unit tests of the LCS line diff (node --test web/src/lib/diff.test.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffLines, diffStats } from './diff.js';

const render = (d) => d.map((l) => l.op + l.text).join('\n');

// Applying a diff: the kept and removed lines give a, the kept and added lines give b.
function sides(d) {
  return {
    a: d.filter((l) => l.op !== '+').map((l) => l.text),
    b: d.filter((l) => l.op !== '-').map((l) => l.text),
  };
}

// Length of the longest common subsequence, by plain recursion with memo (the reference).
function lcsLength(a, b) {
  const memo = new Map();
  const f = (i, j) => {
    if (i === a.length || j === b.length) return 0;
    const k = i * 100 + j;
    if (!memo.has(k)) memo.set(k, a[i] === b[j] ? f(i + 1, j + 1) + 1 : Math.max(f(i + 1, j), f(i, j + 1)));
    return memo.get(k);
  };
  return f(0, 0);
}

test('identical texts keep every line', () => {
  const d = diffLines('a\nb\nc', 'a\nb\nc');
  assert.equal(render(d), ' a\n b\n c');
  assert.deepEqual(diffStats(d), { added: 0, removed: 0 });
});

test('empty sides', () => {
  assert.deepEqual(diffLines('', ''), []);
  assert.equal(render(diffLines('', 'x\ny')), '+x\n+y');
  assert.equal(render(diffLines('x\ny', '')), '-x\n-y');
});

test('an added field in the middle', () => {
  const a = ['{', '  "fields": [', '    "id"', '  ]', '}'];
  const b = ['{', '  "fields": [', '    "id",', '    "email"', '  ]', '}'];
  const d = diffLines(a, b);
  assert.deepEqual(render(d).split('\n'), [
    ' {',
    '   "fields": [',
    '-    "id"',
    '+    "id",',
    '+    "email"',
    '   ]',
    ' }',
  ]);
  assert.deepEqual(diffStats(d), { added: 2, removed: 1 });
});

test('a replaced line is a removal then an addition', () => {
  assert.equal(render(diffLines('a\nb\nc', 'a\nx\nc')), ' a\n-b\n+x\n c');
});

test('the diff is minimal (longest common subsequence)', () => {
  const a = 'a b c a b b a'.split(' ');
  const b = 'c b a b a c'.split(' ');
  const d = diffLines(a, b);
  const kept = d.filter((l) => l.op === ' ').length;
  assert.equal(kept, 4); // the LCS of these classic sequences has length 4
  assert.deepEqual(sides(d), { a, b });
});

test('random inputs: both sides reproduced, common part as long as the LCS', () => {
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  for (let round = 0; round < 200; round += 1) {
    const a = Array.from({ length: rnd() % 12 }, () => 'l' + (rnd() % 4));
    const b = Array.from({ length: rnd() % 12 }, () => 'l' + (rnd() % 4));
    const d = diffLines(a, b);
    assert.deepEqual(sides(d), { a, b });
    assert.equal(d.filter((l) => l.op === ' ').length, lcsLength(a, b));
  }
});

test('windows line endings split like unix ones', () => {
  assert.equal(render(diffLines('a\r\nb', 'a\nb')), ' a\n b');
});
