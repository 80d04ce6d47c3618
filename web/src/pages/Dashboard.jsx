// #/ — the live pipeline: per processor (C++ and Spark side by side when both run) the
// rates, end-to-end latency and consumer lag of the last two minutes as uPlot charts and
// the latest values as big numbers, from GET /api/v1/flow polled every second; and the
// health of every stack component from GET /api/v1/status.
import { useMemo } from 'preact/hooks';
import { get } from '../lib/api.js';
import { usePoll } from '../lib/hooks.js';
import { Chart } from '../lib/Chart.jsx';
import { Badge, Empty, ErrorBox, Loading, PageTitle } from '../lib/Status.jsx';
import { ms, num, rate } from '../lib/format.js';

const PROCESSORS = {
  cpp: { title: 'C++ processor', verb: 'sluice process', stopped: 'The processor is not running' },
  spark: { title: 'Spark processor', verb: 'sluice spark', stopped: 'The Spark processor is not running' },
};

const RATE_SERIES = [
  { key: 'consumed', label: 'consumed', color: '#1f6feb' },
  { key: 'valid', label: 'valid', color: '#2da44e' },
  { key: 'dead_lettered', label: 'dead-lettered', color: '#cf222e' },
  { key: 'written', label: 'written', color: '#8250df' },
];
const LATENCY_SERIES = [
  { key: 'p50_ms', label: 'p50', color: '#2da44e' },
  { key: 'p95_ms', label: 'p95', color: '#bf8700' },
  { key: 'p99_ms', label: 'p99', color: '#cf222e' },
];
const PRODUCED = { label: 'produced', color: '#888' };

const last = (arr) => (arr && arr.length ? arr[arr.length - 1] : null);

/** The chart columns of one processor, with the producer's rate on the same time grid. */
function columns(p, producer, intervalMs) {
  const samples = p.samples || [];
  const xs = samples.map((s) => s.t / 1000);
  const step = intervalMs > 0 ? intervalMs : 1000;
  const produced = new Map();
  for (const s of producer?.samples || []) produced.set(Math.round(s.t / step), s.produced);
  const col = (k) => samples.map((s) => (s[k] === undefined ? null : s[k]));
  return {
    rates: [xs, ...RATE_SERIES.map((s) => col(s.key)), samples.map((s) => produced.get(Math.round(s.t / step)) ?? null)],
    latency: [xs, ...LATENCY_SERIES.map((s) => col(s.key))],
    lag: [xs, col('lag')],
  };
}

function Big({ label, value, unit, testid, tone }) {
  return (
    <div class={`big ${tone || ''}`}>
      <div class="big-value">
        <span data-testid={testid}>{value}</span>
        {unit ? <small>{unit}</small> : null}
      </div>
      <div class="big-label">{label}</div>
    </div>
  );
}

function ProcessorPanel({ p, producer, intervalMs }) {
  const meta = PROCESSORS[p.name] || { title: p.name, verb: `sluice ${p.name}`, stopped: `${p.name} is not running` };
  const data = useMemo(() => columns(p, producer, intervalMs), [p, producer, intervalMs]);
  const s = last(p.samples) || {};
  const rules = Object.entries(s.dead_by_rule || {}).filter(([, n]) => n > 0);
  return (
    <section class="panel processor" data-testid={`processor-${p.name}`}>
      <h2>
        {meta.title} <Badge kind={p.running ? 'ok' : 'bad'} testid="processor-state">{p.running ? 'running' : 'stopped'}</Badge>
      </h2>
      {!p.running ? (
        <Empty testid="processor-stopped">
          {meta.stopped}: start it with <code>{meta.verb}</code>
          {p.reason ? <div class="muted">({p.reason})</div> : null}
        </Empty>
      ) : null}
      {p.running || (p.samples && p.samples.length) ? (
        <>
          <div class="bigs">
            <Big label="consumed" unit="/s" value={rate(s.consumed)} testid="rate-consumed" />
            <Big label="valid" unit="/s" value={rate(s.valid)} testid="rate-valid" tone="good" />
            <Big label="dead-lettered" unit="/s" value={rate(s.dead_lettered)} testid="rate-dead_lettered" tone="badish" />
            <Big label="written" unit="/s" value={rate(s.written)} testid="rate-written" />
            <Big label="p50" unit="ms" value={ms(s.p50_ms)} testid="latency-p50" />
            <Big label="p95" unit="ms" value={ms(s.p95_ms)} testid="latency-p95" />
            <Big label="p99" unit="ms" value={ms(s.p99_ms)} testid="latency-p99" />
            <Big label="consumer lag" value={num(s.lag)} testid="lag" />
          </div>
          {rules.length ? (
            <p class="muted small" data-testid="dead-by-rule">
              dead letters by rule, last interval: {rules.map(([r, n]) => `${r} ${rate(n)}/s`).join(', ')}
            </p>
          ) : null}
          <Chart
            title="records per second"
            testid={`chart-rates-${p.name}`}
            series={[...RATE_SERIES, PRODUCED]}
            data={data.rates}
            format={rate}
          />
          <Chart
            title="end-to-end latency (ms)"
            testid={`chart-latency-${p.name}`}
            series={LATENCY_SERIES}
            data={data.latency}
            format={ms}
          />
          <Chart
            title="consumer lag (records)"
            testid={`chart-lag-${p.name}`}
            series={[{ label: 'lag', color: '#bf8700' }]}
            data={data.lag}
            format={num}
            height={120}
          />
        </>
      ) : null}
    </section>
  );
}

