import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activitySentence, isBackupActivity } from './activity-text.ts';

test('activity events read as upstream sentences', () => {
  assert.equal(activitySentence('server:backup.start', { name: 'Nightly', locked: false }), 'Started a new backup Nightly');
  assert.equal(activitySentence('server:backup.restore', { name: 'Nightly', truncate: true }), 'Restored the Nightly backup (deleted files: yes)');
  assert.equal(activitySentence('server:backup.delete', { name: 'Old' }), 'Deleted the Old backup');
  assert.equal(activitySentence('server:power.start', {}), 'server:power.start');
});

test('automatic housekeeping and schedule events have sentences too', () => {
  assert.equal(activitySentence('server:backup.retention-delete', { name: 'Middle', reason: 'policy' }), 'Deleted the Middle backup under the retention policy');
  assert.equal(activitySentence('server:schedule.failed', { name: 'Nightly', reason: 'backup limit of 3 reached' }), 'The Nightly schedule failed: backup limit of 3 reached');
  assert.equal(activitySentence('server:backup.rotate', { name: 'Old', schedule: 'Nightly' }), 'Rotated out the Old backup to make room (schedule Nightly)');
  assert.ok(isBackupActivity('server:schedule.execute'));
  assert.ok(isBackupActivity('server:backup.lock'));
  assert.ok(!isBackupActivity('server:power.start'));
});
