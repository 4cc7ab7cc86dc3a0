import { useEffect, useState } from 'react';
import { api, type User } from './api/client.ts';
import { ApiError, errorText, setUnauthorizedHandler } from './api/http.ts';
import { ErrorAlert } from './components/alert.tsx';
import { Spinner } from './components/icons.tsx';
import { navigate, useRoute } from './lib/router.ts';
import { BackupsPage } from './pages/backups-page.tsx';
import { DestinationsPage } from './pages/destinations-page.tsx';
import { BackupLimitsPage } from './pages/backup-limits-page.tsx';
import { LoginPage } from './pages/login-page.tsx';
import { SchedulesPage } from './pages/schedules-page.tsx';
import { ServersPage } from './pages/servers-page.tsx';

type Session = { state: 'loading' } | { state: 'signed-out' } | { state: 'signed-in'; user: User } | { state: 'error'; message: string };

export function App() {
  const route = useRoute();
  const [session, setSession] = useState<Session>({ state: 'loading' });

  useEffect(() => {
    setUnauthorizedHandler(() => setSession({ state: 'signed-out' }));
    api.account().then(
      (res) => setSession({ state: 'signed-in', user: res.attributes }),
      (err: unknown) => setSession(err instanceof ApiError && err.status === 401
        ? { state: 'signed-out' }
        : { state: 'error', message: errorText(err) }),
    );
    return () => setUnauthorizedHandler(null);
  }, []);

  // Move focus to the new page's heading so screen readers announce the navigation.
  useEffect(() => {
    document.getElementById('page-title')?.focus({ preventScroll: true });
  }, [route]);

  useEffect(() => {
    document.title = route.name === 'backups' ? `Backups · ${route.server} · backwing`
      : route.name === 'schedules' ? `Schedules · ${route.server} · backwing`
        : route.name === 'destinations' ? 'Destinations · backwing' : 'backwing';
  }, [route]);

  if (session.state === 'loading') return <div className="loading loading-page"><Spinner label="Loading" /></div>;
  if (session.state === 'error') return <main className="login"><ErrorAlert message={session.message} /></main>;
  if (session.state === 'signed-out') {
    return <LoginPage onSignedIn={(user) => {
      setSession({ state: 'signed-in', user });
      if (route.name === 'login') navigate('/');
    }} />;
  }

  const signOut = async () => {
    try {
      await api.logout();
    } finally {
      setSession({ state: 'signed-out' });
    }
  };

  return (
    <>
      <a className="skip" href="#main">Skip to content</a>
      <header className="topbar">
        <a className="brand" href="/" onClick={(e) => { e.preventDefault(); navigate('/'); }}>
          <span className="brand-mark" aria-hidden="true">bw</span> backwing
        </a>
        <div className="topbar-user">
          {session.user.root_admin && (
            <a className="btn btn-small btn-secondary" href="/admin/destinations" onClick={(e) => { e.preventDefault(); navigate('/admin/destinations'); }}>Destinations</a>
          )}
          {session.user.root_admin && <a className="btn btn-small btn-secondary" href="/admin/backup-limits" onClick={(e) => { e.preventDefault(); navigate('/admin/backup-limits'); }}>Backup limits</a>}
          <span className="muted user-email">{session.user.email}</span>
          <button type="button" className="btn btn-small btn-secondary" onClick={() => { void signOut(); }}>Sign out</button>
        </div>
      </header>
      <main id="main">
        {route.name === 'servers' || route.name === 'login' ? <ServersPage /> : null}
        {route.name === 'backups' && <BackupsPage key={route.server} serverId={route.server} />}
        {route.name === 'schedules' && <SchedulesPage key={route.server} serverId={route.server} />}
        {route.name === 'destinations' && <DestinationsPage />}
        {route.name === 'backup-limits' && <BackupLimitsPage />}
        {route.name === 'not-found' && (
          <section className="page">
            <h1 id="page-title" tabIndex={-1}>Page not found</h1>
            <p>Nothing lives at <code>{route.path}</code>. <a href="/" onClick={(e) => { e.preventDefault(); navigate('/'); }}>Back to your servers</a>.</p>
          </section>
        )}
      </main>
    </>
  );
}
