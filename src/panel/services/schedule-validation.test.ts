import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isAppError } from '../../core/app-error.ts';
import { validateRetentionBody, validateScheduleBody, validateTaskBody } from './schedule-validation.ts';

function fieldsOf(fn: () => unknown): Array<[string, string]> {
  try {
    fn();
  } catch (err) {
    assert.ok(isAppError(err));
    assert.equal(err.status, 422);
    assert.equal(err.code, 'ValidationException');
    return (err.meta!.errors as Array<{ meta: { source_field: string; rule: string } }>).map((e) => [e.meta.source_field, e.meta.rule]);
  }
  assert.fail('expected a validation error');
}

const cron = { minute: '*/5', hour: '*', day_of_month: '*', month: '*', day_of_week: '*' };

describe('schedule body', () => {
  it('trims, and turns empty strings into missing values like Laravel', () => {
    assert.deepEqual(fieldsOf(() => validateScheduleBody({ ...cron, name: '   ' })), [['name', 'required']]);
    const ok = validateScheduleBody({ ...cron, name: ' n ', is_active: '0', only_when_online: 1 });
    assert.equal(ok.name, 'n');
    assert.equal(ok.is_active, false);
    assert.equal(ok.only_when_online, true);
  });

  it('absent flags stay undefined (the service decides the default)', () => {
    const ok = validateScheduleBody({ ...cron, name: 'n' });
    assert.equal(ok.is_active, undefined);
  });

  it('rejects non-boolean flags, over-long names and non-string cron fields', () => {
    assert.deepEqual(fieldsOf(() => validateScheduleBody({ ...cron, name: 'x'.repeat(256), is_active: 'yes', hour: 5 })), [
      ['name', 'max'], ['is_active', 'boolean'], ['hour', 'string'],
    ]);
  });

  it('a body that is not an object is "everything missing"', () => {
    assert.equal(fieldsOf(() => validateScheduleBody(null)).length, 6);
  });
});

describe('task body', () => {
  it('backup tasks may omit the payload, which becomes an empty ignore list', () => {
    const t = validateTaskBody({ action: 'backup', time_offset: '15' });
    assert.deepEqual(t, { action: 'backup', payload: '', time_offset: 15, sequence_id: undefined, continue_on_failure: undefined });
  });

  it('keeps inner newlines of the payload', () => {
    assert.equal(validateTaskBody({ action: 'backup', payload: '  a\nb/  ', time_offset: 0 }).payload, 'a\nb/');
  });

  it('numeric rules: numeric, min, max, integer', () => {
    assert.deepEqual(fieldsOf(() => validateTaskBody({ action: 'backup', time_offset: -1, sequence_id: 0 })), [['time_offset', 'min'], ['sequence_id', 'min']]);
    assert.deepEqual(fieldsOf(() => validateTaskBody({ action: 'backup', time_offset: 1.5 })), [['time_offset', 'integer']]);
    assert.deepEqual(fieldsOf(() => validateTaskBody({ action: 'backup', time_offset: 0, continue_on_failure: 'maybe' })), [['continue_on_failure', 'boolean']]);
  });
});

describe('retention body', () => {
  it('absent rules are off for PUT, and fall back to the saved policy for a preview', () => {
    assert.deepEqual(validateRetentionBody({ keep_daily: '7' }), { keep_last: null, keep_hourly: null, keep_daily: 7, keep_weekly: null, keep_monthly: null });
    const saved = { keep_last: 3, keep_hourly: null, keep_daily: 7, keep_weekly: null, keep_monthly: null };
    assert.deepEqual(validateRetentionBody({ keep_daily: null }, saved), { ...saved, keep_daily: null });
  });

  it('refuses negatives, fractions and absurd counts', () => {
    assert.deepEqual(fieldsOf(() => validateRetentionBody({ keep_last: -1, keep_hourly: 2.5, keep_monthly: 5000 })), [['keep_last', 'min'], ['keep_hourly', 'integer'], ['keep_monthly', 'max']]);
  });
});
