// Small shared pieces of every page: loading line, error box, "empty because..." box,
// running/ok badges, a key/value table and the page heading.

export function Loading({ what = 'Loading…' }) {
  return (
    <p class="loading" data-testid="loading">
      {what}
    </p>
  );
}

/** An API error (or any message) in a red box. */
export function ErrorBox({ error, prefix }) {
  if (!error) return null;
  const text = typeof error === 'string' ? error : error.message || String(error);
  return (
    <div class="box error" data-testid="error" role="alert">
      {prefix ? `${prefix}: ` : ''}
      {text}
    </div>
  );
}

/** What an empty screen shows: always why it is empty. */
export function Empty({ children, testid = 'empty' }) {
  return (
    <div class="box empty" data-testid={testid}>
      {children}
    </div>
  );
}

export function Notice({ children, kind = 'ok', testid = 'notice' }) {
  return (
    <div class={`box notice ${kind}`} data-testid={testid} role="status">
      {children}
    </div>
  );
}

/** A green/red/grey pill: kind is "ok", "bad", "warn" or "off". */
export function Badge({ kind, children, testid }) {
  return (
    <span class={`badge ${kind}`} data-testid={testid}>
      {children}
    </span>
  );
}

export function Running({ running, testid }) {
  return (
    <Badge kind={running ? 'ok' : 'bad'} testid={testid}>
      {running ? 'running' : 'stopped'}
    </Badge>
  );
}

/** Rows of [label, value, testid?] as a two-column table. */
export function KeyValues({ rows, testid }) {
  return (
    <table class="kv" data-testid={testid}>
      <tbody>
        {rows.map(([k, v, id]) => (
          <tr key={k}>
            <th>{k}</th>
            <td data-testid={id}>{v}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function PageTitle({ children, right }) {
  return (
    <div class="page-title">
      <h1>{children}</h1>
      {right ? <div class="page-title-right">{right}</div> : null}
    </div>
  );
}
