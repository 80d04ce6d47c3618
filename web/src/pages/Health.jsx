// #/health — every stack component as `sluice status` reports it (running, pid, port,
// uptime, memory), refreshed every 5 seconds.
import { get } from '../lib/api.js';
import { usePoll } from '../lib/hooks.js';
import { Empty, ErrorBox, Loading, PageTitle, Running } from '../lib/Status.jsx';
import { bytes, duration } from '../lib/format.js';

export function Health() {
  const { data, error, loading } = usePoll(() => get('/status'), 5000);
  const components = data?.components || [];
  const down = components.filter((c) => !c.running).length;
  return (
    <div data-testid="page-health">
      <PageTitle>Health</PageTitle>
      <ErrorBox error={error} />
      {loading ? <Loading /> : null}
      {data && !components.length ? <Empty>No stack components are known: start the stack with <code>sluice up</code></Empty> : null}
      {components.length ? (
        <>
          <p data-testid="health-summary">
            {down ? `${down} of ${components.length} components are not running` : `All ${components.length} components are running`}
          </p>
          <table class="grid" data-testid="components-table">
            <thead>
              <tr>
                <th>Component</th>
                <th>State</th>
                <th class="num">PID</th>
                <th class="num">Port</th>
                <th class="num">Uptime</th>
                <th class="num">Memory (RSS)</th>
              </tr>
            </thead>
            <tbody>
              {components.map((c) => (
                <tr key={c.name} data-testid="component-row" data-name={c.name}>
                  <td>{c.name}</td>
                  <td>
                    <Running running={c.running} testid="component-state" />
                  </td>
                  <td class="num">{c.pid ?? '—'}</td>
                  <td class="num">{c.port ?? '—'}</td>
                  <td class="num">{c.running ? duration(c.uptime_seconds) : '—'}</td>
                  <td class="num">{c.rss_kib === null || c.rss_kib === undefined ? '—' : bytes(c.rss_kib * 1024)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </div>
  );
}
