import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isDue, nextRunAfter, nextRunAfterFiring, validateCronFields, type CronFields } from './cron.ts';
import { ManualClock } from './clock.ts';

const daily2am: CronFields = { minute: '0', hour: '2', day_of_month: '*', month: '*', day_of_week: '*' };
const iso = (d: Date) => d.toISOString();

describe('cron fields', () => {
  it('computes the next run strictly after the given instant, in UTC', () => {
    assert.equal(iso(nextRunAfter(daily2am, new Date('2026-03-01T01:59:59Z'))), '2026-03-01T02:00:00.000Z');
    assert.equal(iso(nextRunAfter(daily2am, new Date('2026-03-01T02:00:00Z'))), '2026-03-02T02:00:00.000Z');
  });

  it('accepts steps, ranges, lists, names and ? for the day fields', () => {
    const f: CronFields = { minute: '*/15', hour: '8-10', day_of_month: '?', month: 'JAN,FEB', day_of_week: 'MON-FRI' };
    assert.deepEqual(validateCronFields(f), []);
    // 2026-01-03 is a Saturday: the next weekday slot is Monday the 5th at 08:00.
    assert.equal(iso(nextRunAfter(f, new Date('2026-01-03T12:00:00Z'))), '2026-01-05T08:00:00.000Z');
  });

  it('combines day of month and day of week with OR, like Vixie cron', () => {
    const f: CronFields = { minute: '0', hour: '0', day_of_month: '15', month: '*', day_of_week: '1' };
    // After Jan 3 2026 (Sat): Monday Jan 5 comes before the 15th.
    assert.equal(iso(nextRunAfter(f, new Date('2026-01-03T00:00:00Z'))), '2026-01-05T00:00:00.000Z');
  });

  it('names the invalid field, in field order', () => {
    const errs = validateCronFields({ minute: '61', hour: '2', day_of_month: '*', month: 'hodor', day_of_week: '*' });
    assert.deepEqual(errs.map((e) => e.field), ['minute', 'month']);
    assert.match(errs[0]!.message, /minute/);
  });

  it('refuses a field containing spaces (it would shift the other fields)', () => {
    const errs = validateCronFields({ ...daily2am, hour: '1 2' });
    assert.deepEqual(errs.map((e) => e.field), ['hour']);
  });

  it('refuses an expression that parses but never fires', () => {
    const errs = validateCronFields({ minute: '0', hour: '0', day_of_month: '30', month: '2', day_of_week: '*' });
    assert.deepEqual(errs.map((e) => e.field), ['cron']);
    assert.throws(() => nextRunAfter({ minute: '0', hour: '0', day_of_month: '31', month: '4', day_of_week: '*' }, new Date()));
  });
});

describe('catch-up after downtime', () => {
  it('fires once and moves next_run_at to the first occurrence after now, not the next missed one', () => {
    const clock = new ManualClock('2026-03-01T02:00:00Z');
    let nextRunAt = new Date('2026-03-01T02:00:00Z');
    let fired = 0;
    const tick = () => {
      if (!isDue(nextRunAt, clock.now())) return;
      fired++;
      nextRunAt = nextRunAfterFiring(daily2am, nextRunAt, clock.now());
    };
    // The panel is down for ten days: ten occurrences are missed.
    clock.set('2026-03-11T09:30:00Z');
    tick();
    tick();
    tick();
    assert.equal(fired, 1);
    assert.equal(iso(nextRunAt), '2026-03-12T02:00:00.000Z');
    clock.set('2026-03-12T02:00:00Z');
    tick();
    assert.equal(fired, 2);
    assert.equal(iso(nextRunAt), '2026-03-13T02:00:00.000Z');
  });

  it('is not due before its time and is due exactly at it', () => {
    const at = new Date('2026-03-01T02:00:00Z');
    assert.equal(isDue(at, new Date('2026-03-01T01:59:59.999Z')), false);
    assert.equal(isDue(at, at), true);
    assert.equal(isDue(null, at), false);
  });
});
