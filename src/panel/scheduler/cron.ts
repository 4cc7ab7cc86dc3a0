import { Cron } from 'croner';
import type { CronFields } from '../../wire/schedules.ts';

export type { CronFields };

/** Pattern order (minute hour dom month dow) — also the order validation errors are reported in. */
export const CRON_FIELD_NAMES = ['minute', 'hour', 'day_of_month', 'month', 'day_of_week'] as const;
export type CronFieldName = (typeof CRON_FIELD_NAMES)[number];

export interface CronFieldError {
  field: CronFieldName | 'cron';
  message: string;
}

/**
 * Upstream evaluates cron in the panel's timezone, which defaults to UTC; backwing always uses UTC
 * so that next_run_at does not depend on the host's TZ. Day-of-month and day-of-week combine with
 * OR when both are restricted, as in Vixie cron and upstream's cron library.
 */
const CRON_OPTIONS = { mode: '5-part', timezone: 'UTC', domAndDow: false, paused: true } as const;

function normalise(value: string): string {
  // `?` means "any" for the day fields in the cron dialect upstream accepts; croner would instead
  // substitute the current time, which makes the result depend on when the pattern was parsed.
  return value.trim().replaceAll('?', '*');
}

function patternOf(f: CronFields): string {
  return CRON_FIELD_NAMES.map((n) => normalise(f[n])).join(' ');
}

/**
 * Checks every field on its own (so the error names the field) and then the whole expression (a
 * pattern such as "30 February" parses but never fires). Returns no errors when valid.
 */
export function validateCronFields(f: CronFields): CronFieldError[] {
  const errors: CronFieldError[] = [];
  for (const name of CRON_FIELD_NAMES) {
    const raw = f[name];
    const value = normalise(raw);
    if (value === '' || /\s/.test(value)) {
      errors.push({ field: name, message: `The ${name.replaceAll('_', ' ')} field must be a single cron field.` });
      continue;
    }
    const probe = CRON_FIELD_NAMES.map((n) => (n === name ? value : '*')).join(' ');
    try {
      new Cron(probe, CRON_OPTIONS).stop();
    } catch (err) {
      errors.push({ field: name, message: `The ${name.replaceAll('_', ' ')} field is not a valid cron value (${(err as Error).message.replace(/^CronPattern: /, '')}).` });
    }
  }
  if (errors.length > 0) return errors;
  const probe = new Date(Date.UTC(2000, 0, 1));
  if (nextRunAfterOrNull(f, probe) === null) {
    errors.push({ field: 'cron', message: 'The cron data provided does not evaluate to a valid expression.' });
  }
  return errors;
}

function nextRunAfterOrNull(f: CronFields, after: Date): Date | null {
  const job = new Cron(patternOf(f), CRON_OPTIONS);
  try {
    return job.nextRun(after) ?? null;
  } finally {
    job.stop();
  }
}

/** The first occurrence strictly after `after`. Throws for a pattern that never fires. */
export function nextRunAfter(f: CronFields, after: Date): Date {
  const next = nextRunAfterOrNull(f, after);
  if (next === null) throw new Error(`cron pattern "${patternOf(f)}" never fires`);
  return next;
}

/**
 * Catch-up rule: a schedule whose next_run_at lies in the past (the panel was down) fires once,
 * and its next run moves to the first occurrence after NOW — never to the next missed one, which
 * would make the scheduler fire a burst of stale runs back to back.
 */
export function nextRunAfterFiring(f: CronFields, due: Date, now: Date): Date {
  return nextRunAfter(f, due.getTime() > now.getTime() ? due : now);
}

export function isDue(nextRunAt: Date | null, now: Date): boolean {
  return nextRunAt !== null && nextRunAt.getTime() <= now.getTime();
}
