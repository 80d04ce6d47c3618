// #/topics — the cluster (id, controller, brokers) and every topic with partitions, replication, ISR, under-replicated partitions,
// messages and size; "Create topic" opens a dialog whose form POSTs /api/v1/topics.
import { useState } from 'preact/hooks';
import { get, post } from '../lib/api.js';
import { useApi } from '../lib/hooks.js';
import { href } from '../lib/router.js';
import { Dialog } from '../lib/Dialog.jsx';
import { Badge, Empty, ErrorBox, Loading, Notice, PageTitle } from '../lib/Status.jsx';
import { bytes, num } from '../lib/format.js';

/** "k=v" lines (blank lines and # comments skipped) -> {k: v}; throws on a bad line. */
export function parseConfigs(text) {
  const out = {};
  (text || '').split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`configs, line ${i + 1}: "${line}" is not key=value`);
    out[line.slice(0, eq).trim()] = line.slice(eq + 1).trim();
  });
  return out;
}

function CreateTopicDialog({ existing, onClose, onCreated }) {
  const [name, setName] = useState('');
  const [partitions, setPartitions] = useState('1');
  const [replication, setReplication] = useState('1');
  const [configs, setConfigs] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e) => {
    e?.preventDefault();
    setError(null);
    let body;
    try {
      const p = Number(partitions);
      const r = Number(replication);
      if (!name.trim()) throw new Error('Give the topic a name');
      if (existing.includes(name.trim())) throw new Error(`Topic ${name.trim()} already exists`);
      if (!Number.isInteger(p) || p < 1) throw new Error('Partitions must be a whole number of at least 1');
      if (!Number.isInteger(r) || r < 1) throw new Error('Replication must be a whole number of at least 1');
      body = { name: name.trim(), partitions: p, replication_factor: r, configs: parseConfigs(configs) };
    } catch (err) {
      setError(err.message);
      return;
    }
    setBusy(true);
    try {
      const res = await post('/topics', body);
      onCreated(res.created || body.name);
    } catch (err) {
      setError(err.message);
      setBusy(false);
    }
  };

  return (
    <Dialog
      title="Create topic"
      testid="create-topic-dialog"
      onClose={onClose}
      busy={busy}
      actions={
        <button type="submit" form="create-topic-form" class="primary" data-testid="create-topic-submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create'}
        </button>
      }
    >
      <form id="create-topic-form" class="form" onSubmit={submit}>
        <label>
          Name
          <input data-testid="create-topic-name" value={name} onInput={(e) => setName(e.currentTarget.value)} placeholder="users.raw" />
        </label>
        <label>
          Partitions
          <input data-testid="create-topic-partitions" type="number" min="1" value={partitions} onInput={(e) => setPartitions(e.currentTarget.value)} />
        </label>
        <label>
          Replication factor
          <input data-testid="create-topic-replication" type="number" min="1" value={replication} onInput={(e) => setReplication(e.currentTarget.value)} />
        </label>
        <label class="wide">
          Configs (one key=value a line)
          <textarea data-testid="create-topic-configs" rows="4" value={configs} onInput={(e) => setConfigs(e.currentTarget.value)} placeholder={'retention.ms=604800000\ncleanup.policy=delete'} />
        </label>
      </form>
      {error ? (
        <div class="box error" data-testid="dialog-error" role="alert">
          {error}
        </div>
      ) : null}
    </Dialog>
  );
}

/** The cluster the topics live on: its id, the controller and every broker. */
function ClusterSummary() {
  const { data, error } = useApi(() => get('/cluster'));
  if (error) return <ErrorBox error={error} />;
  if (!data) return null;
  return (
    <p class="muted" data-testid="cluster">
      Cluster <code data-testid="cluster-id">{data.cluster_id}</code> · controller broker{' '}
      <b data-testid="cluster-controller">{data.controller_id}</b> · brokers:{' '}
      {data.brokers.map((b, i) => (
        <span key={b.id} data-testid="broker" data-id={b.id}>
          {i ? ', ' : ''}
          {b.id} at {b.host}:{b.port}
        </span>
      ))}
    </p>
  );
}

export function Topics() {
  const { data, error, loading, reload } = useApi(() => get('/topics'));
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState('');
  const topics = data?.topics || [];
  return (
    <div data-testid="page-topics">
      <PageTitle
        right={
          <button class="primary" data-testid="create-topic-button" onClick={() => setCreating(true)}>
            Create topic
          </button>
        }
      >
        Topics
      </PageTitle>
      <ClusterSummary />
      {created ? (
        <Notice>
          Created topic <a href={href(['topics', created])}>{created}</a>
        </Notice>
      ) : null}
      <ErrorBox error={error} />
      {loading ? <Loading /> : null}
      {data && !topics.length ? <Empty>No topics yet: create one with "Create topic", or start the stack with <code>sluice up</code></Empty> : null}
      {topics.length ? (
        <table class="grid" data-testid="topics-table">
          <thead>
            <tr>
              <th>Name</th>
              <th class="num">Partitions</th>
              <th class="num">Replication</th>
              <th class="num">ISR</th>
              <th class="num">Under-replicated</th>
              <th class="num">Messages</th>
              <th class="num">Size</th>
            </tr>
          </thead>
          <tbody>
            {topics.map((t) => (
              <tr key={t.name} data-testid="topic-row" data-name={t.name}>
                <td>
                  <a href={href(['topics', t.name])} data-testid="topic-link">
                    {t.name}
                  </a>
                  {t.internal ? <Badge kind="off">internal</Badge> : null}
                </td>
                <td class="num">{num(t.partitions)}</td>
                <td class="num">{num(t.replication_factor)}</td>
                <td class="num">{num(t.in_sync_replicas)}</td>
                <td class={`num ${t.under_replicated_partitions > 0 ? 'bad-text' : ''}`}>{num(t.under_replicated_partitions)}</td>
                <td class="num">{num(t.messages)}</td>
                <td class="num">{bytes(t.size_bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {creating ? (
        <CreateTopicDialog
          existing={topics.map((t) => t.name)}
          onClose={() => setCreating(false)}
          onCreated={(name) => {
            setCreating(false);
            setCreated(name);
            reload();
          }}
        />
      ) : null}
    </div>
  );
}
