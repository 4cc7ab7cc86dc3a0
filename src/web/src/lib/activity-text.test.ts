import { test } from 'node:test';
import assert from 'node:assert/strict';
import { activitySentence } from './activity-text.ts';

test('activity events read as upstream sentences', () => {
  assert.equal(activitySentence('server:backup.start', { name: 'Nightly', locked: false }), 'Started a new backup Nightly');
  assert.equal(activitySentence('server:backup.restore', { name: 'Nightly', truncate: true }), 'Restored the Nightly backup (deleted files: yes)');
  assert.equal(activitySentence('server:backup.delete', { name: 'Old' }), 'Deleted the Old backup');
  assert.equal(activitySentence('server:power.start', {}), 'server:power.start');
});
