import type { RetentionCandidate } from './retention-policy.ts';

/**
 * Rotation at the backup limit, for scheduled backups only (manual creation at the limit is always
 * refused). Counting follows the limit rule: in-progress and successful backups count, failed ones
 * don't. Only completed, successful, unlocked backups may be rotated out, oldest first — upstream
 * would also pick an in-progress backup, which deletes a backup that is still being written.
 *
 * Upstream removes exactly one backup and then creates even if the server stays over its limit (a
 * lowered limit). Backwing removes as many as needed to make room for exactly one more, and
 * refuses the whole run if that many cannot be rotated, so the limit holds after every run.
 */
export type RotationPlan<B> =
  | { ok: true; remove: B[] }
  | { ok: false; reason: string };

export function planRotation<B extends RetentionCandidate>(backups: readonly B[], limit: number): RotationPlan<B> {
  if (limit <= 0) return { ok: false, reason: "backups are disabled for this server (backup limit 0)" };
  const counted = backups.filter((b) => b.completed_at === null || b.is_successful);
  const excess = counted.length - limit + 1;
  if (excess <= 0) return { ok: true, remove: [] };
  const candidates = counted
    .filter((b) => b.completed_at !== null && b.is_successful && !b.is_locked)
    .sort((a, b) => new Date(a.created_at).getTime() - new Date(b.created_at).getTime() || (a.uuid < b.uuid ? -1 : 1));
  if (candidates.length < excess) {
    const locked = counted.filter((b) => b.is_locked).length;
    const running = counted.filter((b) => b.completed_at === null && !b.is_locked).length;
    return {
      ok: false,
      reason: `backup limit of ${limit} reached and no backup can be rotated: ${counted.length} counted backups, ${locked} locked, ${running} in progress` +
        (excess > 1 ? ` (${excess} would have to go)` : ''),
    };
  }
  return { ok: true, remove: candidates.slice(0, excess) };
}
