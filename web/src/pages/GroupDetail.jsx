// #/groups/<id> — one consumer group: members and their assignments, committed offsets per
// partition with lag and the total lag, and "Reset offsets" (earliest, latest or a time)
// behind a confirmation dialog.
import { useState } from 'preact/hooks';
import { get, post, seg } from '../lib/api.js';
import { useApi } from '../lib/hooks.js';
import { Dialog } from '../lib/Dialog.jsx';
import { Badge, Empty, ErrorBox, Loading, Notice, PageTitle } from '../lib/Status.jsx';
import { localInputToMs, msToLocalInput, num, time } from '../lib/format.js';

export function GroupState({ state }) {
  const kind = state === 'Stable' ? 'ok' : state === 'Empty' ? 'off' : state === 'Dead' ? 'bad' : 'warn';
  return <Badge kind={kind}>{state || 'unknown'}</Badge>;
}

function assignmentText(assignments) {
  const byTopic = new Map();
  for (const a of assignments || []) {
    if (!byTopic.has(a.topic)) byTopic.set(a.topic, []);
    byTopic.get(a.topic).push(a.partition);
  }
  return [...byTopic].map(([t, ps]) => `${t} [${ps.sort((x, y) => x - y).join(', ')}]`).join('; ');
}

function ResetForm({ group, topics, members, onDone }) {
  const [topic, setTopic] = useState(topics[0] || '');
  const [to, setTo] = useState('earliest');
  const [when, setWhen] = useState(msToLocalInput(Date.now() - 3600 * 1000));
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [formError, setFormError] = useState('');

  const body = () => {
    const b = { topic: topic.trim(), to };
    if (to === 'timestamp') b.timestamp_ms = localInputToMs(when);
    return b;
  };
  const ask = (e) => {
    e.preventDefault();
    setFormError('');
    if (!topic.trim()) return setFormError('Choose a topic');
    if (to === 'timestamp' && Number.isNaN(localInputToMs(when))) return setFormError('Pick a date and time');
    setError(null);
    setConfirming(true);
  };
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      const res = await post(`/groups/${seg(group)}/reset`, body());
      setConfirming(false);
      setBusy(false);
      onDone(res);
    } catch (e) {
      setError(e.message);
      setBusy(false);
    }
  };
  const target = to === 'timestamp' ? `the first offset at or after ${time(localInputToMs(when))}` : `the ${to} offset`;

  return (
    <section class="panel" data-testid="reset-offsets">
      <h2>Reset offsets</h2>
      {members > 0 ? (
        <p class="warn-text small">
          The group has {members} member{members === 1 ? '' : 's'}: Kafka refuses a reset until its consumers are stopped.
        </p>
      ) : null}
      <form class="toolbar" onSubmit={ask}>
        <label>
          Topic
          <input data-testid="reset-topic" list="reset-topics" value={topic} onInput={(e) => setTopic(e.currentTarget.value)} />
          <datalist id="reset-topics">
            {topics.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
        </label>
        <label>
          To
          <select data-testid="reset-to" value={to} onChange={(e) => setTo(e.currentTarget.value)}>
            <option value="earliest">earliest</option>
            <option value="latest">latest</option>
            <option value="timestamp">a time</option>
          </select>
        </label>
        {to === 'timestamp' ? (
          <label>
            Time (local)
            <input data-testid="reset-timestamp" type="datetime-local" step="1" value={when} onInput={(e) => setWhen(e.currentTarget.value)} />
          </label>
        ) : null}
        <button class="danger" type="submit" data-testid="reset-offsets-button">
          Reset offsets…
        </button>
        {formError ? <span class="bad-text">{formError}</span> : null}
      </form>
      {confirming ? (
        <Dialog
          title="Reset offsets"
          testid="reset-offsets-dialog"
          onClose={() => setConfirming(false)}
          busy={busy}
          actions={
            <button class="danger" data-testid="reset-offsets-confirm" onClick={confirm} disabled={busy}>
              {busy ? 'Resetting…' : 'Reset'}
            </button>
          }
        >
          <p>
            Move the committed offsets of group <b>{group}</b> on every partition of <b>{topic}</b> to {target}?
          </p>
          {error ? (
            <div class="box error" data-testid="dialog-error" role="alert">
              {error}
            </div>
          ) : null}
        </Dialog>
      ) : null}
    </section>
  );
}

export function GroupDetail({ id }) {
  const { data, error, loading, reload } = useApi(() => get(`/groups/${seg(id)}`), [id]);
  const [result, setResult] = useState(null);
  const members = data?.members || [];
  const offsets = data?.offsets || [];
  const topics = [...new Set(offsets.map((o) => o.topic))];
  return (
    <div data-testid="page-group">
      <PageTitle right={<button data-testid="refresh" onClick={reload}>Refresh</button>}>
        <a href="#/groups">Consumer groups</a> / <span data-testid="group-id">{id}</span> {data ? <GroupState state={data.state} /> : null}
      </PageTitle>
      <ErrorBox error={error} />
      {loading ? <Loading /> : null}
      {data ? (
        <>
          <p>
            Total lag: <b data-testid="total-lag">{num(data.total_lag)}</b>
          </p>
          <h2>Members</h2>
          {members.length ? (
            <table class="grid" data-testid="members-table">
              <thead>
                <tr>
                  <th>Member</th>
                  <th>Client</th>
                  <th>Host</th>
                  <th>Assignments</th>
                </tr>
              </thead>
              <tbody>
                {members.map((m) => (
                  <tr key={m.member_id} data-testid="member-row">
                    <td class="mono">{m.member_id}</td>
                    <td>{m.client_id}</td>
                    <td>{m.host}</td>
                    <td>{assignmentText(m.assignments) || '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <Empty testid="members-empty">No members: no consumer of this group is running</Empty>
          )}
          <h2>Offsets</h2>
          {offsets.length ? (
            <table class="grid" data-testid="offsets-table">
              <thead>
                <tr>
                  <th>Topic</th>
                  <th class="num">Partition</th>
                  <th class="num">Committed</th>
                  <th class="num">High</th>
                  <th class="num">Lag</th>
                </tr>
              </thead>
              <tbody>
                {offsets.map((o) => (
                  <tr key={`${o.topic}:${o.partition}`} data-testid="offset-row" data-topic={o.topic} data-partition={o.partition}>
                    <td>{o.topic}</td>
                    <td class="num">{o.partition}</td>
                    <td class="num">{num(o.committed)}</td>
                    <td class="num">{num(o.high)}</td>
                    <td class={`num ${o.lag > 0 ? 'warn-text' : ''}`}>{num(o.lag)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <Empty testid="offsets-empty">The group has committed no offsets</Empty>
          )}
          {result ? (
            <Notice testid="reset-result">
              Offsets reset:{' '}
              {(result.offsets || []).map((o) => `${o.topic}[${o.partition}] → ${num(o.committed)}`).join(', ') || 'no partition changed'}
            </Notice>
          ) : null}
          <ResetForm
            group={id}
            topics={topics}
            members={members.length}
            onDone={(res) => {
              setResult(res);
              reload();
            }}
          />
        </>
      ) : null}
    </div>
  );
}
