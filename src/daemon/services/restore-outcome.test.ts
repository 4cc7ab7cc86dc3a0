import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeRestoreFailure, partialRestoreNote } from './restore-outcome.ts';

test('a restore stopped part-way says how far it got and what the files are now', () => {
  assert.equal(describeRestoreFailure('cancelled', { filesDone: 120, bytesRead: 35, archiveSize: 100, truncated: false }),
    'cancelled: it stopped after 120 entries (about 35% of the archive); those were restored, the file it was writing may be incomplete, the others are as they were; restore again to get the whole backup');
  assert.match(partialRestoreNote({ filesDone: 3, bytesRead: 10, archiveSize: null, truncated: true }), /^it stopped after 3 entries; the server's files had been deleted first/);
  assert.match(partialRestoreNote({ filesDone: 0, bytesRead: 0, archiveSize: 10, truncated: false }), /nothing was restored/);
  assert.match(partialRestoreNote({ filesDone: 0, bytesRead: 0, archiveSize: 10, truncated: true }), /already been deleted/);
  // Never "100%" for a restore that did not finish.
  assert.match(partialRestoreNote({ filesDone: 9, bytesRead: 100, archiveSize: 100, truncated: false }), /about 99%/);
});
