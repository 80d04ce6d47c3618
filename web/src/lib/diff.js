// A line diff by longest common subsequence: diffLines(a, b) lists every line of the two
// texts once, as kept (' '), removed from a ('-') or added in b ('+'), in reading order.
// Common leading and trailing lines are matched first, so the quadratic table only covers
// the changed middle.

function toLines(t) {
  if (Array.isArray(t)) return t;
  if (t === null || t === undefined || t === '') return [];
  return String(t).split(/\r?\n/);
}

/** @returns {{op: ' ' | '-' | '+', text: string}[]} */
export function diffLines(a, b) {
  const x = toLines(a);
  const y = toLines(b);
  let start = 0;
  while (start < x.length && start < y.length && x[start] === y[start]) start += 1;
  let endX = x.length;
  let endY = y.length;
  while (endX > start && endY > start && x[endX - 1] === y[endY - 1]) {
    endX -= 1;
    endY -= 1;
  }

  const out = [];
  for (let i = 0; i < start; i += 1) out.push({ op: ' ', text: x[i] });

  const n = endX - start;
  const m = endY - start;
  // lcs[i][j] = length of the LCS of x[start+i..endX) and y[start+j..endY)
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      lcs[i * w + j] =
        x[start + i] === y[start + j]
          ? lcs[(i + 1) * w + j + 1] + 1
          : Math.max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
    }
  }
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[start + i] === y[start + j]) {
      out.push({ op: ' ', text: x[start + i] });
      i += 1;
      j += 1;
    } else if (lcs[(i + 1) * w + j] >= lcs[i * w + j + 1]) {
      out.push({ op: '-', text: x[start + i] });
      i += 1;
    } else {
      out.push({ op: '+', text: y[start + j] });
      j += 1;
    }
  }
  for (; i < n; i += 1) out.push({ op: '-', text: x[start + i] });
  for (; j < m; j += 1) out.push({ op: '+', text: y[start + j] });

  for (let k = endX; k < x.length; k += 1) out.push({ op: ' ', text: x[k] });
  return out;
}

/** Counts of added and removed lines of a diff. */
export function diffStats(d) {
  let added = 0;
  let removed = 0;
  for (const l of d) {
    if (l.op === '+') added += 1;
    else if (l.op === '-') removed += 1;
  }
  return { added, removed };
}
