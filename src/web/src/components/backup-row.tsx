import type { BackupAttributes } from '../api/client.ts';
import type { BackupProgressPayload } from '../../../wire/ws-events.ts';
import { backupState, type RowActions } from '../lib/backup-state.ts';
import { formatBytes, formatExact, formatRelative, progressFraction } from '../lib/format.ts';
import { ArchiveIcon, DownloadIcon, LockIcon, RestoreIcon, Spinner, TrashIcon, UnlockIcon } from './icons.tsx';

export type RowAction = 'download' | 'restore' | 'lock' | 'delete';

interface Props {
  backup: BackupAttributes;
  progress: BackupProgressPayload | undefined;
  actions: RowActions;
  busyAction: RowAction | null;
  now: number;
  onAction: (action: RowAction, backup: BackupAttributes) => void;
}

export function ProgressBar({ done, total, label }: { done: number; total: number | null; label: string }) {
  const fraction = progressFraction(done, total);
  const pct = fraction === null ? null : Math.round(fraction * 100);
  return (
    <div className="progress-wrap">
      <div className={`progress ${pct === null ? 'progress-indeterminate' : ''}`} role="progressbar" aria-label={label}
        aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct ?? undefined}
        aria-valuetext={pct === null ? `${formatBytes(done)} read` : `${pct}%`}>
        <div className="progress-fill" style={pct === null ? undefined : { width: `${pct}%` }} />
      </div>
      <span className="progress-text">
        {pct === null ? `${formatBytes(done)} read` : `${pct}% · ${formatBytes(done)} of ${formatBytes(total ?? 0)}`}
      </span>
    </div>
  );
}

/** "3 files changed while being backed up: a, b, c…": a hint that the game was writing meanwhile. */
export function ChangedFilesNote({ backup }: { backup: BackupAttributes }) {
  const c = backup.changed_files;
  if (!c || c.count === 0) return null;
  const shown = c.names.slice(0, 3);
  const more = c.count - shown.length;
  return (
    <p className="backup-changed" data-testid="changed-files" title={c.names.join('\n')}>
      {c.count} file{c.count === 1 ? '' : 's'} changed while being backed up: {shown.join(', ')}{more > 0 ? ` and ${more} more` : ''}
      {c.inconsistent ? ` (${c.inconsistent} may be inconsistent)` : ''}
    </p>
  );
}

export function BackupRow({ backup, progress, actions, busyAction, now, onAction }: Props) {
  const state = backupState(backup);
  const anyAction = actions.download || actions.restore || actions.lock || actions.delete;
  const icon = state === 'running'
    ? <Spinner />
    : backup.is_locked && state === 'completed'
      ? <LockIcon className="icon-locked" />
      : <ArchiveIcon className="icon-muted" />;

  return (
    <li className={`backup backup-${state}`} data-uuid={backup.uuid} data-state={state} data-locked={backup.is_locked ? 'true' : 'false'}
      aria-label={`Backup ${backup.name}`}>
      <div className="backup-icon" aria-hidden="true">{icon}</div>
      <div className="backup-main">
        <div className="backup-title">
          {state === 'failed' && <span className="badge badge-failed">Failed</span>}
          {state === 'running' && <span className="badge badge-running">Running</span>}
          <span className="backup-name">{backup.name}</span>
          {backup.is_locked && (
            <span className="badge badge-locked" title="Locked: protected from deletion">
              <LockIcon /> <span>Locked</span>
            </span>
          )}
        </div>
        {state === 'completed' && <ChangedFilesNote backup={backup} />}
        {state === 'running' ? (
          <ProgressBar done={progress?.bytes_read ?? 0} total={progress?.total_bytes ?? null} label={`Progress of ${backup.name}`} />
        ) : (
          <code className="backup-checksum" title={backup.checksum ?? undefined}>{backup.checksum ?? ''}</code>
        )}
      </div>
      <div className="backup-size">
        {state === 'completed' && <><span className="label">Size</span><span className="value">{formatBytes(backup.bytes)}</span></>}
      </div>
      <div className="backup-created">
        <span className="label">Created</span>
        <time className="value" dateTime={backup.created_at} title={formatExact(backup.created_at)}>
          {formatRelative(backup.created_at, now)}
        </time>
      </div>
      <div className="backup-actions">
        {anyAction && (
          <>
            {actions.download && (
              <button type="button" className="btn btn-small btn-ghost" onClick={() => onAction('download', backup)}
                disabled={busyAction !== null} aria-label={`Download ${backup.name}`} title="Download">
                {busyAction === 'download' ? <Spinner /> : <DownloadIcon />}<span className="btn-text">Download</span>
              </button>
            )}
            {actions.restore && (
              <button type="button" className="btn btn-small btn-ghost" onClick={() => onAction('restore', backup)}
                disabled={busyAction !== null} aria-label={`Restore ${backup.name}`} title="Restore">
                <RestoreIcon /><span className="btn-text">Restore</span>
              </button>
            )}
            {actions.lock && (
              <button type="button" className="btn btn-small btn-ghost" onClick={() => onAction('lock', backup)}
                disabled={busyAction !== null} aria-label={`${backup.is_locked ? 'Unlock' : 'Lock'} ${backup.name}`}
                title={backup.is_locked ? 'Unlock' : 'Lock'}>
                {busyAction === 'lock' ? <Spinner /> : backup.is_locked ? <UnlockIcon /> : <LockIcon />}
                <span className="btn-text">{backup.is_locked ? 'Unlock' : 'Lock'}</span>
              </button>
            )}
            {actions.delete && (
              <button type="button" className="btn btn-small btn-ghost btn-ghost-danger" onClick={() => onAction('delete', backup)}
                disabled={busyAction !== null} aria-label={`Delete ${backup.name}`} title="Delete">
                <TrashIcon /><span className="btn-text">Delete</span>
              </button>
            )}
          </>
        )}
      </div>
    </li>
  );
}
