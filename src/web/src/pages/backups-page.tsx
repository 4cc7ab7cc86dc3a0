import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { shortBytes } from '../../../core/bytes.ts';
import { progressDone, type BackupCompletedPayload, type BackupProgressPayload, type RestoreCompletedPayload, type RestoreProgressPayload } from '../../../wire/ws-events.ts';
import { api, type BackupAttributes, type BackupControl, type ServerObject } from '../api/client.ts';
import { ApiError, errorText } from '../api/http.ts';
import { BackupRow, ProgressBar, type RowAction } from '../components/backup-row.tsx';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { CreateBackupDialog } from '../components/create-backup-dialog.tsx';
import { RestoreDialog } from '../components/restore-dialog.tsx';
import { BackupBrowser } from '../components/backup-browser.tsx';
import { SaveHookCard } from '../components/save-hook-card.tsx';
import { ServerTabs } from '../components/server-tabs.tsx';
import { ErrorAlert } from '../components/alert.tsx';
import { Breadcrumb } from '../components/breadcrumb.tsx';
import { ActivityPanel } from '../components/activity-panel.tsx';
import { NotificationsCard } from '../components/notifications-card.tsx';
import { PlusIcon, RestoreIcon, Spinner, StopIcon } from '../components/icons.tsx';
import { backupState, can, limitInfo, rowActions } from '../lib/backup-state.ts';
import { useServerSocket } from '../lib/use-server-socket.ts';
import { automaticDeletionNotice } from '../lib/activity-text.ts';

const RESTORING = 'restoring_backup';
/** Automatic deletions this recent are announced when the page opens. */
const RECENT_DELETION_MS = 5 * 60_000;

type DialogState =
  | { kind: 'create' }
  | { kind: 'restore'; backup: BackupAttributes }
  | { kind: 'delete'; backup: BackupAttributes }
  | { kind: 'unlock'; backup: BackupAttributes }
  | { kind: 'cancel'; backup: BackupAttributes }
  | { kind: 'cancel-restore' }
  | { kind: 'browse'; backup: BackupAttributes }
  | null;

interface ListState {
  backups: BackupAttributes[];
  backupCount: number;
  /** Bytes the successful backups take (backwing; absent from an upstream panel). */
  backupBytes?: number;
  page: number;
  totalPages: number;
}

/** "3.2 GiB of 10 GiB": the storage quota (issue 17). */
export function storageSummary(used: number, quota: number): string {
  return `${shortBytes(used)} of ${shortBytes(quota)}`;
}

