// #/accounting — reconciliation: the last `verify` (produced = stored + superseded +
// dead-lettered, missing, per-rule counts, an OK/FAILED badge), "Run verify now" (POST, then
// polled every second until it finishes), and the Airflow DAG runs with their verify results.
import { useEffect, useState } from 'preact/hooks';
import { get, post } from '../lib/api.js';
import { useApi } from '../lib/hooks.js';
import { Badge, Empty, ErrorBox, KeyValues, Loading, PageTitle } from '../lib/Status.jsx';
import { cell, duration, num, time } from '../lib/format.js';

function Records({ title, list, testid }) {
  if (!list || !list.length) return null;
  return (
    <div data-testid={testid}>
      <h3>{title}</h3>
      <table class="grid">
        <thead>
          <tr>
            <th class="num">Partition</th>
            <th class="num">Offset</th>
            <th>Id</th>
          </tr>
        </thead>
        <tbody>
          {list.map((r, i) => (
            <tr key={i}>
              <td class="num">{r.partition}</td>
              <td class="num">{r.offset}</td>
              <td class="mono">{r.id || '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Report({ r }) {
  const rules = Object.entries(r.dead_by_rule || {}).sort((a, b) => b[1] - a[1]);
  const rows = [
    ['Topic', r.topic ?? '—'],
    ['Produced', num(r.produced), 'verify-produced'],
    ['Stored', num(r.stored), 'verify-stored'],
    ['Superseded', num(r.superseded), 'verify-superseded'],
    ['Dead-lettered', num(r.dead_lettered), 'verify-dead_lettered'],
    ...(r.purged ? [['Purged (dead-lettered, then purged)', num(r.purged), 'verify-purged']] : []),
    ['Missing', num(r.missing), 'verify-missing'],
  ];
  if (r.in_both) rows.push(['In both sinks', num(r.in_both), 'verify-in_both']);
  if (r.unexpected_rows) rows.push(['Unexpected rows', num(r.unexpected_rows)]);
  if (r.unexpected_dead_letters) rows.push(['Unexpected dead letters', num(r.unexpected_dead_letters)]);
  if (r.not_yet_processed) rows.push(['Not yet processed', num(r.not_yet_processed), 'verify-not_yet_processed']);
  if (r.duplicate_dead_letters) rows.push(['Re-sent dead letters (counted once)', num(r.duplicate_dead_letters)]);
  return (
    <div class="cols">
      <div>
        <KeyValues testid="verify-report" rows={rows} />
      </div>
      <div>
        <h3>Dead letters by rule</h3>
        {rules.length ? (
          <table class="grid" data-testid="verify-rules">
            <tbody>
              {rules.map(([rule, n]) => (
                <tr key={rule} data-testid="verify-rule-row" data-rule={rule}>
                  <td>{rule}</td>
                  <td class="num">{num(n)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p class="muted">No record was dead-lettered.</p>
        )}
      </div>
      <div class="span">
        <Records title="Missing records (first examples)" list={r.missing_records} testid="verify-missing-records" />
        <Records title="Records in both sinks" list={r.in_both_records} testid="verify-in-both-records" />
        <Records title="Unexpected rows" list={r.unexpected_row_examples} testid="verify-unexpected-rows" />
      </div>
    </div>
  );
}

function Verify() {
  const { data, error, loading, reload } = useApi(() => get('/verify'));
  const [startError, setStartError] = useState(null);
  const [starting, setStarting] = useState(false);
  const running = data?.state === 'running';

  // While a verify runs, ask again every second.
  useEffect(() => {
    if (!running) return undefined;
    const t = setTimeout(reload, 1000);
    return () => clearTimeout(t);
  }, [data, error]); // eslint-disable-line react-hooks/exhaustive-deps

  const run = async () => {
    setStartError(null);
    setStarting(true);
    try {
      await post('/verify', {});
    } catch (e) {
      if (e.status !== 409) setStartError(e); // 409: one runs already; follow it
    }
    setStarting(false);
    reload();
  };

  const r = data?.report;
  const ok = r ? r.ok ?? (data.state === 'done' && !r.missing) : null;
  return (
    <section class="panel" data-testid="verify">
      <h2>
        Verify{' '}
        {data?.state === 'done' && r ? (
          <Badge kind={ok ? 'ok' : 'bad'} testid="verify-badge">
            {ok ? 'OK' : 'FAILED'}
          </Badge>
        ) : null}
        {data?.state === 'failed' ? (
          <Badge kind="bad" testid="verify-badge">
            FAILED
          </Badge>
        ) : null}
        {running ? (
          <Badge kind="warn" testid="verify-running">
            running…
          </Badge>
        ) : null}
      </h2>
      <div class="toolbar">
        <button class="primary" data-testid="run-verify" onClick={run} disabled={running || starting}>
          {running ? 'Verifying…' : 'Run verify now'}
        </button>
        {data ? (
          <span class="muted small" data-testid="verify-state" data-state={data.state}>
            {data.state === 'never' ? 'never run' : `state ${data.state}`}
            {data.started_ms ? `, started ${time(data.started_ms)}` : ''}
            {data.finished_ms ? `, finished ${time(data.finished_ms)}` : ''}
            {data.started_ms && data.finished_ms ? ` (${duration((data.finished_ms - data.started_ms) / 1000)})` : ''}
          </span>
        ) : null}
      </div>
      <ErrorBox error={startError} />
      <ErrorBox error={error} />
      {loading ? <Loading /> : null}
      {data?.state === 'never' ? (
        <Empty testid="verify-never">No verify has run since the console started: press "Run verify now"</Empty>
      ) : null}
      {data?.state === 'failed' ? <ErrorBox error={data.error || 'verify failed without a reason'} prefix="Verify could not finish" /> : null}
      {r ? <Report r={r} /> : null}
    </section>
  );
}

function verifyCell(v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'boolean') return <Badge kind={v ? 'ok' : 'bad'}>{v ? 'OK' : 'FAILED'}</Badge>;
  if (typeof v === 'object') {
    const ok = typeof v.ok === 'boolean' ? <Badge kind={v.ok ? 'ok' : 'bad'}>{v.ok ? 'OK' : 'FAILED'}</Badge> : null;
    const parts = ['produced', 'stored', 'superseded', 'dead_lettered', 'purged', 'missing']
      .filter((k) => v[k] !== undefined)
      .map((k) => `${k} ${num(v[k])}`)
      .join(', ');
    return (
      <span>
        {ok} {parts || cell(v)}
      </span>
    );
  }
  return String(v);
}

function runStateKind(s) {
  if (s === 'success') return 'ok';
  if (s === 'failed' || s === 'upstream_failed') return 'bad';
  if (s === 'running' || s === 'queued') return 'warn';
  return 'off';
}

function Airflow() {
  const { data, error, loading, reload } = useApi(() => get('/airflow'));
  const dags = data?.dags || [];
  return (
    <section class="panel" data-testid="airflow">
      <h2>
        Airflow runs{' '}
        <button data-testid="airflow-refresh" onClick={reload}>
          Refresh
        </button>
      </h2>
      <ErrorBox error={error} />
      {loading ? <Loading /> : null}
      {data && !data.available ? (
        <Empty testid="airflow-unavailable">Airflow is unavailable: {data.reason || 'no reason given'}</Empty>
      ) : null}
      {data?.available && !dags.length ? <Empty>Airflow knows no sluice DAG yet</Empty> : null}
      {data?.available
        ? dags.map((d) => (
            <div key={d.dag_id} data-testid="airflow-dag" data-dag={d.dag_id}>
              <h3>{d.dag_id}</h3>
              {(d.runs || []).length ? (
                <table class="grid">
                  <thead>
                    <tr>
                      <th>Run</th>
                      <th>State</th>
                      <th>Logical date</th>
                      <th>Started</th>
                      <th>Ended</th>
                      <th>Verify</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.runs.map((r) => (
                      <tr key={r.run_id} data-testid="airflow-run-row">
                        <td class="mono">{r.run_id}</td>
                        <td>
                          <Badge kind={runStateKind(r.state)}>{r.state || '—'}</Badge>
                        </td>
                        <td>{time(r.logical_date)}</td>
                        <td>{time(r.start_date)}</td>
                        <td>{time(r.end_date)}</td>
                        <td>{verifyCell(r.verify)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              ) : (
                <Empty>No runs yet (new DAGs start paused: unpause it in the Airflow UI)</Empty>
              )}
            </div>
          ))
        : null}
    </section>
  );
}

export function Accounting() {
  return (
    <div data-testid="page-accounting">
      <PageTitle>Accounting</PageTitle>
      <Verify />
      <Airflow />
    </div>
  );
}
