/**
 * Laravel-style validation for schedule, task and retention bodies: rules run in upstream's order,
 * one entry per failing field (its first failing rule), with upstream's English messages, so that
 * clients matching on `meta.rule` / `meta.source_field` (panel-backups.md §7 case 12) keep working.
 */
import { AppError } from '../../core/app-error.ts';
import { MAX_TIME_OFFSET_SECONDS, TASK_ACTIONS, type TaskAction } from '../../wire/schedules.ts';
import { CRON_FIELD_NAMES, validateCronFields, type CronFields } from '../scheduler/cron.ts';
import { RETENTION_RULES, type RetentionPolicy } from '../retention/retention-policy.ts';

export interface FieldError {
  field: string;
  rule: string;
  detail: string;
}

/**
 * A 422 carrying every failed field. `meta` holds the first one (the shape a single-error handler
 * renders) and `meta.errors` all of them, for a handler that renders one entry per failure.
 */
export function validationError(errors: FieldError[]): AppError {
  const first = errors[0]!;
  return new AppError('ValidationException', 422, first.detail, {
    meta: { source_field: first.field, rule: first.rule, errors: errors.map((e) => ({ detail: e.detail, meta: { source_field: e.field, rule: e.rule } })) },
  });
}

const label = (field: string) => field.replaceAll('_', ' ');
type Body = Record<string, unknown>;

/** Laravel's TrimStrings + ConvertEmptyStringsToNull middleware. */
function input(body: Body, field: string): unknown {
  const v = body[field];
  if (typeof v === 'string') {
    const t = v.trim();
    return t === '' ? null : t;
  }
  return v;
}
const present = (v: unknown) => v !== undefined && v !== null;

function asBoolean(v: unknown): boolean | undefined {
  if (v === true || v === 1 || v === '1' || v === 'true') return true;
  if (v === false || v === 0 || v === '0' || v === 'false') return false;
  return undefined;
}
function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  return undefined;
}

export interface ScheduleInput {
  name: string;
  cron: CronFields;
  is_active: boolean | undefined;
  only_when_online: boolean | undefined;
}

export function validateScheduleBody(raw: unknown): ScheduleInput {
  const body = (raw && typeof raw === 'object' ? raw : {}) as Body;
  const errors: FieldError[] = [];
  const str = (field: string, max?: number): string => {
    const v = input(body, field);
    if (!present(v)) errors.push({ field, rule: 'required', detail: `The ${label(field)} field is required.` });
    else if (typeof v !== 'string') errors.push({ field, rule: 'string', detail: `The ${label(field)} field must be a string.` });
    else if (max !== undefined && v.length > max) errors.push({ field, rule: 'max', detail: `The ${label(field)} field must not be greater than ${max} characters.` });
    else return v;
    return '';
  };
  const bool = (field: string): boolean | undefined => {
    const v = body[field];
    if (v === undefined) return undefined;
    const b = asBoolean(v);
    // Laravel's `filled`: present but empty fails too.
    if (b === undefined) errors.push({ field, rule: v === null || v === '' ? 'filled' : 'boolean', detail: v === null || v === '' ? `The ${label(field)} field must have a value.` : `The ${label(field)} field must be true or false.` });
    return b;
  };
  const name = str('name', 255);
  const is_active = bool('is_active');
  const only_when_online = bool('only_when_online');
  // Each cron field is stored in a varchar(191).
  const cron = Object.fromEntries(CRON_FIELD_NAMES.map((f) => [f, str(f, 191)])) as unknown as CronFields;
  if (errors.length > 0) throw validationError(errors);
  const cronErrors = validateCronFields(cron);
  if (cronErrors.length > 0) {
    throw validationError(cronErrors.map((e) => ({ field: e.field, rule: 'cron', detail: e.message })));
  }
  return { name, cron, is_active, only_when_online };
}

export interface TaskInput {
  action: TaskAction;
  payload: string;
  time_offset: number;
  sequence_id: number | undefined;
  continue_on_failure: boolean | undefined;
}