export function BackupsPage({ serverId }: { serverId: string }) {
  const [server, setServer] = useState<ServerObject | null>(null);
  const [list, setList] = useState<ListState | null>(null);
  const [page, setPage] = useState(1);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [progress, setProgress] = useState<Record<string, BackupProgressPayload>>({});
  const [restore, setRestore] = useState<{ name: string | null; progress: RestoreProgressPayload | null } | null>(null);
  const [dialog, setDialog] = useState<DialogState>(null);
  const [busy, setBusy] = useState<{ uuid: string; action: RowAction } | null>(null);
  const [now, setNow] = useState(() => Date.now());
  /** The node's server control and this server's save hook (backwing); null until loaded. */
  const [control, setControl] = useState<BackupControl | null>(null);
  const listRef = useRef<ListState | null>(null);
  listRef.current = list;
  /** When we saw each restore end: a straggling progress frame must not bring the restoring view back. */
  const finishedRestores = useRef(new Map<string, number>());
  /** Backups this page cancelled: their failure is what was asked for, not news to alarm about. */
  const cancelledHere = useRef(new Set<string>());
  /** Backups deleted from this page: their disappearance needs no announcement. */
  const deletedHere = useRef(new Set<string>());

  const perms = server?.meta?.user_permissions ?? [];
  const restoring = server?.attributes.status === RESTORING;

  const loadList = useCallback(async (p: number) => {
    try {
      const res = await api.backups(serverId, p);
      const next: ListState = {
        backups: res.data.map((d) => d.attributes),
        backupCount: res.meta.backup_count,
        ...(res.meta.backup_bytes !== undefined ? { backupBytes: res.meta.backup_bytes } : {}),
        page: res.meta.pagination.current_page,
        totalPages: res.meta.pagination.total_pages,
      };
      // A completion we already saw on the socket wins over a panel that has not caught up yet.
      const prev = listRef.current;
      if (prev) {
        next.backups = next.backups.map((b) => {
          const old = prev.backups.find((o) => o.uuid === b.uuid);
          return old && old.completed_at !== null && b.completed_at === null ? old : b;
        });
        // Finishes seen by polling (no socket) are announced like the socket's.
        for (const b of next.backups) {
          const old = prev.backups.find((o) => o.uuid === b.uuid);
          if (!old || old.completed_at !== null || b.completed_at === null) continue;
          if (b.is_successful) setNotice(`${b.name} completed.`);
          else if (!cancelledHere.current.has(b.uuid)) {
            setNotice(null);
            setActionError(`${b.name} failed. It no longer counts toward the limit; delete it to tidy the list.`);
          }
        }
      }
      setList(next);
      setLoadError(null);
      // Rows that went away on their own (same page, not deleted here): say who removed them.
      if (prev && prev.page === next.page) {
        const gone = prev.backups.filter((o) => !next.backups.some((b) => b.uuid === o.uuid) && !deletedHere.current.has(o.uuid));
        if (gone.length > 0) void announceAutomaticDeletions(gone.map((b) => b.uuid));
      }
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        // Every backup route answers 409 while a restore runs; the server view shows why.
        const s = await api.server(serverId).catch(() => null);
        if (s) setServer(s);
        return;
      }
      setLoadError(errorText(err));
    }
  }, [serverId]);

  /** Activity entries already announced, so a deletion is told once. */
  const announced = useRef(new Set<string>());
  /**
   * The retention policy or a schedule's rotation removed backups: tell the user on this page —
   * rows it showed that vanished, and any such deletion of the last few minutes (it may have
   * happened before the list was first shown). The row goes before its entry is written, so look
   * a few times when rows vanished.
   */
  const announceAutomaticDeletions = useCallback(async (goneUuids: string[]) => {
    for (let attempt = 0; attempt < (goneUuids.length > 0 ? 4 : 1); attempt++) {
      let recent;
      try {
        recent = await api.activity(serverId, 1);
      } catch {
        return; // only an announcement; the list itself is already right
      }
      const fresh = recent.data.filter((e) => {
        const id = String(e.attributes.id ?? '');
        if (announced.current.has(id)) return false;
        const uuid = String(e.attributes.properties?.uuid ?? '');
        const at = Date.parse(e.attributes.timestamp ?? '');
        return goneUuids.includes(uuid) || (Number.isFinite(at) && Date.now() - at < RECENT_DELETION_MS);
      });
      const text = automaticDeletionNotice(fresh);
      if (text) {
        for (const e of fresh) announced.current.add(String(e.attributes.id ?? ''));
        return setNotice(text);
      }
      if (attempt < 3) await new Promise((r) => setTimeout(r, 1000));
    }
  }, [serverId]);

  const loadServer = useCallback(async (): Promise<ServerObject | null> => {
    try {
      const s = await api.server(serverId);
      setServer(s);
      return s;
    } catch (err) {
      setLoadError(errorText(err));
      return null;
    }
  }, [serverId]);

  useEffect(() => {
    let cancelled = false;
    setServer(null);
    setList(null);
    setLoadError(null);
    void (async () => {
      const s = await loadServer();
      if (cancelled || !s) return;
      if (s.attributes.status === RESTORING) setRestore({ name: null, progress: null });
      else if (can(s.meta?.user_permissions ?? [], 'backup.read')) {
        await loadList(page);
        void announceAutomaticDeletions([]);
      }
      if (can(s.meta?.user_permissions ?? [], 'backup.read')) {
        // Optional: an upstream-shaped panel has no such route, and the page works without it.
        api.backupControl(serverId).then((c) => { if (!cancelled) setControl(c.attributes); }, () => undefined);
      }
    })();
    return () => { cancelled = true; };
    // Only a new server starts from scratch; page changes are handled below.
  }, [serverId]);

  useEffect(() => {
    if (server && !restoring && can(perms, 'backup.read')) void loadList(page);
    // Runs for page turns only; live updates and polling reload the current page themselves.
  }, [page]);

  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 15000);
    return () => clearInterval(t);
  }, []);

  const finishRestore = useCallback(async (payload: RestoreCompletedPayload | null) => {
    let s = await loadServer();
    // The socket can beat the daemon's report to the panel; give the panel a few seconds to catch up.
    for (let i = 0; payload !== null && i < 5 && s?.attributes.status === RESTORING; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      s = await loadServer();
    }
    if (s && s.attributes.status === RESTORING) return;
    setRestore(null);
    if (payload && payload.is_successful === false) {
      // The daemon's reason says how far it got and what the files are now.
      setActionError(payload.error ? `The restore did not finish — ${payload.error}.` : "The restore did not finish. The server's files may be incomplete; restore again.");
    } else {
      setNotice('The restore finished. Your server files have been replaced by the backup.');
    }
    if (s && can(s.meta?.user_permissions ?? [], 'backup.read')) await loadList(listRef.current?.page ?? 1);
  }, [loadServer, loadList]);

  const socketStatus = useServerSocket(server ? serverId : null, {
    backupProgress: (p) => {
      setProgress((prev) => ({ ...prev, [p.uuid]: p }));
      // A backup started elsewhere (schedule, CLI) shows up without a reload.
      if (listRef.current && !listRef.current.backups.some((b) => b.uuid === p.uuid) && listRef.current.page === 1) {
        void loadList(1);
      }
    },
    backupCompleted: (p: BackupCompletedPayload) => {
      const seen = listRef.current?.backups.find((b) => b.uuid === p.uuid && b.completed_at === null);
      setList((prev) => prev && {
        ...prev,
        backups: prev.backups.map((b) => b.uuid !== p.uuid || b.completed_at !== null ? b : {
          ...b,
          is_successful: p.is_successful,
          checksum: p.is_successful ? `${p.checksum_type}:${p.checksum}` : null,
          checksum_type: p.is_successful ? p.checksum_type : null,
          bytes: p.is_successful ? p.file_size : 0,
          is_locked: p.is_successful ? b.is_locked : false,
          completed_at: new Date().toISOString(),
        }),
        // Only a row we saw running was counted; a failure frees its slot.
        backupCount: !p.is_successful && prev.backups.some((b) => b.uuid === p.uuid && b.completed_at === null)
          ? Math.max(0, prev.backupCount - 1)
          : prev.backupCount,
      });
      setProgress((prev) => {
        const { [p.uuid]: _gone, ...rest } = prev;
        return rest;
      });
      // Announce only what this page showed running (polling may have announced it already).
      if (seen && p.is_successful) setNotice(`${seen.name} completed.`);
      else if (seen && !cancelledHere.current.has(p.uuid)) {
        setNotice(null);
        setActionError(`${seen.name} failed. It no longer counts toward the limit; delete it to tidy the list.`);
      }
      // Then take the panel's exact timestamps, once it has recorded the result.
      setTimeout(() => { void loadList(listRef.current?.page ?? 1); }, 750);
      // The retention policy runs once the panel has recorded the success; look again to drop what it removed.
      if (p.is_successful) {
        for (const ms of [3000, 10000]) setTimeout(() => { void loadList(listRef.current?.page ?? 1); }, ms);
        // Pruned rows on another page (or gone before we looked) are announced too.
        setTimeout(() => { void announceAutomaticDeletions([]); }, 4000);
      }
    },
    restoreProgress: (p) => {
      if (Date.now() - (finishedRestores.current.get(p.uuid) ?? 0) < 3000) return;
      setRestore((prev) => ({
        name: prev?.name ?? listRef.current?.backups.find((b) => b.uuid === p.uuid)?.name ?? null,
        progress: p,
      }));
      // A restore started elsewhere (another user, the CLI) takes the page over as well.
      setServer((s) => s && s.attributes.status !== RESTORING ? { ...s, attributes: { ...s.attributes, status: RESTORING } } : s);
    },
    restoreCompleted: (p) => {
      if (p) finishedRestores.current.set(p.uuid, Date.now());
      void finishRestore(p);
    },
  });

  // Fallback when the socket is not live (and a slow safety net when it is): ask the panel.
  const anyRunning = list?.backups.some((b) => b.completed_at === null) ?? false;
  useEffect(() => {
    if (!restoring && !anyRunning) return;
    const every = socketStatus === 'live' ? 10000 : 3000;
    const t = setInterval(() => {
      if (restoring) void finishRestore(null);
      else void loadList(listRef.current?.page ?? 1);
    }, every);
    return () => clearInterval(t);
  }, [restoring, anyRunning, socketStatus, finishRestore, loadList]);

  const onAction = async (action: RowAction, backup: BackupAttributes) => {
    setActionError(null);
    setNotice(null);
    if (action === 'restore') return setDialog({ kind: 'restore', backup });
    if (action === 'delete') return setDialog({ kind: 'delete', backup });
    if (action === 'cancel') return setDialog({ kind: 'cancel', backup });
    if (action === 'browse') return setDialog({ kind: 'browse', backup });
    if (action === 'lock' && backup.is_locked) return setDialog({ kind: 'unlock', backup });
    setBusy({ uuid: backup.uuid, action });
    try {
      if (action === 'download') {
        const res = await api.downloadUrl(serverId, backup.uuid);
        window.location.assign(res.attributes.url);
        setNotice(`Downloading ${backup.name}…`);
      } else if (action === 'lock') {
        const res = await api.toggleLock(serverId, backup.uuid);
        replaceBackup(res.attributes);
        setNotice(`${backup.name} is locked.`);
      } else if (action === 'verify') {
        setNotice(`Reading ${backup.name} back…`);
        const res = await api.verifyBackup(serverId, backup.uuid);
        replaceBackup(res.attributes);
        // A damaged archive is bad news: said as an alert, not in the notice line's success colour.
        if (res.attributes.verification === 'good') setNotice(`${backup.name} is good.`);
        else {
          setNotice(null);
          setActionError(`${backup.name} is damaged: ${res.attributes.damage_reason ?? 'no reason given'}`);
        }
      }
    } catch (err) {
      setActionError(errorText(err));
    } finally {
      setBusy(null);
    }
  };

  const replaceBackup = (b: BackupAttributes) =>
    setList((prev) => prev && { ...prev, backups: prev.backups.map((o) => (o.uuid === b.uuid ? b : o)) });

  const limit = limitInfo(server?.attributes.feature_limits.backups ?? 0, list?.backupCount ?? 0);
  const canCreate = can(perms, 'backup.create');
  const canRead = can(perms, 'backup.read');

  const title = server ? server.attributes.name : 'Server';
  const bytesLimit = server?.attributes.feature_limits.backup_bytes ?? null;
  const summary = useMemo(() => {
    if (!list || limit.disabled) return null;
    const storage = bytesLimit !== null && list.backupBytes !== undefined ? ` · ${storageSummary(list.backupBytes, bytesLimit)}` : '';
    return `${limit.count} of ${limit.limit} backups${storage}`;
  }, [list, limit.disabled, limit.count, limit.limit, bytesLimit]);

  return (
    <section className="page" aria-labelledby="page-title">
      <Breadcrumb title={title} />
      <header className="page-header">
        <div>
          <h1 id="page-title" tabIndex={-1}>Backups</h1>
          <p className="page-sub">
            {server ? <>{server.attributes.name} <span className="muted mono">{server.attributes.identifier}</span></> : ' '}
            {server && !restoring && (
              <span className={`live live-${socketStatus}`} data-socket={socketStatus}
                title={socketStatus === 'live' ? 'Live updates from the node' : 'Live updates unavailable; refreshing every few seconds'}>
                {socketStatus === 'live' ? 'Live' : socketStatus === 'connecting' ? 'Connecting…' : 'Polling'}
              </span>
            )}
          </p>
        </div>
        {server && canCreate && canRead && !restoring && list && !limit.disabled && !limit.reached && (
          <button type="button" className="btn btn-primary" onClick={() => { setActionError(null); setDialog({ kind: 'create' }); }}>
            <PlusIcon /> Create backup
          </button>
        )}
      </header>
      {server && <ServerTabs server={serverId} current="backups" perms={perms} />}

      <ErrorAlert message={loadError} />
      <ErrorAlert message={actionError} onDismiss={() => setActionError(null)} />
      <div className="notice" role="status" aria-live="polite">{notice}</div>

      {!server && !loadError && <div className="loading"><Spinner label="Loading server" /></div>}

      {server && restoring && (
        <div className="restoring card" role="region" aria-labelledby="restoring-title" data-testid="restoring">
          <RestoreIcon />
          <div className="restoring-main">
            <h2 id="restoring-title">Restoring from backup</h2>
            <p>
              {restore?.name ? <>Your server is being restored from <strong>{restore.name}</strong>. </> : <>Your server is currently being restored from a backup. </>}
              You cannot create, download or delete backups until it finishes. This page updates by itself.
            </p>
            <ProgressBar done={restore?.progress ? progressDone(restore.progress) : 0} total={restore?.progress?.total_bytes ?? null} source={restore?.progress?.total_source} label="Restore progress" />
          </div>
          {can(perms, 'backup.restore') && (
            <button type="button" className="btn btn-small btn-secondary restoring-cancel" onClick={() => setDialog({ kind: 'cancel-restore' })}>
              <StopIcon /> Cancel restore
            </button>
          )}
        </div>
      )}

      {server && !restoring && !canRead && (
        <p className="empty card">You do not have permission to view this server's backups.</p>
      )}

      {server && !restoring && canRead && (
        <>
          {limit.disabled && (
            <p className="callout callout-info" data-testid="limit-disabled">
              Backups cannot be created for this server because the backup limit is set to 0.
            </p>
          )}
          {!limit.disabled && limit.reached && list && (
            <p className="callout callout-warn" data-testid="limit-reached">
              This server has reached its limit of {limit.limit} backup{limit.limit === 1 ? '' : 's'}.
              {can(perms, 'backup.delete') ? ' Delete an old or failed backup to create a new one.' : ' Ask someone who may delete backups to free a slot.'}
            </p>
          )}
          {!list && !loadError && <div className="loading"><Spinner label="Loading backups" /></div>}
          {list && list.backups.length === 0 && !limit.disabled && (
            <p className="empty card">
              {list.page > 1 ? "Looks like we've run out of backups to show you, try going back a page." : 'There are no backups for this server yet.'}
            </p>
          )}
          {list && list.backups.length > 0 && (
            <ul className="backups card" aria-label="Backups">
              {list.backups.map((b) => (
                <BackupRow key={b.uuid} backup={b} progress={progress[b.uuid]} now={now}
                  actions={rowActions(b, perms, restoring, anyRunning)}
                  busyAction={busy?.uuid === b.uuid ? busy.action : null}
                  onAction={(a, bk) => { void onAction(a, bk); }}
                  onBlocked={(reason) => { setActionError(null); setNotice(reason); }} />
              ))}
            </ul>
          )}
          {list && (
            <footer className="list-footer">
              {summary && <span className="count" data-testid="backup-count">{summary}</span>}
              {list.totalPages > 1 && (
                <nav className="pager" aria-label="Pages">
                  {/* aria-disabled, not disabled: a disabled button drops keyboard focus at the last page. */}
                  <button type="button" className="btn btn-small btn-secondary" aria-disabled={list.page <= 1}
                    onClick={() => { if (list.page > 1) setPage(list.page - 1); }}>Previous</button>
                  <span aria-live="polite">Page {list.page} of {list.totalPages}</span>
                  <button type="button" className="btn btn-small btn-secondary" aria-disabled={list.page >= list.totalPages}
                    onClick={() => { if (list.page < list.totalPages) setPage(list.page + 1); }}>Next</button>
                </nav>
              )}
            </footer>
          )}
          {control && <SaveHookCard server={serverId} control={control} canEdit={canCreate} canCustom={perms.includes('*')} onSaved={setControl} />}
          {can(perms, 'backup.delete') && <NotificationsCard server={serverId} />}
          <ActivityPanel server={serverId} now={now} />
        </>
      )}

      {dialog?.kind === 'create' && (
        <CreateBackupDialog server={serverId} canLock={can(perms, 'backup.delete')} onClose={() => setDialog(null)}
          onCreated={(b) => {
            setDialog(null);
            // A progress frame may have made us reload the list already; count the backup once.
            setList((prev) => prev && (prev.backups.some((o) => o.uuid === b.uuid)
              ? prev
              : { ...prev, backups: [...prev.backups, b], backupCount: prev.backupCount + 1 }));
            // A backup that fails at once can be over, and already reloaded as failed, before this
            // answer arrives: neither the socket event nor polling announced it (this page had not
            // seen it running), so say it here instead of "started".
            const known = listRef.current?.backups.find((o) => o.uuid === b.uuid);
            if (known && known.completed_at !== null && !known.is_successful) {
              setNotice(null);
              setActionError(`${known.name} failed. It no longer counts toward the limit; delete it to tidy the list.`);
            } else setNotice(`${b.name} started.`);
          }} />
      )}

      {dialog?.kind === 'restore' && (
        <RestoreDialog backup={dialog.backup} stopsServer={control?.restore_stops_server ?? null} onClose={() => setDialog(null)}
          onConfirm={async (truncate) => {
            await api.restore(serverId, dialog.backup.uuid, truncate);
            setDialog(null);
            setRestore({ name: dialog.backup.name, progress: null });
            setServer((s) => s && { ...s, attributes: { ...s.attributes, status: RESTORING } });
            setNotice(null);
          }} />
      )}

      {dialog?.kind === 'browse' && (
        <BackupBrowser server={serverId} backup={dialog.backup}
          others={list?.backups.filter((o) => o.uuid !== dialog.backup.uuid && backupState(o) === 'completed') ?? []} canRestore={can(perms, 'backup.restore') && !anyRunning}
          stopsServer={control?.restore_stops_server ?? null} onClose={() => setDialog(null)}
          onRestoreStarted={() => {
            setDialog(null);
            setRestore({ name: dialog.backup.name, progress: null });
            setServer((s) => s && { ...s, attributes: { ...s.attributes, status: RESTORING } });
            setNotice(null);
          }} />
      )}

      {dialog?.kind === 'delete' && (
        <ConfirmDialog title={`Delete "${dialog.backup.name}"`} confirmLabel="Delete backup" danger onClose={() => setDialog(null)}
          onConfirm={async () => {
            await api.deleteBackup(serverId, dialog.backup.uuid);
            const gone = dialog.backup;
            deletedHere.current.add(gone.uuid);
            setDialog(null);
            setList((prev) => prev && {
              ...prev,
              backups: prev.backups.filter((o) => o.uuid !== gone.uuid),
              backupCount: backupState(gone) === 'failed' ? prev.backupCount : Math.max(0, prev.backupCount - 1),
            });
            setNotice(`${gone.name} was deleted.`);
          }}>
          <p>This is a permanent operation. The backup cannot be recovered once deleted.</p>
        </ConfirmDialog>
      )}

      {dialog?.kind === 'cancel' && (
        <ConfirmDialog title={`Cancel "${dialog.backup.name}"`} confirmLabel="Stop backup" dismissLabel="Keep running" danger onClose={() => setDialog(null)}
          onConfirm={async () => {
            cancelledHere.current.add(dialog.backup.uuid);
            try {
              await api.cancelBackup(serverId, dialog.backup.uuid);
            } catch (err) {
              cancelledHere.current.delete(dialog.backup.uuid);
              throw err;
            }
            setDialog(null);
            setNotice(`${dialog.backup.name} was cancelled. Its partial archive was removed; it stays in the list as failed until you delete it.`);
            void loadList(listRef.current?.page ?? 1);
          }}>
          <p>The backup stops now and what it has written so far is removed. Your server's files are not touched.</p>
        </ConfirmDialog>
      )}

      {dialog?.kind === 'cancel-restore' && (
        <ConfirmDialog title="Cancel the restore" confirmLabel="Stop restore" dismissLabel="Keep restoring" danger onClose={() => setDialog(null)}
          onConfirm={async () => {
            await api.cancelRestore(serverId);
            setDialog(null);
          }}>
          <p>
            The restore stops now. Files already restored stay; the file it is writing may be left
            incomplete; the rest keep their current contents (or are missing, if the restore started by
            deleting all files). Restore again to get a complete copy of the backup.
          </p>
        </ConfirmDialog>
      )}

      {dialog?.kind === 'unlock' && (
        <ConfirmDialog title={`Unlock "${dialog.backup.name}"`} confirmLabel="Unlock" onClose={() => setDialog(null)}
          onConfirm={async () => {
            const res = await api.toggleLock(serverId, dialog.backup.uuid);
            replaceBackup(res.attributes);
            setDialog(null);
            setNotice(`${dialog.backup.name} is unlocked.`);
          }}>
          <p>This backup will no longer be protected from automated or accidental deletions.</p>
        </ConfirmDialog>
      )}
    </section>
  );
}
