// #/cassandra — the stored users: row count, the latest registrations, and a lookup by id.
import { useState } from 'preact/hooks';
import { get, seg } from '../lib/api.js';
import { useApi } from '../lib/hooks.js';
import { Empty, ErrorBox, KeyValues, Loading, PageTitle } from '../lib/Status.jsx';
import { cell, num } from '../lib/format.js';

// Shown first when present; any other column follows in the order the server gives.
const FIRST = ['id', 'first_name', 'last_name', 'email', 'gender', 'dob', 'registered_date', 'postcode', 'contract_version', 'source_partition', 'source_offset'];

function columnsOf(rows) {
  const all = [];
  const seen = new Set();
  for (const r of rows) {
    for (const k of Object.keys(r)) {
      if (!seen.has(k)) {
        seen.add(k);
        all.push(k);
      }
    }
  }
  return [...FIRST.filter((k) => seen.has(k)), ...all.filter((k) => !FIRST.includes(k))];
}

function Lookup() {
  const [id, setId] = useState('');
  const [state, setState] = useState(null);
  const find = async (e) => {
    e.preventDefault();
    const want = id.trim();
    if (!want) return setState({ error: 'Type a user id (a UUID)' });
    setState({ loading: true });
    try {
      const r = await get(`/cassandra/users/${seg(want)}`);
      setState({ id: want, ...r });
    } catch (err) {
      setState({ error: err });
    }
  };
  return (
    <section class="panel" data-testid="lookup">
      <h2>Look up a user</h2>
      <form class="toolbar" onSubmit={find}>
        <label>
          Id
          <input data-testid="lookup-id" size="40" value={id} placeholder="69daa1b9-3d2b-4850-9945-989b9a91e4a2" onInput={(e) => setId(e.currentTarget.value)} />
        </label>
        <button class="primary" type="submit" data-testid="lookup-button">
          Find
        </button>
      </form>
      {state?.loading ? <Loading /> : null}
      {state?.error ? <ErrorBox error={state.error} /> : null}
      {state && 'found' in state ? (
        <div data-testid="lookup-result" data-found={String(!!state.found)}>
          {state.found && state.row ? (
            <KeyValues rows={columnsOf([state.row]).map((k) => [k, cell(state.row[k])])} />
          ) : (
            <Empty testid="lookup-not-found">No user with id {state.id} is stored</Empty>
          )}
        </div>
      ) : null}
    </section>
  );
}

export function Cassandra() {
  const [latest, setLatest] = useState(10);
  const { data, error, loading, reload } = useApi(() => get('/cassandra', { latest }), [latest]);
  const rows = data?.latest || [];
  const cols = columnsOf(rows);
  return (
    <div data-testid="page-cassandra">
      <PageTitle right={<button data-testid="refresh" onClick={reload}>Refresh</button>}>Cassandra</PageTitle>
      <ErrorBox error={error} />
      {loading ? <Loading /> : null}
      {data ? (
        <p>
          Keyspace <b data-testid="cassandra-keyspace">{data.keyspace}</b>: <b data-testid="cassandra-row-count">{num(data.rows)}</b> rows in{' '}
          <code>users</code>.
        </p>
      ) : null}
      <Lookup />
      <section class="panel">
        <h2>
          Latest registrations{' '}
          <select data-testid="latest-select" value={String(latest)} onChange={(e) => setLatest(Number(e.currentTarget.value))}>
            {[10, 25, 50, 100].map((n) => (
              <option key={n} value={String(n)}>
                {n}
              </option>
            ))}
          </select>
        </h2>
        {data && !rows.length ? <Empty>No users stored yet: start the pipeline with <code>sluice up</code> (or <code>sluice produce</code> and <code>sluice process</code>)</Empty> : null}
        {rows.length ? (
          <div class="scroll-x">
            <table class="grid" data-testid="users-table">
              <thead>
                <tr>
                  {cols.map((c) => (
                    <th key={c}>{c}</th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((r, i) => (
                  <tr key={r.id ?? i} data-testid="user-row" data-id={r.id}>
                    {cols.map((c) => (
                      <td key={c} class={c === 'id' ? 'mono nowrap' : 'nowrap'}>
                        {cell(r[c])}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
    </div>
  );
}
