import type { ScheduleAttributes } from '../api/client.ts';
import { cronExpression, describeCron } from '../lib/cron-text.ts';
import { formatExact, formatRelative } from '../lib/format.ts';
import { backupTaskOf } from './schedule-dialog.tsx';
import { ClockIcon, EditIcon, PlayIcon, Spinner, TrashIcon } from './icons.tsx';

interface Props {
  schedule: ScheduleAttributes;
  now: number;
  running: boolean;
  canUpdate: boolean;
  canDelete: boolean;
  onRun: () => void;
  onEdit: () => void;
  onDelete: () => void;
}

function When({ iso, now, none }: { iso: string | null; now: number; none: string }) {
  if (iso === null) return <span className="value muted">{none}</span>;
  return <time className="value" dateTime={iso} title={formatExact(iso)}>{formatRelative(iso, now)}</time>;
}

export function ScheduleRow({ schedule: s, now, running, canUpdate, canDelete, onRun, onEdit, onDelete }: Props) {
  const task = backupTaskOf(s);
  const ignoredCount = task ? task.payload.split('\n').filter((l) => l.trim() !== '').length : 0;
  return (
    <li className="schedule" aria-label={`Schedule ${s.name}`} data-id={s.id} data-active={s.is_active ? 'true' : 'false'}>
      <div className="backup-icon" aria-hidden="true">{s.is_processing ? <Spinner /> : <ClockIcon className={s.is_active ? 'icon-active' : ''} />}</div>
      <div className="backup-main">
        <div className="backup-title">
          <span className="backup-name">{s.name}</span>
          {s.is_processing
            ? <span className="badge badge-running">Running</span>
            : s.is_active ? <span className="badge badge-active">Active</span> : <span className="badge badge-inactive">Inactive</span>}
        </div>
        <span className="schedule-cron">{describeCron(s.cron)} <code className="muted">{cronExpression(s.cron)}</code></span>
        <span className="hint">
          {task ? `Backup task${ignoredCount > 0 ? `, ${ignoredCount} ignored pattern${ignoredCount === 1 ? '' : 's'}` : ''}` : 'No backup task yet: edit the schedule to add one.'}
        </span>
      </div>
      <div className="backup-size">
        <span className="label">Next run</span>
        {s.is_active ? <When iso={s.next_run_at} now={now} none="—" /> : <span className="value muted">paused</span>}
      </div>
      <div className="backup-created">
        <span className="label">Last run</span>
        <When iso={s.last_run_at} now={now} none="never" />
      </div>
      <div className="backup-actions">
        {canUpdate && (
          <>
            <button type="button" className="btn btn-small btn-ghost" onClick={onRun} disabled={running || s.is_processing || !task}
              aria-label={`Run ${s.name} now`} title={task ? 'Run now' : 'Add a backup task first'}>
              {running ? <Spinner /> : <PlayIcon />}<span className="btn-text">Run now</span>
            </button>
            <button type="button" className="btn btn-small btn-ghost" onClick={onEdit} aria-label={`Edit ${s.name}`} title="Edit">
              <EditIcon /><span className="btn-text">Edit</span>
            </button>
          </>
        )}
        {canDelete && (
          <button type="button" className="btn btn-small btn-ghost btn-ghost-danger" onClick={onDelete} aria-label={`Delete ${s.name}`} title="Delete">
            <TrashIcon /><span className="btn-text">Delete</span>
          </button>
        )}
      </div>
    </li>
  );
}
