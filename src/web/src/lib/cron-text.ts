/** Cron fields in words, and the presets offered by the schedule dialog. The panel evaluates cron in UTC. */
import type { CronFields } from '../../../wire/schedules.ts';

export type { CronFields };

export interface CronPreset {
  label: string;
  fields: CronFields;
}

export const CRON_PRESETS: CronPreset[] = [
  { label: 'Every hour', fields: { minute: '0', hour: '*', day_of_month: '*', month: '*', day_of_week: '*' } },
  { label: 'Every 6 hours', fields: { minute: '0', hour: '*/6', day_of_month: '*', month: '*', day_of_week: '*' } },
  { label: 'Daily at 02:00', fields: { minute: '0', hour: '2', day_of_month: '*', month: '*', day_of_week: '*' } },
  { label: 'Weekly on Sunday at 03:00', fields: { minute: '0', hour: '3', day_of_month: '*', month: '*', day_of_week: '0' } },
  { label: 'Monthly on the 1st at 04:00', fields: { minute: '0', hour: '4', day_of_month: '1', month: '*', day_of_week: '*' } },
];

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const isNum = (v: string, max = 59) => /^\d{1,2}$/.test(v) && Number(v) <= max;
const any = (v: string) => v === '*' || v === '?';
const pad = (v: string) => v.padStart(2, '0');

function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : ['th', 'st', 'nd', 'rd'][n % 10] ?? 'th';
  return `${n}${s}`;
}

/** The five fields in crontab order, as a user would type them into crontab. */
export function cronExpression(c: CronFields): string {
  return [c.minute, c.hour, c.day_of_month, c.month, c.day_of_week].join(' ');
}

/**
 * Common shapes in plain words ("Every day at 02:00 UTC"); anything else falls back to the
 * expression itself, which is still exact.
 */
export function describeCron(c: CronFields): string {
  const m = c.minute.trim();
  const h = c.hour.trim();
  const dom = c.day_of_month.trim();
  const mon = c.month.trim();
  const dow = c.day_of_week.trim();
  const everyDay = any(dom) && any(mon) && any(dow);
  const step = /^\*\/(\d+)$/;
  if (everyDay && any(h)) {
    if (any(m)) return 'Every minute';
    const s = step.exec(m);
    if (s) return `Every ${s[1]} minutes`;
    if (isNum(m)) return Number(m) === 0 ? 'Every hour, on the hour' : `Every hour at minute ${Number(m)}`;
  }
  if (everyDay && isNum(m)) {
    const s = step.exec(h);
    if (s) return `Every ${s[1]} hours at minute ${Number(m)} (UTC)`;
  }
  if (!isNum(m) || !isNum(h, 23)) return `Cron ${cronExpression(c)} (UTC)`;
  const at = `at ${pad(h)}:${pad(m)} UTC`;
  if (everyDay) return `Every day ${at}`;
  if (any(dom) && any(mon) && /^[0-7]$/.test(dow)) return `Every ${DAYS[Number(dow) % 7]} ${at}`;
  if (any(dom) && any(mon) && dow === '1-5') return `Every weekday ${at}`;
  if (isNum(dom, 31) && Number(dom) >= 1 && any(mon) && any(dow)) return `Monthly on the ${ordinal(Number(dom))} ${at}`;
  return `Cron ${cronExpression(c)} (UTC)`;
}

/** Retention reasons from the panel's dry run, in words. */
export function retentionReason(reason: string): string {
  switch (reason) {
    case 'locked': return 'locked, never deleted automatically';
    case 'in-progress': return 'still running';
    case 'failed-latest': return 'newest failure, kept so you can see it';
    case 'no-policy': return 'no rule is set';
    case 'last': return 'one of the newest (keep last)';
    case 'hourly': return 'newest of its hour';
    case 'daily': return 'newest of its day';
    case 'weekly': return 'newest of its week';
    case 'monthly': return 'newest of its month';
    case 'policy': return 'not kept by any rule';
    case 'failed-superseded': return 'failed, and a newer backup succeeded';
    default: return reason;
  }
}
