import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressLine } from './progress.ts';

test('without a total the line says what was read, never a fake 100%', () => {
  assert.equal(progressLine(109 * 1024 * 1024, null, null), '109 MiB read');
});

test('with a total: percentage, bytes of total and the time left with its basis', () => {
  assert.equal(progressLine(50 * 1024 * 1024, 200 * 1024 * 1024, 'about 3 min left (estimated from a scan of the files)'),
    '25% 50 MiB/200 MiB about 3 min left (estimated from a scan of the files)');
  assert.equal(progressLine(0, 200 * 1024 * 1024, null), '0% 0 B/200 MiB');
  assert.equal(progressLine(300, 200, null), '100% 300 B/200 B');
});
