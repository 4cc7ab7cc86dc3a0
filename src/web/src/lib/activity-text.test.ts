import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activityActor, activitySentence, automaticDeletionNotice, isBackupActivity } from './activity-text.ts';

test('sentences quote the name instead of "the X backup backup", and carry reasons', () => {
  assert.equal(activitySentence('server:backup.complete', { name: 'UI big backup' }), 'Backup "UI big backup" completed.');
  assert.equal(activitySentence('server:backup.start', { name: 'Nightly', locked: true }), 'Started backup "Nightly" (locked).');
  assert.equal(activitySentence('server:backup.fail', { name: 'Nightly', reason: 'disk full' }), 'Backup "Nightly" failed: disk full.');
  assert.equal(activitySentence('server:backup.fail', { name: 'Nightly' }), 'Backup "Nightly" failed.');
  assert.equal(activitySentence('server:backup.restore', { name: 'Nightly', truncate: true }), 'Started restoring backup "Nightly", deleting all files first.');
  assert.equal(activitySentence('server:backup.restore-failed', { name: 'Nightly', reason: 'cancelled: it stopped after 3 entries' }),
    'Restoring backup "Nightly" did not finish: cancelled: it stopped after 3 entries.');
  assert.equal(activitySentence('server:backup.restore-failed', { reason: 'daemon restarted' }), 'Restoring a backup did not finish: daemon restarted.');
  assert.equal(activitySentence('server:backup.cancel', { name: 'Big' }), 'Cancelled backup "Big".');
  assert.equal(activitySentence('server:backup.delete', { name: 'Old', failed: true }), 'Deleted failed backup "Old".');
  assert.equal(activitySentence('server:backup.retention-delete', { name: 'Middle', reason: 'older than 7 days' }), 'Deleted backup "Middle" under the retention policy (older than 7 days).');
  assert.equal(activitySentence('server:schedule.execute', { name: 'Nightly', manual: true }), 'Ran schedule "Nightly" now.');
  assert.equal(activitySentence('server:power.start', {}), 'server:power.start');
});

test('the actor: user, user through an API key, schedule, retention, system', () => {
  const alice = { email: 'alice@example.com', username: 'alice' };
  assert.equal(activityActor({ event: 'server:backup.lock', actor: alice, is_api: false }), 'alice');
  assert.equal(activityActor({ event: 'server:backup.lock', actor: alice, is_api: true }), 'alice (API key)');
  assert.equal(activityActor({ event: 'server:backup.rotate', actor: null, properties: { schedule: 'Nightly' } }), 'Schedule "Nightly"');
  assert.equal(activityActor({ event: 'server:schedule.execute', actor: null, properties: { name: 'Hourly' } }), 'Schedule "Hourly"');
  assert.equal(activityActor({ event: 'server:backup.retention-delete', actor: null }), 'Retention policy');
  assert.equal(activityActor({ event: 'server:backup.complete', actor: null }), 'System');
});

test('which events the backup activity lists', () => {
  assert.ok(isBackupActivity('server:schedule.execute'));
  assert.ok(isBackupActivity('server:backup.lock'));
  assert.ok(!isBackupActivity('server:power.start'));
});

test('backups that vanished from the list are announced with who removed them', () => {
  const e = (event: string, name: string, uuid: string) => ({ attributes: { event, properties: { name, uuid } } });
  const entries = [e('server:backup.retention-delete', 'Middle', 'u1'), e('server:backup.retention-delete', 'Newest', 'u2'), e('server:backup.rotate', 'Oldest', 'u3'), e('server:backup.retention-delete', 'Other', 'u9')];
  assert.equal(automaticDeletionNotice(entries.slice(0, 2)), 'The retention policy deleted "Middle" and "Newest".');
  assert.equal(automaticDeletionNotice(entries.slice(2, 3)), 'A schedule deleted "Oldest" to make room for a new backup.');
  assert.equal(automaticDeletionNotice([{ attributes: { event: 'server:backup.lock', properties: { name: 'x' } } }]), null);
});
