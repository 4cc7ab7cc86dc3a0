import { can } from '../lib/backup-state.ts';
import { navigate } from '../lib/router.ts';

/**
 * Backups | Schedules for one server. The Schedules tab holds the schedules and the retention
 * policy, so it exists for users who may read schedules or delete backups.
 */
export function ServerTabs({ server, current, perms }: { server: string; current: 'backups' | 'schedules'; perms: readonly string[] }) {
  if (!can(perms, 'schedule.read') && !can(perms, 'backup.delete')) return null;
  const base = `/server/${encodeURIComponent(server)}`;
  const tabs = [
    { key: 'backups', label: 'Backups', href: `${base}/backups` },
    { key: 'schedules', label: 'Schedules', href: `${base}/schedules` },
  ] as const;
  return (
    <nav className="tabs" aria-label="Server sections">
      {tabs.map((t) => (
        <a key={t.key} href={t.href} className={`tab ${t.key === current ? 'tab-current' : ''}`}
          aria-current={t.key === current ? 'page' : undefined}
          onClick={(e) => { e.preventDefault(); navigate(t.href); }}>
          {t.label}
        </a>
      ))}
    </nav>
  );
}