function ProducerLine({ producer }) {
  if (!producer) return null;
  const s = last(producer.samples);
  return (
    <section class="panel producer" data-testid="producer">
      <h2>
        Producer <Badge kind={producer.running ? 'ok' : 'off'} testid="producer-state">{producer.running ? 'running' : 'stopped'}</Badge>
      </h2>
      {producer.running || s ? (
        <Big label="produced" unit="/s" value={rate(s ? s.produced : null)} testid="rate-produced" />
      ) : (
        <Empty testid="producer-stopped">
          The producer is not running: start it with <code>sluice produce</code>
        </Empty>
      )}
    </section>
  );
}

function HealthStrip() {
  const { data, error } = usePoll(() => get('/status'), 5000);
  return (
    <section class="health-strip" data-testid="dashboard-health">
      {error ? <ErrorBox error={error} prefix="Component health unavailable" /> : null}
      {data && !(data.components || []).length ? <Empty>No stack components are known: start the stack with <code>sluice up</code></Empty> : null}
      {(data?.components || []).map((c) => (
        <span class={`chip ${c.running ? 'ok' : 'bad'}`} data-testid="health-chip" data-name={c.name} key={c.name} title={c.running ? `pid ${c.pid}` : 'not running'}>
          {c.name}
        </span>
      ))}
    </section>
  );
}

export function Dashboard() {
  const { data, error, loading } = usePoll(() => get('/flow', { seconds: 120 }), 1000);
  const processors = data?.processors || [];
  const cpp = processors.find((p) => p.name === 'cpp');
  // Show every processor that runs or has history; the C++ one always (it is the default).
  const shown = processors.filter((p) => p.name === 'cpp' || p.running || (p.samples && p.samples.length));
  const hidden = processors.filter((p) => !shown.includes(p));
  if (data && !cpp) shown.unshift({ name: 'cpp', running: false, reason: '', samples: [] });
  return (
    <div data-testid="page-dashboard">
      <PageTitle>Pipeline</PageTitle>
      <HealthStrip />
      {error ? <ErrorBox error={error} prefix="Flow unavailable" /> : null}
      {loading && !data ? <Loading /> : null}
      {data ? (
        <>
          <ProducerLine producer={data.producer} />
          <div class={`processors n${shown.length}`}>
            {shown.map((p) => (
              <ProcessorPanel key={p.name} p={p} producer={data.producer} intervalMs={data.interval_ms} />
            ))}
          </div>
          {hidden.map((p) => (
            <p class="muted small" key={p.name} data-testid={`processor-${p.name}-absent`}>
              {(PROCESSORS[p.name] || { title: p.name }).title}: not running
              {PROCESSORS[p.name] ? (
                <>
                  {' '}(start it with <code>{PROCESSORS[p.name].verb}</code>)
                </>
              ) : null}
              {p.reason ? ` — ${p.reason}` : ''}
            </p>
          ))}
        </>
      ) : null}
    </div>
  );
}
