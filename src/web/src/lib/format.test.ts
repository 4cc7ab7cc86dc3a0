import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatExact, formatRelative, normaliseIgnored, progressFraction } from './format.ts';

test('formatBytes is 1024-based with two decimals', () => {
  assert.equal(formatBytes(0), '0 Bytes');
  assert.equal(formatBytes(512), '512 Bytes');
  assert.equal(formatBytes(1024), '1.00 KiB');
  assert.equal(formatBytes(1536), '1.50 KiB');
  assert.equal(formatBytes(456789012), '435.63 MiB');
  assert.equal(formatBytes(5 * 1024 ** 3), '5.00 GiB');
  assert.equal(formatBytes(3 * 1024 ** 4), '3.00 TiB');
  assert.equal(formatBytes(2 * 1024 ** 5), '2048.00 TiB');
});

test('formatRelative says how long ago, never "in a few seconds" for small clock skew', () => {
  const now = Date.parse('2025-01-15T10:35:42Z');
  assert.equal(formatRelative('2025-01-15T10:35:30+00:00', now), '12 seconds ago');
  assert.equal(formatRelative('2025-01-15T10:30:00+00:00', now), '6 minutes ago');
  assert.equal(formatRelative('2025-01-15T07:35:42+00:00', now), '3 hours ago');
  assert.equal(formatRelative('2025-01-13T10:35:42+00:00', now), '2 days ago');
  assert.equal(formatRelative('2025-01-15T10:35:45+00:00', now), 'just now');
  assert.equal(formatRelative('2025-01-15T10:35:40+00:00', now), 'just now');
  assert.equal(formatRelative('not a date', now), 'not a date');
});

test('formatExact carries the full date and time', () => {
  const text = formatExact('2025-01-15T10:30:00+00:00', 'en-GB');
  assert.match(text, /2025/);
  assert.match(text, /January/);
  assert.match(text, /\d{2}:\d{2}:\d{2}/);
});

test('progressFraction clamps and reports unknown totals as null', () => {
  assert.equal(progressFraction(50, 200), 0.25);
  assert.equal(progressFraction(300, 200), 1);
  assert.equal(progressFraction(5, null), null);
  assert.equal(progressFraction(5, 0), null);
});

test('normaliseIgnored keeps one pattern per line and drops blanks and CRs', () => {
  assert.equal(normaliseIgnored('*.log\r\n\ncache/\n  \nnode_modules/  '), '*.log\ncache/\nnode_modules/');
  assert.equal(normaliseIgnored('\n \n'), null);
  assert.equal(normaliseIgnored('0'), '0');
});
