import { useState } from 'react';
import { api, type ActivityEntry } from '../api/client.ts';
import { errorText } from '../api/http.ts';
import { activityActor, activitySentence, isBackupActivity } from '../lib/activity-text.ts';
import { formatExact, formatRelative } from '../lib/format.ts';
import { ErrorAlert } from './alert.tsx';
import { Spinner } from './icons.tsx';

/**
 * Backup activity, fetched when the user opens the section, newest first, with who did each thing.
 * "Show older" pages back through all of it (the panel pages; backup events are picked out here).
 */
export function ActivityPanel({ server, now }: { server: string; now: number }) {
  const [entries, setEntries] = useState<ActivityEntry[] | null>(null);
  const [page, setPage] = useState(0);
  const [more, setMore] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);

  const load = async (next: number) => {
    setLoading(true);
    setError(null);
    try {
      const res = await api.activity(server, next);
      const picked = res.data.filter((e) => isBackupActivity(e.attributes.event));
      setEntries((prev) => (next === 1 || prev === null ? picked : [...prev, ...picked]));
      setPage(next);
      const p = res.meta?.pagination;
      setMore(p !== undefined && p.current_page < p.total_pages);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setLoading(false);
    }
  };

  return (
    <details className="activity card" onToggle={(e) => { if ((e.target as HTMLDetailsElement).open) void load(1); }}>
      <summary>Backup activity</summary>
      <div className="activity-body">
        <ErrorAlert message={error} />
        {entries && entries.length === 0 && !more && <p className="muted">Nothing yet.</p>}
        {entries && entries.length > 0 && (
          <ul aria-label="Backup activity, newest first">
            {entries.map((e, i) => {
              const at = e.attributes.timestamp ?? e.attributes.created_at;
              return (
                <li key={String(e.attributes.id ?? i)} data-event={e.attributes.event}>
                  <span className="activity-text">
                    {activitySentence(e.attributes.event, e.attributes.properties)}
                    <span className="activity-actor"> — {activityActor(e.attributes)}</span>
                  </span>
                  {at && <time className="muted" dateTime={at} title={formatExact(at)}>{formatRelative(at, now)}</time>}
                </li>
              );
            })}
          </ul>
        )}
        {loading && <Spinner label="Loading activity" />}
        {more && !loading && (
          <button type="button" className="btn btn-small btn-secondary" onClick={() => { void load(page + 1); }}>Show older</button>
        )}
      </div>
    </details>
  );
}
