// A one-line notice that survives a navigation ("Deleted topic x"), shown by the app shell.
let listener = null;
let pending = null;

/** Shows `text` (kind "ok" or "error") at the top of the next page rendered. */
export function flash(text, kind = 'ok') {
  pending = { text, kind, at: Date.now() };
  if (listener) listener(pending);
}

/** The shell subscribes here; returns the notice pending now, if any. */
export function subscribeFlash(fn) {
  listener = fn;
  return pending;
}

export function clearFlash() {
  pending = null;
  if (listener) listener(null);
}
