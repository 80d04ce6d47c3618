// #/groups — every consumer group with its state, member count and protocol type.
import { get } from '../lib/api.js';
import { useApi } from '../lib/hooks.js';
import { href } from '../lib/router.js';
import { Empty, ErrorBox, Loading, PageTitle } from '../lib/Status.jsx';
import { GroupState } from './GroupDetail.jsx';

export function Groups() {
  const { data, error, loading } = useApi(() => get('/groups'));
  const groups = data?.groups || [];
  return (
    <div data-testid="page-groups">
      <PageTitle>Consumer groups</PageTitle>
      <ErrorBox error={error} />
      {loading ? <Loading /> : null}
      {data && !groups.length ? (
        <Empty>No consumer groups yet: a group appears once a consumer (e.g. <code>sluice process</code>) joins or commits</Empty>
      ) : null}
      {groups.length ? (
        <table class="grid" data-testid="groups-table">
          <thead>
            <tr>
              <th>Group</th>
              <th>State</th>
              <th class="num">Members</th>
              <th>Protocol type</th>
            </tr>
          </thead>
          <tbody>
            {groups.map((g) => (
              <tr key={g.group_id} data-testid="group-row" data-name={g.group_id}>
                <td>
                  <a href={href(['groups', g.group_id])} data-testid="group-link">
                    {g.group_id}
                  </a>
                </td>
                <td>
                  <GroupState state={g.state} />
                </td>
                <td class="num">{g.members}</td>
                <td>{g.protocol_type || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}
