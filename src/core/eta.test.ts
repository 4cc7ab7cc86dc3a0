import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateMeter, describeTimeLeft, formatTimeLeft } from './eta.ts';

test('rate over the window; no estimate before 1.5 s of samples or without a total', () => {
  const m = new RateMeter();
  m.push(0, 0);
  m.push(1000, 1000);
  assert.equal(m.rate(), null);
  assert.equal(m.secondsLeft(10_000), null);
  m.push(2000, 2000);
  assert.equal(m.rate(), 1000);
  assert.equal(m.secondsLeft(10_000), 8);
  assert.equal(m.secondsLeft(null), null);
});

test('old samples leave the window, so the rate follows the current speed', () => {
  const m = new RateMeter();
  m.push(0, 0);
  m.push(100, 1000); // slow start: 100 B/s
  for (let t = 2000; t <= 40_000; t += 1000) m.push(100 + (t - 1000) * 10, t); // then 10 kB/s
  assert.equal(m.rate(), 10_000);
});

test('a stalled job and a value going backwards give no estimate instead of a wrong one', () => {
  const m = new RateMeter();
  m.push(500, 0);
  m.push(500, 2000);
  assert.equal(m.secondsLeft(1000), null);
  m.push(10, 3000);
  assert.equal(m.rate(), null);
});

test('phrases', () => {
  assert.equal(formatTimeLeft(3), 'a few seconds left');
  assert.equal(formatTimeLeft(42), 'about 40 s left');
  assert.equal(formatTimeLeft(170), 'about 3 min left');
  assert.equal(formatTimeLeft(3600), 'about 1 h left');
  assert.equal(formatTimeLeft(4800), 'about 1 h 20 min left');
  assert.equal(describeTimeLeft(170, 'previous'), 'about 3 min left (estimated from the previous backup)');
  assert.equal(describeTimeLeft(170, 'scan'), 'about 3 min left (estimated from a scan of the files)');
  assert.equal(describeTimeLeft(170, 'archive'), 'about 3 min left');
  assert.equal(describeTimeLeft(null, 'scan'), null);
});
