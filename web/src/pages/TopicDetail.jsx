// #/topics/<name> — one topic: summary, partitions (leader, replicas, ISR, offsets), configs,
// a link to the message browser, and "Delete topic" behind a dialog where the user types
// the topic's name.
import { useState } from 'preact/hooks';
import { get, post, seg } from '../lib/api.js';
import { useApi } from '../lib/hooks.js';
import { href, navigate } from '../lib/router.js';
import { flash } from '../lib/flash.js';
import { Dialog } from '../lib/Dialog.jsx';
import { Badge, Empty, ErrorBox, KeyValues, Loading, PageTitle } from '../lib/Status.jsx';
import { bytes, num } from '../lib/format.js';

function DeleteTopicDialog({ name, onClose }) {
  const [typed, setTyped] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await post(`/topics/${seg(name)}/delete`, {});
      flash(`Deleted topic ${name}`);
      navigate(['topics']);
    } catch (e) {
      setError(e.message);
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={`Delete topic ${name}`}
      testid="delete-topic-dialog"
      onClose={onClose}
      busy={busy}
      actions={
        <button class="danger" data-testid="delete-topic-confirm" disabled={typed !== name || busy} onClick={confirm}>
          {busy ? 'Deleting…' : 'Delete'}
        </button>
      }
    >
      <p>
        This deletes <b>{name}</b> and every record in it. It cannot be undone. Type the topic's name to confirm.
      </p>
      <input
        data-testid="delete-topic-confirm-input"
        value={typed}
        placeholder={name}
        onInput={(e) => setTyped(e.currentTarget.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && typed === name && !busy) confirm();
        }}
      />
      {error ? (
        <div class="box error" data-testid="dialog-error" role="alert">
          {error}
        </div>
      ) : null}
    </Dialog>
  );
}

export function TopicDetail({ name }) {
  const { data, error, loading } = useApi(() => get(`/topics/${seg(name)}`), [name]);
  const [deleting, setDeleting] = useState(false);
  const parts = data?.partition_details || [];
  const configs = data?.configs || [];
  return (
    <div data-testid="page-topic">
      <PageTitle
        right={
          <>
            <a class="button" href={href(['topics', name, 'messages'])} data-testid="browse-messages">
              Browse messages
            </a>{' '}
            <button class="danger" data-testid="delete-topic-button" onClick={() => setDeleting(true)} disabled={!data}>
              Delete topic
            </button>
          </>
        }
      >
        <a href="#/topics">Topics</a> / <span data-testid="topic-name">{name}</span>
        {data?.internal ? <Badge kind="off">internal</Badge> : null}
      </PageTitle>
      <ErrorBox error={error} />
      {loading ? <Loading /> : null}
      {data ? (
        <>
          <KeyValues
            testid="topic-summary"
            rows={[
              ['Partitions', num(data.partitions)],
              ['Replication factor', num(data.replication_factor)],
              ['Fewest in-sync replicas', num(data.in_sync_replicas)],
              ['Under-replicated partitions', num(data.under_replicated_partitions)],
              ['Messages', num(data.messages), 'topic-messages'],
              ['Size', bytes(data.size_bytes)],
            ]}
          />
          <h2>Partitions</h2>
          {parts.length ? (
            <table class="grid" data-testid="partitions-table">
              <thead>
                <tr>
                  <th class="num">Partition</th>
                  <th class="num">Leader</th>
                  <th>Replicas</th>
                  <th>In sync</th>
                  <th class="num">Low offset</th>
                  <th class="num">High offset</th>
                  <th class="num">Messages</th>
                </tr>
              </thead>
              <tbody>
                {parts.map((p) => (
                  <tr key={p.partition} data-testid="partition-row" data-partition={p.partition}>
                    <td class="num">
                      <a href={href(['topics', name, 'messages'], { partition: p.partition })}>{p.partition}</a>
                    </td>
                    <td class="num">{p.leader}</td>
                    <td>{(p.replicas || []).join(', ')}</td>
                    <td class={(p.isr || []).length < (p.replicas || []).length ? 'bad-text' : ''}>{(p.isr || []).join(', ')}</td>
                    <td class="num">{num(p.low)}</td>
                    <td class="num">{num(p.high)}</td>
                    <td class="num">{num(p.messages)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <Empty>The broker reported no partitions for this topic</Empty>
          )}
          <h2>Configs</h2>
          {configs.length ? (
            <table class="grid" data-testid="configs-table">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Value</th>
                  <th>Source</th>
                </tr>
              </thead>
              <tbody>
                {configs.map((c) => (
                  <tr key={c.name} data-testid="config-row" data-name={c.name} class={c.is_default ? 'muted' : 'strong'}>
                    <td>{c.name}</td>
                    <td class="mono">{c.sensitive ? '(sensitive)' : c.value ?? '—'}</td>
                    <td>{c.is_default ? 'default' : 'set'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <Empty>The broker reported no configs for this topic</Empty>
          )}
        </>
      ) : null}
      {deleting ? <DeleteTopicDialog name={name} onClose={() => setDeleting(false)} /> : null}
    </div>
  );
}
