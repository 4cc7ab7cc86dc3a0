import { useEffect, useState } from 'react';
import { api, type ServerObject } from '../api/client.ts';
import { errorText } from '../api/http.ts';
import { ErrorAlert } from '../components/alert.tsx';
import { ServerIcon, Spinner } from '../components/icons.tsx';
import { navigate } from '../lib/router.ts';

function statusLabel(status: string | null): string | null {
  switch (status) {
    case null: return null;
    case 'restoring_backup': return 'Restoring backup';
    case 'installing': return 'Installing';
    case 'install_failed': return 'Install failed';
    case 'reinstall_failed': return 'Reinstall failed';
    case 'suspended': return 'Suspended';
    default: return status;
  }
}

export function ServersPage() {
  const [servers, setServers] = useState<ServerObject[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api.servers().then((res) => setServers(res.data), (err: unknown) => setError(errorText(err)));
  }, []);

  return (
    <section className="page" aria-labelledby="page-title">
      <header className="page-header">
        <div>
          <h1 id="page-title" tabIndex={-1}>Your servers</h1>
          <p className="page-sub">Pick a server to see and manage its backups.</p>
        </div>
      </header>
      <ErrorAlert message={error} />
      {!servers && !error && <div className="loading"><Spinner label="Loading servers" /></div>}
      {servers && servers.length === 0 && <p className="empty card">You do not have access to any servers yet.</p>}
      {servers && servers.length > 0 && (
        <ul className="servers" aria-label="Servers">
          {servers.map(({ attributes: s }) => {
            const href = `/server/${encodeURIComponent(s.identifier)}/backups`;
            const status = statusLabel(s.is_suspended ? 'suspended' : s.status);
            const limit = s.feature_limits.backups;
            return (
              <li key={s.uuid}>
                <a className="server card" href={href} onClick={(e) => { e.preventDefault(); navigate(href); }}>
                  <ServerIcon />
                  <span className="server-main">
                    <span className="server-name">{s.name}</span>
                    <span className="muted mono">{s.identifier}</span>
                  </span>
                  <span className="server-meta">
                    {status && <span className="badge badge-running">{status}</span>}
                    <span className="muted">{limit === 0 ? 'Backups disabled' : `Up to ${limit} backup${limit === 1 ? '' : 's'}`}</span>
                  </span>
                </a>
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}
