/**
 * Activity entries as sentences a person reads: the backup's name quoted (never "the My backup
 * backup"), the reason when there is one, and who did it — a user, a user through an API key,
 * a schedule, the retention policy, or the node/system itself.
 */
type Props = Record<string, unknown>;

const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v : null);
const q = (v: unknown, unnamed = 'a backup'): string => (str(v) ? `"${String(v)}"` : unnamed);
const why = (p: Props): string => (str(p.reason) ? `: ${String(p.reason)}` : '');

const SENTENCES: Record<string, (p: Props) => string> = {
  'server:backup.start': (p) => `Started backup ${q(p.name)}${p.locked === true ? ' (locked)' : ''}`,
  'server:backup.complete': (p) => `Backup ${q(p.name)} completed`,
  'server:backup.fail': (p) => `Backup ${q(p.name)} failed${why(p)}`,
  'server:backup.cancel': (p) => `Cancelled backup ${q(p.name)}`,
  'server:backup.lock': (p) => `Locked backup ${q(p.name)}`,
  'server:backup.unlock': (p) => `Unlocked backup ${q(p.name)}`,
  'server:backup.download': (p) => `Downloaded backup ${q(p.name)}`,
  'server:backup.restore': (p) => `Started restoring backup ${q(p.name)}${p.truncate === true ? ', deleting all files first' : ''}`,
  'server:backup.restore-complete': (p) => `Restored backup ${q(p.name)}`,
  'server:backup.restore-failed': (p) => `Restoring ${str(p.name) ? `backup ${q(p.name)}` : 'a backup'} did not finish${why(p)}`,
  'server:backup.restore-cancel': (p) => `Cancelled the restore${str(p.name) ? ` of backup ${q(p.name)}` : ''}`,
  'server:backup.delete': (p) => `Deleted ${p.failed === true ? 'failed ' : ''}backup ${q(p.name)}`,
  'server:backup.rotate': (p) => `Deleted backup ${q(p.name)} to make room for the next one`,
  'server:backup.retention-delete': (p) => `Deleted backup ${q(p.name)} under the retention policy${str(p.reason) ? ` (${String(p.reason)})` : ''}`,
  'server:backup.retention-failed': (p) => `Could not delete backup ${q(p.name)} under the retention policy${why(p)}`,
  'server:backup.retention-update': () => 'Updated the retention policy',
  'server:backup.save-hook': (p) => `Set the save hook to ${str(p.preset) ? `"${String(p.preset)}"` : "the node's default"}`,
  'server:schedule.create': (p) => `Created schedule ${q(p.name, 'a schedule')}`,
  'server:schedule.update': (p) => `Updated schedule ${q(p.name, 'a schedule')}`,
  'server:schedule.delete': (p) => `Deleted schedule ${q(p.name, 'a schedule')}`,
  'server:schedule.execute': (p) => `Ran schedule ${q(p.name, 'a schedule')}${p.manual === true ? ' now' : ''}`,
  'server:schedule.failed': (p) => `Schedule ${q(p.name, 'a schedule')} failed${why(p)}`,
};

/** Events the "Backup activity" section lists: backups, and the schedules that make them. */
export function isBackupActivity(event: string): boolean {
  return event.startsWith('server:backup') || event.startsWith('server:schedule');
}

export function activitySentence(event: string, properties: Props | undefined): string {
  const sentence = SENTENCES[event];
  return sentence ? `${sentence(properties ?? {})}.` : event;
}

export interface ActivityActorInput {
  event: string;
  is_api?: boolean;
  actor?: { email?: string; username?: string } | null;
  properties?: Props;
}

/** Who did it, in words: "alice@example.com", "alice@example.com (API key)", "Schedule "Nightly"", … */
export function activityActor(e: ActivityActorInput): string {
  const user = e.actor ? str(e.actor.username) ?? str(e.actor.email) : null;
  if (user) return e.is_api ? `${user} (API key)` : user;
  const p = e.properties ?? {};
  if (e.event === 'server:backup.rotate' || e.event.startsWith('server:schedule.')) {
    const schedule = str(p.schedule) ?? (e.event.startsWith('server:schedule.') ? str(p.name) : null);
    return schedule ? `Schedule "${schedule}"` : 'A schedule';
  }
  if (e.event.startsWith('server:backup.retention')) return 'Retention policy';
  if (e.is_api) return 'API key';
  // Completion, failure and restore outcomes are reported by the node running the server.
  return 'System';
}

interface DeletionEntry {
  attributes: { event: string; properties?: Props };
}

/**
 * "The retention policy deleted "A" and "B"." for the retention and rotation entries among
 * `entries` (the caller picks which); null when there are none.
 */
export function automaticDeletionNotice(entries: readonly DeletionEntry[]): string | null {
  const names = (event: string) => entries.filter((e) => e.attributes.event === event).map((e) => q(e.attributes.properties?.name));
  const list = (n: string[]) => (n.length <= 1 ? n.join('') : `${n.slice(0, -1).join(', ')} and ${n.at(-1)}`);
  const parts: string[] = [];
  const retention = names('server:backup.retention-delete');
  if (retention.length > 0) parts.push(`The retention policy deleted ${list(retention)}.`);
  const rotated = names('server:backup.rotate');
  if (rotated.length > 0) parts.push(`A schedule deleted ${list(rotated)} to make room for a new backup.`);
  return parts.length > 0 ? parts.join(' ') : null;
}
