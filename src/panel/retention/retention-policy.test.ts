import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyRetention, isoWeekBucket, EMPTY_POLICY, type RetentionCandidate, type RetentionPolicy } from './retention-policy.ts';

type B = RetentionCandidate;
const ok = (uuid: string, at: string, extra: Partial<B> = {}): B => ({ uuid, created_at: at, completed_at: at, is_successful: true, is_locked: false, ...extra });
const failed = (uuid: string, at: string, extra: Partial<B> = {}): B => ok(uuid, at, { is_successful: false, ...extra });
const running = (uuid: string, at: string): B => ({ uuid, created_at: at, completed_at: null, is_successful: false, is_locked: false });
const policy = (p: Partial<RetentionPolicy>): RetentionPolicy => ({ ...EMPTY_POLICY, ...p });
const kept = (d: ReturnType<typeof applyRetention<B>>) => d.keep.map((k) => k.backup.uuid).sort();
const removed = (d: ReturnType<typeof applyRetention<B>>) => d.remove.map((r) => r.backup.uuid).sort();

/** One successful backup per day at 02:00 UTC, day 1..n of March 2026, uuids d01..dNN. */
function dailyMarch(n: number): B[] {
  return Array.from({ length: n }, (_, i) => ok(`d${String(i + 1).padStart(2, '0')}`, `2026-03-${String(i + 1).padStart(2, '0')}T02:00:00Z`));
}

describe('retention engine', () => {
  it('an empty policy removes nothing, not even failures', () => {
    const d = applyRetention([...dailyMarch(5), failed('f', '2026-03-01T01:00:00Z')], EMPTY_POLICY);
    assert.deepEqual(d.remove, []);
    assert.equal(d.keep.length, 6);
    assert.deepEqual(applyRetention(dailyMarch(3), policy({ keep_last: 0, keep_daily: 0 })).remove, []);
  });

  it('keep_last keeps the N newest', () => {
    const d = applyRetention(dailyMarch(10), policy({ keep_last: 3 }));
    assert.deepEqual(kept(d), ['d08', 'd09', 'd10']);
    assert.equal(d.remove.length, 7);
    assert.ok(d.remove.every((r) => r.reason === 'policy'));
  });

  it('keep_daily keeps the newest backup of each of the N newest days', () => {
    const backups = [ok('a1', '2026-03-01T01:00:00Z'), ok('a2', '2026-03-01T23:00:00Z'), ok('b1', '2026-03-02T05:00:00Z'), ok('c1', '2026-03-03T05:00:00Z')];
    const d = applyRetention(backups, policy({ keep_daily: 2 }));
    assert.deepEqual(kept(d), ['b1', 'c1']);
    assert.deepEqual(removed(d), ['a1', 'a2']);
    const all = applyRetention(backups, policy({ keep_daily: 10 }));
    assert.deepEqual(kept(all), ['a2', 'b1', 'c1']);
  });

  it('keep_hourly buckets by UTC hour', () => {
    const backups = [ok('h1a', '2026-03-01T10:05:00Z'), ok('h1b', '2026-03-01T10:55:00Z'), ok('h2', '2026-03-01T11:00:00Z')];
    assert.deepEqual(kept(applyRetention(backups, policy({ keep_hourly: 5 }))), ['h1b', 'h2']);
  });

  it('keep_weekly uses ISO weeks and keep_monthly calendar months', () => {
    assert.equal(isoWeekBucket(new Date('2026-01-01T00:00:00Z')), '2026-W01');
    assert.equal(isoWeekBucket(new Date('2027-01-01T00:00:00Z')), '2026-W53');
    assert.equal(isoWeekBucket(new Date('2024-12-30T00:00:00Z')), '2025-W01');
    assert.equal(isoWeekBucket(new Date('2026-03-08T23:59:59Z')), '2026-W10'); // Sunday ends week 10
    assert.equal(isoWeekBucket(new Date('2026-03-09T00:00:00Z')), '2026-W11');
    // March 2026: Sundays are the 1st, 8th, 15th, 22nd, 29th; each closes an ISO week.
    const d = applyRetention(dailyMarch(31), policy({ keep_weekly: 3 }));
    assert.deepEqual(kept(d), ['d22', 'd29', 'd31']);
    const feb = ok('feb', '2026-02-27T02:00:00Z');
    const m = applyRetention([feb, ...dailyMarch(31)], policy({ keep_monthly: 2 }));
    assert.deepEqual(kept(m), ['d31', 'feb']);
  });

  it('rules combine: a backup kept by several rules lists every reason', () => {
    const d = applyRetention(dailyMarch(31), policy({ keep_last: 2, keep_daily: 7, keep_weekly: 4, keep_monthly: 2 }));
    // Weekly picks d31 (W14), d29 (W13), d22 (W12), d15 (W11); daily covers d25..d31.
    assert.deepEqual(kept(d), ['d15', 'd22', 'd25', 'd26', 'd27', 'd28', 'd29', 'd30', 'd31']);
    const newest = d.keep.find((k) => k.backup.uuid === 'd31')!;
    assert.deepEqual(newest.reasons, ['last', 'daily', 'weekly', 'monthly']);
  });

  it('locked backups are never removed and do not use a slot', () => {
    const backups = dailyMarch(5).map((b) => (b.uuid === 'd05' || b.uuid === 'd01' ? { ...b, is_locked: true } : b));
    const d = applyRetention(backups, policy({ keep_last: 2 }));
    // d05 is locked so the two slots go to d04 and d03; d01 stays because it is locked.
    assert.deepEqual(kept(d), ['d01', 'd03', 'd04', 'd05']);
    assert.deepEqual(removed(d), ['d02']);
    assert.deepEqual(d.keep.find((k) => k.backup.uuid === 'd01')!.reasons, ['locked']);
  });

  it('in-progress backups are ignored: kept, never counted', () => {
    const d = applyRetention([...dailyMarch(3), running('r', '2026-03-04T02:00:00Z')], policy({ keep_last: 1 }));
    assert.deepEqual(kept(d), ['d03', 'r']);
    assert.deepEqual(d.keep.find((k) => k.backup.uuid === 'r')!.reasons, ['in-progress']);
  });

  it('failed backups never fill a slot; those older than the newest success go, newer ones stay', () => {
    const backups = [failed('f-old', '2026-03-01T12:00:00Z'), ...dailyMarch(3), failed('f-new', '2026-03-04T02:00:00Z'), failed('f-locked', '2026-03-01T13:00:00Z', { is_locked: true })];
    const d = applyRetention(backups, policy({ keep_last: 5 }));
    assert.deepEqual(removed(d), ['f-old']);
    assert.equal(d.remove[0]!.reason, 'failed-superseded');
    assert.deepEqual(kept(d), ['d01', 'd02', 'd03', 'f-locked', 'f-new']);
    // Without any success nothing supersedes the failures.
    assert.deepEqual(applyRetention([failed('x', '2026-03-01T00:00:00Z')], policy({ keep_last: 1 })).remove, []);
  });

  it('does not depend on input order', () => {
    const backups = dailyMarch(12);
    const p = policy({ keep_last: 2, keep_weekly: 2 });
    assert.deepEqual(kept(applyRetention(backups, p)), kept(applyRetention([...backups].reverse(), p)));
  });
});
