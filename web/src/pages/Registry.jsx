// #/registry — the schema registry: subjects with their versions and compatibility; pick a
// subject and a version to read its schema pretty-printed, or two versions to see a line
// diff (added lines + green, removed - red).
import { useState } from 'preact/hooks';
import { get, seg } from '../lib/api.js';
import { useApi } from '../lib/hooks.js';
import { diffLines, diffStats } from '../lib/diff.js';
import { Empty, ErrorBox, KeyValues, Loading, PageTitle } from '../lib/Status.jsx';

const cache = new Map();

/** One version of a subject, fetched once per page load. */
function schemaVersion(subject, version) {
  const k = `${subject}\u0000${version}`;
  if (!cache.has(k)) {
    const p = get(`/registry/subjects/${seg(subject)}/versions/${seg(version)}`);
    p.catch(() => cache.delete(k));
    cache.set(k, p);
  }
  return cache.get(k);
}

/** The schema as indented text: JSON pretty-printed, anything else as it is. */
export function schemaText(schema) {
  if (typeof schema === 'string') {
    try {
      return JSON.stringify(JSON.parse(schema), null, 2);
    } catch {
      return schema;
    }
  }
  return JSON.stringify(schema, null, 2);
}

function VersionSelect({ versions, value, onChange, testid }) {
  return (
    <select data-testid={testid} value={String(value)} onChange={(e) => onChange(Number(e.currentTarget.value))}>
      {versions.map((v) => (
        <option key={v} value={String(v)}>
          version {v}
        </option>
      ))}
    </select>
  );
}

function SchemaView({ subject, version }) {
  const { data, error, loading } = useApi(() => schemaVersion(subject, version), [subject, version]);
  if (loading) return <Loading />;
  if (error) return <ErrorBox error={error} />;
  return (
    <div>
      <KeyValues
        testid="schema-meta"
        rows={[
          ['Subject', data.subject],
          ['Version', data.version],
          ['Schema id', data.id, 'schema-id'],
          ['Type', data.schema_type || 'AVRO'],
        ]}
      />
      <pre class="schema" data-testid="schema-view">
        {schemaText(data.schema)}
      </pre>
    </div>
  );
}

function SchemaDiff({ subject, from, to }) {
  const { data, error, loading } = useApi(
    () => Promise.all([schemaVersion(subject, from), schemaVersion(subject, to)]),
    [subject, from, to],
  );
  if (loading) return <Loading />;
  if (error) return <ErrorBox error={error} />;
  const d = diffLines(schemaText(data[0].schema), schemaText(data[1].schema));
  const st = diffStats(d);
  return (
    <div>
      <p class="small" data-testid="schema-diff-stats">
        version {from} → version {to}: <span class="add-text">+{st.added}</span> <span class="del-text">-{st.removed}</span>
        {st.added + st.removed === 0 ? ' (identical)' : ''}
      </p>
      <pre class="schema diff" data-testid="schema-diff">
        {d.map((l, i) => (
          <div key={i} class={l.op === '+' ? 'diff-add' : l.op === '-' ? 'diff-del' : 'diff-same'} data-op={l.op}>
            {l.op} {l.text}
          </div>
        ))}
      </pre>
    </div>
  );
}

function SubjectPanel({ s }) {
  const versions = [...(s.versions || [])].sort((a, b) => a - b);
  const latest = versions[versions.length - 1];
  const [version, setVersion] = useState(latest);
  const [from, setFrom] = useState(versions.length > 1 ? versions[versions.length - 2] : latest);
  const [to, setTo] = useState(latest);
  if (!versions.length) return <Empty>Subject {s.subject} has no versions</Empty>;
  return (
    <section class="panel" data-testid="subject-panel" data-subject={s.subject}>
      <h2>{s.subject}</h2>
      <div class="cols">
        <div>
          <div class="toolbar">
            <label>
              Schema
              <VersionSelect testid="schema-version-select" versions={versions} value={version} onChange={setVersion} />
            </label>
          </div>
          <SchemaView subject={s.subject} version={version} />
        </div>
        <div>
          <div class="toolbar">
            <label>
              Diff from
              <VersionSelect testid="diff-from" versions={versions} value={from} onChange={setFrom} />
            </label>
            <label>
              to
              <VersionSelect testid="diff-to" versions={versions} value={to} onChange={setTo} />
            </label>
          </div>
          {versions.length > 1 || from !== to ? (
            <SchemaDiff subject={s.subject} from={from} to={to} />
          ) : (
            <Empty testid="diff-empty">Only one version: nothing to compare yet</Empty>
          )}
        </div>
      </div>
    </section>
  );
}

export function Registry() {
  const { data, error, loading } = useApi(() => get('/registry'));
  const [selected, setSelected] = useState('');
  const subjects = data?.subjects || [];
  const current = subjects.find((s) => s.subject === selected) || (subjects.length === 1 ? subjects[0] : null);
  return (
    <div data-testid="page-registry">
      <PageTitle>Schema registry</PageTitle>
      {error ? <ErrorBox error={error.status >= 500 ? `The registry is unreachable: ${error.message}` : error} /> : null}
      {loading ? <Loading /> : null}
      {data ? (
        <p class="muted small">
          <span data-testid="registry-url">{data.url}</span>, global compatibility <b data-testid="registry-compatibility">{data.compatibility || '—'}</b>
        </p>
      ) : null}
      {data && !subjects.length ? <Empty>No subjects yet: a schema is registered by <code>sluice up</code> or the first <code>sluice produce</code></Empty> : null}
      {subjects.length ? (
        <table class="grid" data-testid="subjects-table">
          <thead>
            <tr>
              <th>Subject</th>
              <th>Versions</th>
              <th>Compatibility</th>
            </tr>
          </thead>
          <tbody>
            {subjects.map((s) => (
              <tr
                key={s.subject}
                data-testid="subject-row"
                data-name={s.subject}
                class={`clickable ${current?.subject === s.subject ? 'selected' : ''}`}
                onClick={() => setSelected(s.subject)}
              >
                <td>
                  <a
                    href="#/registry"
                    data-testid="subject-link"
                    onClick={(e) => {
                      e.preventDefault();
                      setSelected(s.subject);
                    }}
                  >
                    {s.subject}
                  </a>
                </td>
                <td>{(s.versions || []).join(', ')}</td>
                <td>{s.compatibility || data.compatibility || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {current ? <SubjectPanel key={current.subject} s={current} /> : subjects.length ? <p class="muted">Select a subject to read its schemas.</p> : null}
    </div>
  );
}
