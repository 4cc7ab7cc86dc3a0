/**
 * The retention engine: a pure function deciding which backups a server keeps, in the spirit of
 * `restic forget --keep-*`. No I/O: the preview (dry run) and the real run call the same function,
 * so what the preview shows is exactly what a real run would delete.
 *
 * Decisions (documented in the README section):
 * - Only completed, successful, UNLOCKED backups fill the keep_* slots. Locked backups are always
 *   kept and do not use a slot: a lock is the user saying "this one is outside the rotation", so
 *   locking a milestone must not push a regular daily backup out.
 * - In-progress backups are ignored: kept, never counted, never removed.
 * - Failed backups never fill a slot. Unlocked failed backups OLDER than the newest successful
 *   backup are removed (a newer success supersedes them); a failure newer than every success is
 *   kept so the user can still see what went wrong.
 * - A policy with every rule null or 0 is "no policy": nothing is removed, not even failures.
 * - Buckets are UTC: hour, day, ISO-8601 week (Monday start, ISO week-year), calendar month. The
 *   newest backup of a bucket represents it; a rule keeps the N newest buckets that hold a backup.
 */

export interface RetentionPolicy {
  keep_last: number | null;
  keep_hourly: number | null;
  keep_daily: number | null;
  keep_weekly: number | null;
  keep_monthly: number | null;
}

export const RETENTION_RULES = ['keep_last', 'keep_hourly', 'keep_daily', 'keep_weekly', 'keep_monthly'] as const;
export type RetentionRule = (typeof RETENTION_RULES)[number];

export const EMPTY_POLICY: RetentionPolicy = { keep_last: null, keep_hourly: null, keep_daily: null, keep_weekly: null, keep_monthly: null };

export interface RetentionCandidate {
  uuid: string;
  created_at: Date | string;
  completed_at: Date | string | null;
  is_successful: boolean;
  is_locked: boolean;
}

export type KeepReason = 'locked' | 'in-progress' | 'failed-latest' | 'no-policy' | 'last' | 'hourly' | 'daily' | 'weekly' | 'monthly';
export type RemoveReason = 'policy' | 'failed-superseded';

export interface RetentionDecision<B extends RetentionCandidate> {
  keep: Array<{ backup: B; reasons: KeepReason[] }>;
  remove: Array<{ backup: B; reason: RemoveReason }>;
}

export function isEmptyPolicy(p: RetentionPolicy): boolean {
  return RETENTION_RULES.every((r) => !p[r]);
}

const ms = (d: Date | string) => new Date(d).getTime();
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function hourBucket(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}`;
}
export function dayBucket(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
}
export function monthBucket(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}`;
}
/** ISO-8601 week, e.g. "2026-W01"; the week-year differs from the calendar year around New Year. */
export function isoWeekBucket(d: Date): string {
  const thursday = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  // The Thursday of a Monday-to-Sunday week decides its ISO week-year.
  thursday.setUTCDate(thursday.getUTCDate() + 4 - (thursday.getUTCDay() || 7));
  const yearStart = Date.UTC(thursday.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((thursday.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${thursday.getUTCFullYear()}-W${pad(week)}`;
}

const BUCKETS: Array<{ rule: RetentionRule; reason: KeepReason; key: (d: Date, i: number) => string }> = [
  { rule: 'keep_last', reason: 'last', key: (_d, i) => String(i) },
  { rule: 'keep_hourly', reason: 'hourly', key: hourBucket },
  { rule: 'keep_daily', reason: 'daily', key: dayBucket },
  { rule: 'keep_weekly', reason: 'weekly', key: isoWeekBucket },
  { rule: 'keep_monthly', reason: 'monthly', key: monthBucket },
];

/** Newest first; equal timestamps break on uuid so the result never depends on input order. */
function newestFirst<B extends RetentionCandidate>(a: B, b: B): number {
  return ms(b.created_at) - ms(a.created_at) || (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0);
}

export function applyRetention<B extends RetentionCandidate>(backups: readonly B[], policy: RetentionPolicy): RetentionDecision<B> {
  const sorted = [...backups].sort(newestFirst);
  const reasons = new Map<B, KeepReason[]>();
  const remove: RetentionDecision<B>['remove'] = [];
  const keepWith = (b: B, r: KeepReason) => {
    const list = reasons.get(b) ?? [];
    list.push(r);
    reasons.set(b, list);
  };

  if (isEmptyPolicy(policy)) {
    for (const b of sorted) keepWith(b, 'no-policy');
    return { keep: sorted.map((b) => ({ backup: b, reasons: reasons.get(b)! })), remove };
  }

  const eligible = sorted.filter((b) => b.completed_at !== null && b.is_successful && !b.is_locked);
  for (const { rule, reason, key } of BUCKETS) {
    const limit = policy[rule] ?? 0;
    if (limit <= 0) continue;
    let lastKey: string | null = null;
    let kept = 0;
    eligible.forEach((b, i) => {
      if (kept >= limit) return;
      const k = key(new Date(b.created_at), i);
      if (k === lastKey) return;
      lastKey = k;
      kept++;
      keepWith(b, reason);
    });
  }

  const newestSuccess = sorted.find((b) => b.completed_at !== null && b.is_successful);
  for (const b of sorted) {
    if (b.is_locked) keepWith(b, 'locked');
    else if (b.completed_at === null) keepWith(b, 'in-progress');
    else if (!b.is_successful) {
      if (newestSuccess && ms(b.created_at) < ms(newestSuccess.created_at)) remove.push({ backup: b, reason: 'failed-superseded' });
      else keepWith(b, 'failed-latest');
    } else if (!reasons.has(b)) remove.push({ backup: b, reason: 'policy' });
  }
  return {
    keep: sorted.filter((b) => reasons.has(b)).map((b) => ({ backup: b, reasons: reasons.get(b)! })),
    remove,
  };
}
