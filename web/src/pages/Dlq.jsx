// #/dlq — dead letters: counts by rule, sample letters per rule (reason, fields, source
// position) and, per rule, "Replay": a dry run first ("N records would be replayed"), then
// the real replay on confirmation, showing what was sent and what failed.
import { useState } from 'preact/hooks';
import { get, post } from '../lib/api.js';
import { useApi } from '../lib/hooks.js';
import { Dialog } from '../lib/Dialog.jsx';
import { Empty, ErrorBox, Loading, Notice, PageTitle } from '../lib/Status.jsx';
import { cell, isoUtc, num, time } from '../lib/format.js';

function ReplayDialog({ rule, onClose, onDone }) {
  const dry = useApi(() => post('/dlq/replay', { rule, dry_run: true }), [rule]);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const replay = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await post('/dlq/replay', { rule, dry_run: false });
      setResult(r);
      onDone(r);
    } catch (e) {
      setError(e.message);
    }
    setBusy(false);
  };
  const matched = dry.data?.matched ?? 0;
  return (
    <Dialog
      title={`Replay dead letters of ${rule}`}
      testid="replay-dialog"
      onClose={onClose}
      busy={busy}
      actions={
        !result && dry.data && matched > 0 ? (
          <button class="danger" data-testid="replay-confirm" onClick={replay} disabled={busy}>
            {busy ? 'Replaying…' : `Replay ${num(matched)} records`}
          </button>
        ) : null
      }
    >
      {dry.loading ? <Loading what="Dry run…" /> : null}
      {dry.error ? <ErrorBox error={dry.error} /> : null}
      {dry.data ? (
        <p data-testid="replay-dry-run" data-matched={matched}>
          {num(matched)} record{matched === 1 ? '' : 's'} would be replayed to the raw topic, where the processor judges them again.
          {matched === 0 ? ' Nothing to do.' : ''}
        </p>
      ) : null}
      {error ? (
        <div class="box error" data-testid="dialog-error" role="alert">
          {error}
        </div>
      ) : null}
      {result ? (
        <Notice kind={result.failed ? 'error' : 'ok'} testid="replay-result">
          Replayed: <span data-testid="replay-sent">{num(result.sent)}</span> sent,{' '}
          <span data-testid="replay-failed">{num(result.failed)}</span> failed (of {num(result.matched)} matched).
        </Notice>
      ) : null}
    </Dialog>
  );
}

function Sample({ s }) {
  return (
    <tr data-testid="dlq-sample">
      <td class="num">
        {s.partition}:{s.offset}
      </td>
      <td title={isoUtc(s.timestamp_ms)}>{time(s.timestamp_ms)}</td>
      <td>{cell(s.rules)}</td>
      <td>{cell(s.fields)}</td>
      <td data-testid="dlq-sample-reason">{s.reason}</td>
      <td class="mono">
        {s.source_topic}[{s.source_partition}]@{s.source_offset}
      </td>
      <td class="mono">{cell(s.key)}</td>
      <td class="mono preview">{cell(s.value_preview)}</td>
    </tr>
  );
}

export function Dlq() {
  const { data, error, loading, reload } = useApi(() => get('/dlq', { samples: 5 }));
  const [replaying, setReplaying] = useState('');
  const rules = Object.entries(data?.by_rule || {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const samples = data?.samples || {};
  return (
    <div data-testid="page-dlq">
      <PageTitle right={<button data-testid="refresh" onClick={reload}>Refresh</button>}>Dead letters</PageTitle>
      <ErrorBox error={error} />
      {loading ? <Loading /> : null}
      {data ? (
        <p>
          Topic <b data-testid="dlq-topic">{data.topic}</b>: <b data-testid="dlq-records">{num(data.records)}</b> letters,{' '}
          <span data-testid="dlq-distinct">{num(data.distinct)}</span> distinct source records.
        </p>
      ) : null}
      {data && !rules.length ? <Empty>No dead letters yet: every record so far passed the contract</Empty> : null}
      {rules.length ? (
        <table class="grid" data-testid="dlq-rules-table">
          <thead>
            <tr>
              <th>Rule</th>
              <th class="num" title="distinct source records dead-lettered under the rule (a record's repeated letters count once)">Source records</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {rules.map(([rule, n]) => (
              <tr key={rule} data-testid="dlq-rule-row" data-rule={rule}>
                <td>
                  <a href={`#dlq-rule-${rule}`} onClick={(e) => { e.preventDefault(); document.getElementById(`dlq-rule-${rule}`)?.scrollIntoView(); }}>
                    {rule}
                  </a>
                </td>
                <td class="num" data-testid="dlq-rule-count">
                  {num(n)}
                </td>
                <td>
                  <button data-testid="replay-button" onClick={() => setReplaying(rule)}>
                    Replay…
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {rules.map(([rule]) => (
        <section key={rule} class="panel" id={`dlq-rule-${rule}`} data-testid="dlq-rule-samples" data-rule={rule}>
          <h2>{rule}</h2>
          {(samples[rule] || []).length ? (
            <table class="grid">
              <thead>
                <tr>
                  <th class="num">Position</th>
                  <th>Time</th>
                  <th>Rules</th>
                  <th>Fields</th>
                  <th>Reason</th>
                  <th>Source</th>
                  <th>Key</th>
                  <th>Value</th>
                </tr>
              </thead>
              <tbody>
                {samples[rule].map((s) => (
                  <Sample key={`${s.partition}:${s.offset}`} s={s} />
                ))}
              </tbody>
            </table>
          ) : (
            <Empty>No sample letters were returned for this rule</Empty>
          )}
        </section>
      ))}
      {replaying ? <ReplayDialog rule={replaying} onClose={() => setReplaying('')} onDone={reload} /> : null}
    </div>
  );
}
