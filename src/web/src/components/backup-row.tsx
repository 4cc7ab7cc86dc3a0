import type { BackupAttributes } from '../api/client.ts';
import { useRef } from 'react';
import type { BackupProgressPayload, TotalSource } from '../../../wire/ws-events.ts';
import { RateMeter, describeTimeLeft } from '../../../core/eta.ts';
import { backupState, failureReason, type RowActions } from '../lib/backup-state.ts';
import { formatBytes, formatExact, formatRelative, progressFraction } from '../lib/format.ts';
import { ResticSize } from './restic-size.tsx';
import { VerificationNote } from './verification-note.tsx';
import { IgnoreDefaultsNote } from './node-defaults.tsx';
import { ArchiveIcon, CheckIcon, DownloadIcon, FolderIcon, LockIcon, RestoreIcon, Spinner, StopIcon, TrashIcon, UnlockIcon } from './icons.tsx';

export type RowAction = 'download' | 'restore' | 'lock' | 'delete' | 'cancel' | 'browse' | 'verify';

interface Props {
  backup: BackupAttributes;
  progress: BackupProgressPayload | undefined;
  actions: RowActions;
  busyAction: RowAction | null;
  now: number;
  onAction: (action: RowAction, backup: BackupAttributes) => void;
  /** A blocked button was pressed: show why instead of trying. */
  onBlocked: (reason: string) => void;
}

