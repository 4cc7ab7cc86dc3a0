import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BLOCKED, backupState, can, limitInfo, rowActions } from './backup-state.ts';

const running = { is_successful: false, completed_at: null, is_locked: false };
const done = { is_successful: true, completed_at: '2025-01-15T10:35:42+00:00', is_locked: false };
const failed = { is_successful: false, completed_at: '2025-01-15T10:35:42+00:00', is_locked: false };

test('backupState follows seed 002 "Backup Status"', () => {
  assert.equal(backupState(running), 'running');
  assert.equal(backupState(done), 'completed');
  assert.equal(backupState(failed), 'failed');
});

test('can: "*" grants everything, otherwise the exact key', () => {
  assert.equal(can(['*'], 'backup.delete'), true);
  assert.equal(can(['backup.read', 'backup.create'], 'backup.delete'), false);
  assert.equal(can(['backup.read', 'backup.delete'], 'backup.delete'), true);
});

test('rowActions hide what permissions forbid', () => {
  assert.deepEqual(rowActions(done, ['*'], false), { download: true, restore: true, lock: true, delete: true, cancel: false, verify: true, blocked: {} });
  assert.deepEqual(rowActions(done, ['backup.read', 'backup.download', 'backup.restore'], false),
    { download: true, restore: true, lock: false, delete: false, cancel: false, verify: true, blocked: {} });
  assert.deepEqual(rowActions(done, ['backup.read'], false), { download: false, restore: false, lock: false, delete: false, cancel: false, verify: true, blocked: {} });
  assert.equal(rowActions(done, ['backup.download'], false).verify, false, 'verify needs backup.read');
});

test('rowActions: running backups offer cancel (backup.delete); a restoring server nothing; failed ones only delete', () => {
  assert.deepEqual(rowActions(running, ['*'], false), { download: false, restore: false, lock: false, delete: false, cancel: true, verify: false, blocked: {} });
  assert.equal(rowActions(running, ['backup.read', 'backup.restore'], false).cancel, false);
  assert.deepEqual(rowActions(done, ['*'], true), { download: false, restore: false, lock: false, delete: false, cancel: false, verify: false, blocked: {} });
  assert.deepEqual(rowActions(failed, ['*'], false), { download: false, restore: false, lock: false, delete: true, cancel: false, verify: false, blocked: {} });
  assert.deepEqual(rowActions(failed, ['backup.read'], false), { download: false, restore: false, lock: false, delete: false, cancel: false, verify: false, blocked: {} });
});

test('rowActions: refusals are explained up front — restore while a backup runs, delete of a locked backup', () => {
  assert.deepEqual(rowActions(done, ['*'], false, true).blocked, { restore: BLOCKED.restoreWhileBackup });
  assert.deepEqual(rowActions({ ...done, is_locked: true }, ['*'], false).blocked, { delete: BLOCKED.deleteLocked });
  assert.match(BLOCKED.deleteLocked, /unlock it first/);
});

test('limitInfo: 0 disables, count >= limit is reached', () => {
  assert.deepEqual(limitInfo(0, 0), { limit: 0, count: 0, disabled: true, reached: false });
  assert.deepEqual(limitInfo(3, 2), { limit: 3, count: 2, disabled: false, reached: false });
  assert.deepEqual(limitInfo(3, 3), { limit: 3, count: 3, disabled: false, reached: true });
});
