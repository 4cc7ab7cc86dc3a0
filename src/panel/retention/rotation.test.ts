import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planRotation } from './rotation.ts';
import type { RetentionCandidate } from './retention-policy.ts';

const b = (uuid: string, day: number, o: Partial<RetentionCandidate> = {}): RetentionCandidate => {
  const at = `2026-03-${String(day).padStart(2, '0')}T00:00:00Z`;
  return { uuid, created_at: at, completed_at: at, is_successful: true, is_locked: false, ...o };
};

describe('rotation at the limit', () => {
  it('below the limit removes nothing', () => {
    assert.deepEqual(planRotation([b('a', 1)], 2), { ok: true, remove: [] });
  });

  it('removes the oldest unlocked successful backup, skipping locked, failed and in-progress ones', () => {
    const backups = [
      b('locked-oldest', 1, { is_locked: true }),
      b('failed', 2, { is_successful: false }),
      b('running', 3, { completed_at: null, is_successful: false }),
      b('victim', 4),
      b('newer', 5),
    ];
    // Counted: locked-oldest, running, victim, newer = 4 (the failed one does not count).
    const plan = planRotation(backups, 4);
    assert.ok(plan.ok);
    assert.deepEqual(plan.remove.map((x) => x.uuid), ['victim']);
  });

  it('makes room for exactly one more when the server is over a lowered limit', () => {
    const plan = planRotation([b('a', 1), b('b', 2), b('c', 3), b('d', 4)], 2);
    assert.ok(plan.ok);
    assert.deepEqual(plan.remove.map((x) => x.uuid), ['a', 'b', 'c']);
  });

  it('fails with a reason when nothing can be rotated', () => {
    const plan = planRotation([b('l1', 1, { is_locked: true }), b('r', 2, { completed_at: null, is_successful: false }), b('f', 3, { is_successful: false })], 2);
    assert.equal(plan.ok, false);
    assert.match(!plan.ok ? plan.reason : '', /limit of 2 reached.*1 locked, 1 in progress/);
  });

  it('limit 0 always fails', () => {
    const plan = planRotation([], 0);
    assert.equal(plan.ok, false);
  });
});
