import { useState } from 'react';
import { api, type ActivityEntry } from '../api/client.ts';
import { errorText } from '../api/http.ts';
import { activitySentence, isBackupActivity } from '../lib/activity-text.ts';
import { formatExact, formatRelative } from '../lib/format.ts';
import { ErrorAlert } from './alert.tsx';
import { Spinner } from './icons.tsx';

/** Recent backup activity, fetched when the user opens the section. */
export function ActivityPanel({ server, now }: { server: string; now: number }) {
  const [entries, setEntries] = useState<ActivityEntry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  const load = async () => {
    setLoading(true);
    setError(null);
    try {
      const res = await api.activity(server);
      setEntries(res.data.filter((e) => isBackupActivity(e.attributes.event)).slice(0, 15));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setLoading(false);
    }
  };

  return (
    <details className="activity card" onToggle={(e) => { if ((e.target as HTMLDetailsElement).open) void load(); }}>
      <summary>Recent backup activity</summary>
      <div className="activity-body">
        {loading && <Spinner label="Loading activity" />}
        <ErrorAlert message={error} />
        {entries && entries.length === 0 && <p className="muted">Nothing yet.</p>}
        {entries && entries.length > 0 && (
          <ul>
            {entries.map((e, i) => {
              const at = e.attributes.timestamp ?? e.attributes.created_at;
              return (
                <li key={String(e.attributes.id ?? i)}>
                  <span>{activitySentence(e.attributes.event, e.attributes.properties)}</span>
                  {at && <time className="muted" dateTime={at} title={formatExact(at)}>{formatRelative(at, now)}</time>}
                </li>
              );
            })}
          </ul>
        )}
      </div>
    </details>
  );
}
