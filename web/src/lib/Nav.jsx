// The left navigation: one link per page, the current one highlighted.
const ITEMS = [
  { id: 'dashboard', label: 'Dashboard', href: '#/', match: (p) => !p },
  { id: 'topics', label: 'Topics', href: '#/topics', match: (p) => p === 'topics' },
  { id: 'groups', label: 'Consumer groups', href: '#/groups', match: (p) => p === 'groups' },
  { id: 'registry', label: 'Schema registry', href: '#/registry', match: (p) => p === 'registry' },
  { id: 'dlq', label: 'Dead letters', href: '#/dlq', match: (p) => p === 'dlq' },
  { id: 'cassandra', label: 'Cassandra', href: '#/cassandra', match: (p) => p === 'cassandra' },
  { id: 'accounting', label: 'Accounting', href: '#/accounting', match: (p) => p === 'accounting' },
  { id: 'health', label: 'Health', href: '#/health', match: (p) => p === 'health' },
];

export function Nav({ section, version }) {
  return (
    <nav class="nav" data-testid="nav">
      <a class="brand" href="#/">
        sluice <span>ui</span>
      </a>
      <ul>
        {ITEMS.map((it) => (
          <li key={it.id}>
            <a href={it.href} data-testid={`nav-${it.id}`} class={it.match(section) ? 'active' : ''} aria-current={it.match(section) ? 'page' : undefined}>
              {it.label}
            </a>
          </li>
        ))}
      </ul>
      {version ? (
        <div class="version" data-testid="app-version">
          v{version}
        </div>
      ) : null}
    </nav>
  );
}
