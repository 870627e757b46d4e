// The dashboard's frame: who is signed in (else the sign-in page, and no data), the navigation,
// the live indicator, and the page the hash route names.
import { useEffect, useState } from 'preact/hooks';
import { session, setUnauthenticatedHandler, signOut, type Session } from './api.js';
import { subscribe, useConnected } from './live.js';
import { href, useRoute, type Route } from './router.js';
import { SignIn } from './pages/signin.js';
import { Overview } from './pages/overview.js';
import { AgentPage, Agents } from './pages/agents.js';
import { ServicePage, Services } from './pages/services.js';
import { CronJobPage, CronJobs } from './pages/cronjobs.js';
import { JobPage, Jobs } from './pages/jobs.js';
import { TaskPage, Tasks } from './pages/tasks.js';
import { ErrorBox } from './components/ui.js';

const NAV: readonly { readonly route: string; readonly label: string }[] = [
  { route: '', label: 'Overview' },
  { route: 'agents', label: 'Agents' },
  { route: 'services', label: 'Services' },
  { route: 'cronjobs', label: 'Cron jobs' },
  { route: 'jobs', label: 'Jobs' },
  { route: 'tasks', label: 'Tasks' },
];

export function App() {
  const [who, setWho] = useState<Session | null | undefined>(undefined);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    setUnauthenticatedHandler(() => setWho(null));
    session().then(setWho, (err: unknown) => {
      if ((err as { status?: number }).status === 401) setWho(null);
      else setError(err);
    });
  }, []);
  if (error) return <ErrorBox error={error} />;
  if (who === undefined) return <p class="muted pad">Loading…</p>;
  if (who === null) return <SignIn onSignedIn={setWho} />;
  return <Shell who={who} onSignedOut={() => setWho(null)} />;
}

function Shell({ who, onSignedOut }: { who: Session; onSignedOut: () => void }) {
  const route = useRoute();
  const live = useConnected();
  const [open, setOpen] = useState(false);
  // The streams stay open while signed in, so the indicator says whether updates are flowing.
  useEffect(() => subscribe(() => {}), []);
  const section = route.parts[0] ?? '';
  return (
    <div class="shell">
      <header class="top">
        <a class="brand" href="#/">
          <img src="/ui/favicon.svg" alt="" width="22" height="22" /> Agora
        </a>
        <button type="button" class="menu" aria-label="menu" onClick={() => setOpen(!open)}>
          ☰
        </button>
        <nav class={open ? 'open' : ''} onClick={() => setOpen(false)}>
          {NAV.map((n) => (
            <a key={n.route} href={href(n.route ? [n.route] : [])} class={section === n.route ? 'current' : ''}>
              {n.label}
            </a>
          ))}
        </nav>
        <span class={`live ${live ? 'on' : 'off'}`} title={live ? 'following the event streams' : 'reconnecting to the event streams'} data-testid="live">
          {live ? 'live' : 'offline'}
        </span>
        <span class="who" data-testid="principal">
          {who.insecure ? 'insecure cluster' : who.principal}
        </span>
        {who.insecure ? null : (
          <button type="button" data-testid="sign-out" onClick={() => void signOut().finally(onSignedOut)}>
            Sign out
          </button>
        )}
      </header>
      <main class="page">{page(route, who)}</main>
    </div>
  );
}

function page(route: Route, who: Session) {
  const [section = '', name] = route.parts;
  switch (section) {
    case '':
      return <Overview />;
    case 'agents':
      return name ? <AgentPage id={name} who={who} /> : <Agents />;
    case 'services':
      return name ? <ServicePage name={name} who={who} /> : <Services />;
    case 'cronjobs':
      return name ? <CronJobPage name={name} who={who} /> : <CronJobs />;
    case 'jobs':
      return name ? <JobPage name={name} who={who} /> : <Jobs />;
    case 'tasks':
      return name ? <TaskPage frameworkId={name} taskId={route.parts[2] ?? ''} /> : <Tasks route={route} />;
    default:
      return <p>No page here. <a href="#/">Overview</a></p>;
  }
}
