// Entry point of the sluice ui bundle: the shell (left nav, session, notices) and the hash
// router that picks one page per route.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { session } from './lib/api.js';
import { useRoute } from './lib/router.js';
import { clearFlash, subscribeFlash } from './lib/flash.js';
import { Nav } from './lib/Nav.jsx';
import { ErrorBox, Notice } from './lib/Status.jsx';
import { Dashboard } from './pages/Dashboard.jsx';
import { Topics } from './pages/Topics.jsx';
import { TopicDetail } from './pages/TopicDetail.jsx';
import { Messages } from './pages/Messages.jsx';
import { Groups } from './pages/Groups.jsx';
import { GroupDetail } from './pages/GroupDetail.jsx';
import { Registry } from './pages/Registry.jsx';
import { Dlq } from './pages/Dlq.jsx';
import { Cassandra } from './pages/Cassandra.jsx';
import { Accounting } from './pages/Accounting.jsx';
import { Health } from './pages/Health.jsx';
import { NotFound } from './pages/NotFound.jsx';

function page(route) {
  const [section, a, b, ...rest] = route.parts;
  if (rest.length) return <NotFound path={route.path} />;
  switch (section) {
    case undefined:
      return <Dashboard />;
    case 'topics':
      if (a === undefined) return <Topics />;
      if (b === undefined) return <TopicDetail name={a} />;
      if (b === 'messages') return <Messages name={a} query={route.query} />;
      break;
    case 'groups':
      if (a === undefined) return <Groups />;
      if (b === undefined) return <GroupDetail id={a} />;
      break;
    case 'registry':
      if (a === undefined) return <Registry />;
      break;
    case 'dlq':
      if (a === undefined) return <Dlq />;
      break;
    case 'cassandra':
      if (a === undefined) return <Cassandra />;
      break;
    case 'accounting':
      if (a === undefined) return <Accounting />;
      break;
    case 'health':
      if (a === undefined) return <Health />;
      break;
    default:
      break;
  }
  return <NotFound path={route.path} />;
}

function App() {
  const route = useRoute();
  const [info, setInfo] = useState(null);
  const [sessionError, setSessionError] = useState(null);
  const [notice, setNotice] = useState(null);

  useEffect(() => {
    setNotice(subscribeFlash(setNotice));
    session()
      .then(setInfo)
      .catch(setSessionError);
  }, []);

  // A notice stays for the page it was raised for; the next navigation clears it.
  useEffect(() => {
    if (notice && Date.now() - notice.at > 1000) clearFlash();
    window.scrollTo(0, 0);
  }, [route.path]); // eslint-disable-line react-hooks/exhaustive-deps

  return (
    <div class="shell">
      <Nav section={route.parts[0]} version={info?.version} />
      <main class="main">
        {sessionError ? <ErrorBox error={sessionError} prefix="No session with the console server" /> : null}
        {notice ? (
          <Notice kind={notice.kind} testid="flash">
            {notice.text}
          </Notice>
        ) : null}
        {/* keyed by path: a new page starts with fresh state; a new query keeps it */}
        <div key={route.path} class="page">
          {page(route)}
        </div>
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app'));