export function validateTaskBody(raw: unknown): TaskInput {
  const body = (raw && typeof raw === 'object' ? raw : {}) as Body;
  const errors: FieldError[] = [];

  const action = input(body, 'action');
  if (!present(action)) errors.push({ field: 'action', rule: 'required', detail: 'The action field is required.' });
  else if (typeof action !== 'string' || !(TASK_ACTIONS as readonly string[]).includes(action)) errors.push({ field: 'action', rule: 'in', detail: 'The selected action is invalid.' });

  // Payloads keep their inner newlines; only the ends are trimmed (Laravel's TrimStrings).
  const payload = input(body, 'payload');
  if (!present(payload) && action !== 'backup') {
    errors.push({ field: 'payload', rule: 'required_unless', detail: 'The payload field is required unless action is in backup.' });
  } else if (present(payload) && typeof payload !== 'string') {
    errors.push({ field: 'payload', rule: 'string', detail: 'The payload field must be a string.' });
  }

  const numeric = (field: string, required: boolean, min: number, max?: number): number | undefined => {
    if (!(field in body)) {
      if (required) errors.push({ field, rule: 'required', detail: `The ${label(field)} field is required.` });
      return undefined;
    }
    const v = input(body, field);
    if (!present(v)) {
      errors.push({ field, rule: 'required', detail: `The ${label(field)} field is required.` });
      return undefined;
    }
    const n = asNumber(v);
    if (n === undefined) errors.push({ field, rule: 'numeric', detail: `The ${label(field)} field must be a number.` });
    else if (n < min) errors.push({ field, rule: 'min', detail: `The ${label(field)} field must be at least ${min}.` });
    else if (max !== undefined && n > max) errors.push({ field, rule: 'max', detail: `The ${label(field)} field must not be greater than ${max}.` });
    else if (!Number.isInteger(n)) errors.push({ field, rule: 'integer', detail: `The ${label(field)} field must be an integer.` });
    else return n;
    return undefined;
  };
  const time_offset = numeric('time_offset', true, 0, MAX_TIME_OFFSET_SECONDS);
  // The column is a 32-bit integer on PostgreSQL; past it the insert would fail with a 500.
  const sequence_id = numeric('sequence_id', false, 1, 2_147_483_647);

  let continue_on_failure: boolean | undefined;
  if ('continue_on_failure' in body) {
    continue_on_failure = asBoolean(body.continue_on_failure);
    if (continue_on_failure === undefined) errors.push({ field: 'continue_on_failure', rule: 'boolean', detail: 'The continue on failure field must be true or false.' });
  }

  if (errors.length > 0) throw validationError(errors);
  // Backwing manages no game process: a command or power task could never do anything, and a
  // schedule that silently does nothing is worse than a clear refusal.
  if (action !== 'backup') {
    throw validationError([{ field: 'action', rule: 'in', detail: `The ${action as string} action is not supported by backwing: only backup tasks can be scheduled.` }]);
  }
  return { action: 'backup', payload: (payload as string | null) ?? '', time_offset: time_offset!, sequence_id, continue_on_failure };
}

/** Body of PUT .../backups/retention (and of the preview): every rule null or an integer 0–1000. */
export function validateRetentionBody(raw: unknown, fallback?: RetentionPolicy): RetentionPolicy {
  const body = (raw && typeof raw === 'object' ? raw : {}) as Body;
  const errors: FieldError[] = [];
  const out = {} as RetentionPolicy;
  for (const rule of RETENTION_RULES) {
    if (!(rule in body)) {
      out[rule] = fallback ? fallback[rule] : null;
      continue;
    }
    const v = input(body, rule);
    if (!present(v)) {
      out[rule] = null;
      continue;
    }
    const n = asNumber(v);
    if (n === undefined || !Number.isInteger(n)) errors.push({ field: rule, rule: 'integer', detail: `The ${label(rule)} field must be an integer.` });
    else if (n < 0) errors.push({ field: rule, rule: 'min', detail: `The ${label(rule)} field must be at least 0.` });
    else if (n > 1000) errors.push({ field: rule, rule: 'max', detail: `The ${label(rule)} field must not be greater than 1000.` });
    else out[rule] = n;
  }
  if (errors.length > 0) throw validationError(errors);
  return out;
}
