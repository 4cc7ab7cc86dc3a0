import { useCallback, useEffect, useState } from 'react';
import { api, type ScheduleAttributes, type ServerObject } from '../api/client.ts';
import { errorText } from '../api/http.ts';
import { ErrorAlert } from '../components/alert.tsx';
import { Breadcrumb } from '../components/breadcrumb.tsx';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { PlusIcon, Spinner } from '../components/icons.tsx';
import { RetentionCard } from '../components/retention-card.tsx';
import { ScheduleDialog } from '../components/schedule-dialog.tsx';
import { ScheduleRow } from '../components/schedule-row.tsx';
import { ServerTabs } from '../components/server-tabs.tsx';
import { can } from '../lib/backup-state.ts';
import { navigate } from '../lib/router.ts';

type DialogState =
  | { kind: 'edit'; schedule: ScheduleAttributes | null }
  | { kind: 'delete'; schedule: ScheduleAttributes }
  | null;

/** Automated backups for one server: its schedules (backup tasks) and its retention policy. */
export function SchedulesPage({ serverId }: { serverId: string }) {
  const [server, setServer] = useState<ServerObject | null>(null);
  const [schedules, setSchedules] = useState<ScheduleAttributes[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  /** After Run now, the notice links to the Backups tab where the new backup shows up. */
  const [linkBackups, setLinkBackups] = useState(false);
  const [dialog, setDialog] = useState<DialogState>(null);
  const [running, setRunning] = useState<number | null>(null);
  const [now, setNow] = useState(() => Date.now());

  const perms = server?.meta?.user_permissions ?? [];

  const loadSchedules = useCallback(async () => {
    try {
      const res = await api.schedules(serverId);
      setSchedules(res.data.map((d) => d.attributes));
    } catch (err) {
      setLoadError(errorText(err));
    }
  }, [serverId]);

  useEffect(() => {
    let cancelled = false;
    void (async () => {
      try {
        const s = await api.server(serverId);
        if (cancelled) return;
        setServer(s);
        if (can(s.meta?.user_permissions ?? [], 'schedule.read')) await loadSchedules();
      } catch (err) {
        if (!cancelled) setLoadError(errorText(err));
      }
    })();
    return () => { cancelled = true; };
  }, [serverId, loadSchedules]);

  // Relative times move on; a run in progress (is_processing) is followed until it ends.
  const processing = schedules?.some((s) => s.is_processing) ?? false;
  useEffect(() => {
    const t = setInterval(() => {
      setNow(Date.now());
      if (processing) void loadSchedules();
    }, processing ? 3000 : 15000);
    return () => clearInterval(t);
  }, [processing, loadSchedules]);

  const runNow = async (s: ScheduleAttributes) => {
    setActionError(null);
    setNotice(null);
    setLinkBackups(false);
    setRunning(s.id);
    try {
      await api.executeSchedule(serverId, s.id);
      setNotice(`${s.name} is running. Its backup appears on the Backups tab.`);
      setLinkBackups(true);
      await loadSchedules();
    } catch (err) {
      setActionError(errorText(err));
    } finally {
      setRunning(null);
    }
  };

  const title = server ? server.attributes.name : 'Server';
  const canRead = can(perms, 'schedule.read');
  const backupsHref = `/server/${encodeURIComponent(serverId)}/backups`;

  return (
    <section className="page" aria-labelledby="page-title">
      <Breadcrumb title={title} />
      <header className="page-header">
        <div>
          <h1 id="page-title" tabIndex={-1}>Schedules</h1>
          <p className="page-sub">
            {server ? <>{server.attributes.name} <span className="muted mono">{server.attributes.identifier}</span></> : ' '}
          </p>
        </div>
        {server && canRead && can(perms, 'schedule.create') && (
          <button type="button" className="btn btn-primary" onClick={() => { setActionError(null); setDialog({ kind: 'edit', schedule: null }); }}>
            <PlusIcon /> Create schedule
          </button>
        )}
      </header>
      {server && <ServerTabs server={serverId} current="schedules" perms={perms} />}

      <ErrorAlert message={loadError} />
      <ErrorAlert message={actionError} onDismiss={() => setActionError(null)} />
      <div className="notice" role="status" aria-live="polite">
        {notice}
        {notice && linkBackups && <> <a href={backupsHref} onClick={(e) => { e.preventDefault(); navigate(backupsHref); }}>Go to Backups</a></>}
      </div>

      {!server && !loadError && <div className="loading"><Spinner label="Loading server" /></div>}

      {server && canRead && server.attributes.feature_limits.backups <= 0 && (
        <p className="callout callout-info" data-testid="schedules-limit-zero">
          This server's backup limit is 0, so a schedule cannot hold a backup task and will not make backups.
        </p>
      )}
      {server && canRead && (
        <section aria-labelledby="schedules-title" className="stack">
          <h2 id="schedules-title" className="section-title">Backup schedules</h2>
          {!schedules && !loadError && <div className="loading"><Spinner label="Loading schedules" /></div>}
          {schedules && schedules.length === 0 && (
            <p className="empty card">No schedules yet. A schedule makes backups for you, for example every night at 02:00 UTC.</p>
          )}
          {schedules && schedules.length > 0 && (
            <ul className="schedules card" aria-label="Schedules">
              {schedules.map((s) => (
                <ScheduleRow key={s.id} schedule={s} now={now} running={running === s.id}
                  canUpdate={can(perms, 'schedule.update')} canDelete={can(perms, 'schedule.delete')}
                  onRun={() => { void runNow(s); }}
                  onEdit={() => { setActionError(null); setDialog({ kind: 'edit', schedule: s }); }}
                  onDelete={() => { setActionError(null); setDialog({ kind: 'delete', schedule: s }); }} />
              ))}
            </ul>
          )}
        </section>
      )}
      {server && !canRead && !can(perms, 'backup.delete') && (
        <p className="empty card">You do not have permission to view this server's schedules.</p>
      )}

      {server && can(perms, 'backup.delete') && <RetentionCard server={serverId} now={now} />}

      {dialog?.kind === 'edit' && (
        <ScheduleDialog server={serverId} schedule={dialog.schedule}
          onClose={() => { setDialog(null); void loadSchedules(); }}
          onSaved={(s) => {
            const isNew = dialog.schedule === null;
            setDialog(null);
            setSchedules((prev) => {
              const list = prev ?? [];
              return list.some((o) => o.id === s.id) ? list.map((o) => (o.id === s.id ? s : o)) : [...list, s];
            });
            setLinkBackups(false);
            setNotice(isNew ? `${s.name} was created.` : `${s.name} was saved.`);
          }} />
      )}

      {dialog?.kind === 'delete' && (
        <ConfirmDialog title={`Delete schedule "${dialog.schedule.name}"`} confirmLabel="Delete schedule" danger onClose={() => setDialog(null)}
          onConfirm={async () => {
            await api.deleteSchedule(serverId, dialog.schedule.id);
            const gone = dialog.schedule;
            setDialog(null);
            setSchedules((prev) => prev && prev.filter((o) => o.id !== gone.id));
            setLinkBackups(false);
            setNotice(`${gone.name} was deleted.`);
          }}>
          <p>The schedule and its backup task are removed. Backups it already made stay.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
