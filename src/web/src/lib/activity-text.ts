/** Upstream's English activity sentences (panel-backups.md §2.9) for the backup events. */
const TEXT: Record<string, string> = {
  'server:backup.start': 'Started a new backup :name',
  'server:backup.complete': 'Marked the :name backup as complete',
  'server:backup.fail': 'Marked the :name backup as failed',
  'server:backup.lock': 'Locked the :name backup',
  'server:backup.unlock': 'Unlocked the :name backup',
  'server:backup.download': 'Downloaded the :name backup',
  'server:backup.restore': 'Restored the :name backup (deleted files: :truncate)',
  'server:backup.restore-complete': 'Completed restoration of the :name backup',
  'server:backup.restore-failed': 'Failed to complete restoration of the :name backup',
  'server:backup.delete': 'Deleted the :name backup',
  // backwing's automatic housekeeping and schedules (no upstream wording exists for these).
  'server:backup.rotate': 'Rotated out the :name backup to make room (schedule :schedule)',
  'server:backup.retention-delete': 'Deleted the :name backup under the retention policy',
  'server:backup.retention-failed': 'Could not delete the :name backup under the retention policy: :reason',
  'server:backup.retention-update': 'Updated the retention policy',
  'server:backup.save-hook': 'Set the save hook to :preset',
  'server:schedule.create': 'Created the :name schedule',
  'server:schedule.update': 'Updated the :name schedule',
  'server:schedule.delete': 'Deleted the :name schedule',
  'server:schedule.execute': 'Ran the :name schedule',
  'server:schedule.failed': 'The :name schedule failed: :reason',
};

/** Events the "Recent backup activity" section lists: backups, and the schedules that make them. */
export function isBackupActivity(event: string): boolean {
  return event.startsWith('server:backup') || event.startsWith('server:schedule');
}

export function activitySentence(event: string, properties: Record<string, unknown> | undefined): string {
  const template = TEXT[event];
  if (!template) return event;
  const props = properties ?? {};
  return template.replace(/:(\w+)/g, (_, key: string) => {
    const v = props[key];
    if (typeof v === 'boolean') return v ? 'yes' : 'no';
    if (v === null && key === 'preset') return "the node's default";
    return v === undefined || v === null ? '' : String(v);
  }).replace(/\s+/g, ' ').trim();
}