export function ProgressBar({ done, total, source, label }: { done: number; total: number | null; source?: TotalSource; label: string }) {
  const fraction = progressFraction(done, total);
  const pct = fraction === null ? null : Math.floor(fraction * 100);
  const timeLeft = useTimeLeft(done, total, source);
  return (
    <div className="progress-wrap">
      <div className={`progress ${pct === null ? 'progress-indeterminate' : ''}`} role="progressbar" aria-label={label}
        aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct ?? undefined}
        aria-valuetext={pct === null ? `${formatBytes(done)} read` : `${pct}%`}>
        <div className="progress-fill" style={pct === null ? undefined : { width: `${pct}%` }} />
      </div>
      <span className="progress-text">
        {pct === null ? `${formatBytes(done)} read` : `${pct}% · ${formatBytes(done)} of ${formatBytes(total ?? 0)}`}
        {timeLeft && <span className="progress-eta" data-testid="eta"> · {timeLeft}</span>}
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

/** "about 3 min left (estimated from …)" from the values this bar has shown, or null while unknown. */
function useTimeLeft(done: number, total: number | null, source: TotalSource | undefined): string | null {
  const meter = useRef<{ m: RateMeter; last: number } | null>(null);
  if (meter.current === null) meter.current = { m: new RateMeter(), last: -1 };
  // Render runs for every new frame; only a new value is a sample.
  if (done !== meter.current.last) {
    meter.current.m.push(done, Date.now());
    meter.current.last = done;
  }
  return total === null ? null : describeTimeLeft(meter.current.m.secondsLeft(total), source);
}

export function BackupRow({ backup, progress, actions, busyAction, now, onAction, onBlocked }: Props) {
  const state = backupState(backup);
  const anyAction = actions.download || actions.restore || actions.lock || actions.delete || actions.cancel || actions.verify;
  const icon = state === 'running'
    ? <Spinner />
    : backup.is_locked && state === 'completed'
      ? <LockIcon className="icon-locked" />
      : <ArchiveIcon className="icon-muted" />;

  // A blocked button stays focusable (aria-disabled, not disabled) and names its reason, so keyboard
  // and screen-reader users learn it before pressing; pressing it shows the reason, nothing else.
  const reasonId = `why-${backup.uuid}`;
  const blockedReasons = Object.entries(actions.blocked).filter((e): e is [string, string] => typeof e[1] === 'string');
  const blockable = (action: 'restore' | 'delete', reason: string | undefined) => reason
    ? { 'aria-disabled': true, 'aria-describedby': `${reasonId}-${action}`, 'data-blocked': reason, onClick: () => onBlocked(reason) }
    : { onClick: () => onAction(action, backup) };
  const failure = state === 'failed' ? failureReason(backup) : null;

  return (
    <li className={`backup backup-${state}`} data-uuid={backup.uuid} data-state={state} data-locked={backup.is_locked ? 'true' : 'false'}
      aria-label={`Backup ${backup.name}`}>
      <div className="backup-icon" aria-hidden="true">{icon}</div>
      <div className="backup-main">
        <div className="backup-title">
          {state === 'failed' && <span className="badge badge-failed">Failed</span>}
          {state === 'running' && <span className="badge badge-running">Running</span>}
          {state === 'completed' && backup.verification === 'damaged' && <span className="badge badge-failed" data-testid="damaged">Damaged</span>}
          <span className="backup-name">{backup.name}</span>
          {backup.is_locked && (
            <span className="badge badge-locked" title="Locked: protected from deletion">
              <LockIcon /> <span>Locked</span>
            </span>
          )}
          {(backup.copies ?? 0) > 0 && (
            <span className="badge badge-copies" title={`Stored at ${backup.destination ?? 'its destination'} and ${backup.copies} verified cop${backup.copies === 1 ? 'y' : 'ies'} elsewhere`}>
              {(backup.copies ?? 0) + 1} copies
            </span>
          )}
        </div>
        {state === 'completed' && <ChangedFilesNote backup={backup} />}
        {state === 'completed' && <VerificationNote backup={backup} now={now} />}
        {state === 'running' ? (
          <ProgressBar done={progress?.bytes_read ?? 0} total={progress?.total_bytes ?? null} source={progress?.total_source} label={`Progress of ${backup.name}`} />
        ) : state === 'failed' ? (
          <p className="backup-failure" data-testid="failure-reason">{failure ? `Why: ${failure}` : 'The node did not say why.'}</p>
        ) : (
          <code className="backup-checksum" title={backup.checksum ?? undefined}>{backup.checksum ?? ''}</code>
        )}
        {(backup.ignored_files.length > 0 || (backup.ignore_defaults?.length ?? 0) > 0 || (backup.ignore_egg_defaults?.length ?? 0) > 0) && (
          <p className="backup-ignored" data-testid="ignored-patterns">
            Left out: {backup.ignored_files.map((p, i) => <span key={i}>{i > 0 && ', '}<code>{p}</code></span>)}
            <IgnoreDefaultsNote patterns={backup.ignore_defaults ?? []} first={backup.ignored_files.length === 0} />
            <IgnoreDefaultsNote patterns={backup.ignore_egg_defaults ?? []} first={backup.ignored_files.length === 0 && (backup.ignore_defaults?.length ?? 0) === 0} source="egg" />
            <span className="muted"> (and the server's .pteroignore)</span>
          </p>
        )}
      </div>
      <div className="backup-size">
        {state === 'completed' && <><span className="label">Size</span><span className="value">{formatBytes(backup.bytes)}</span></>}
        {state === 'completed' && <ResticSize backup={backup} />}
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
            {actions.cancel && (
              <button type="button" className="btn btn-small btn-ghost btn-ghost-danger" onClick={() => onAction('cancel', backup)}
                disabled={busyAction !== null} aria-label={`Cancel ${backup.name}`} title="Stop this backup">
                <StopIcon /><span className="btn-text">Cancel</span>
              </button>
            )}
            {actions.download && (
              <button type="button" className="btn btn-small btn-ghost" onClick={() => onAction('download', backup)}
                disabled={busyAction !== null} aria-label={`Download ${backup.name}`} title="Download">
                {busyAction === 'download' ? <Spinner /> : <DownloadIcon />}<span className="btn-text">Download</span>
              </button>
            )}
            {actions.download && (
              <button type="button" className="btn btn-small btn-ghost" onClick={() => onAction('browse', backup)}
                disabled={busyAction !== null} aria-label={`Browse files of ${backup.name}`} title="Browse files">
                <FolderIcon /><span className="btn-text">Browse</span>
              </button>
            )}
            {actions.verify && (
              <button type="button" className="btn btn-small btn-ghost" onClick={() => onAction('verify', backup)}
                disabled={busyAction !== null} aria-label={`Verify ${backup.name}`} title="Read the archive back and check it">
                {busyAction === 'verify' ? <Spinner /> : <CheckIcon />}<span className="btn-text">Verify</span>
              </button>
            )}
            {actions.restore && (
              <button type="button" className="btn btn-small btn-ghost" {...blockable('restore', actions.blocked.restore)}
                disabled={busyAction !== null} aria-label={`Restore ${backup.name}`} title={actions.blocked.restore ?? 'Restore'}>
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
              <button type="button" className="btn btn-small btn-ghost btn-ghost-danger" {...blockable('delete', actions.blocked.delete)}
                disabled={busyAction !== null} aria-label={`Delete ${backup.name}`} title={actions.blocked.delete ?? 'Delete'}>
                <TrashIcon /><span className="btn-text">Delete</span>
              </button>
            )}
          </>
        )}
        {blockedReasons.map(([key, reason]) => <span key={key} id={`${reasonId}-${key}`} className="sr-only">{reason}</span>)}
      </div>
    </li>
  );
}
