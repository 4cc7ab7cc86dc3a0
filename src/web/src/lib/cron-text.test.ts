import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CRON_PRESETS, cronExpression, describeCron, retentionReason } from './cron-text.ts';

const c = (minute: string, hour: string, day_of_month = '*', month = '*', day_of_week = '*') =>
  ({ minute, hour, day_of_month, month, day_of_week });

test('common schedules read as words, in UTC', () => {
  assert.equal(describeCron(c('0', '2')), 'Every day at 02:00 UTC');
  assert.equal(describeCron(c('30', '14', '*', '*', '5')), 'Every Friday at 14:30 UTC');
  assert.equal(describeCron(c('0', '4', '1')), 'Monthly on the 1st at 04:00 UTC');
  assert.equal(describeCron(c('0', '4', '22')), 'Monthly on the 22nd at 04:00 UTC');
  assert.equal(describeCron(c('0', '*')), 'Every hour, on the hour');
  assert.equal(describeCron(c('*/15', '*')), 'Every 15 minutes');
  assert.equal(describeCron(c('0', '*/6')), 'Every 6 hours at minute 0 (UTC)');
  assert.equal(describeCron(c('0', '9', '*', '*', '1-5')), 'Every weekday at 09:00 UTC');
});

test('anything unusual falls back to the exact expression', () => {
  assert.equal(describeCron(c('5', '1,13', '*', '6', '*')), 'Cron 5 1,13 * 6 * (UTC)');
  assert.equal(describeCron(c('75', '2')), 'Cron 75 2 * * * (UTC)', 'out of range is not dressed up as a time');
  assert.equal(describeCron(c('0', '24')), 'Cron 0 24 * * * (UTC)');
  assert.equal(cronExpression(c('0', '2')), '0 2 * * *');
});

test('every preset has a description that is not the fallback', () => {
  for (const p of CRON_PRESETS) assert.doesNotMatch(describeCron(p.fields), /^Cron /, p.label);
});

test('retention reasons have words; unknown ones pass through', () => {
  assert.match(retentionReason('locked'), /never deleted/);
  assert.equal(retentionReason('something-new'), 'something-new');
});
