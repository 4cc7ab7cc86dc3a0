import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressDone } from './ws-events.ts';

test('progressDone: bytes written against an index total (selected paths), bytes read otherwise', () => {
  assert.equal(progressDone({ bytes_read: 10, bytes_written: 40, total_source: 'index' }), 40);
  assert.equal(progressDone({ bytes_read: 10, bytes_written: 40, total_source: 'archive' }), 10);
  assert.equal(progressDone({ bytes_read: 10, bytes_written: 40, total_source: 'scan' }), 10);
  assert.equal(progressDone({ bytes_read: 10, bytes_written: 40 }), 10);
});
