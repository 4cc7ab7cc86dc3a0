/**
 * "When can I try again?" from a `Retry-After` header (seconds or an HTTP date), in words the web
 * UI and the CLI both append to a throttle refusal.
 */
export function parseRetryAfter(header: string | null | undefined, now: number): number | null {
  if (!header) return null;
  const t = header.trim();
  if (/^\d+$/.test(t)) return Number(t);
  const at = Date.parse(t);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/** "You can try again in 7 minutes." / "… in 40 seconds." / "… in 2 hours 5 minutes." */
export function tryAgainSentence(seconds: number): string {
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  let when: string;
  if (seconds < 60) when = plural(Math.max(1, Math.ceil(seconds)), 'second');
  else if (seconds < 3600) when = plural(Math.ceil(seconds / 60), 'minute');
  else {
    const minutes = Math.ceil(seconds / 60);
    const h = Math.floor(minutes / 60);
    const m = minutes % 60;
    when = m === 0 ? plural(h, 'hour') : `${plural(h, 'hour')} ${plural(m, 'minute')}`;
  }
  return `You can try again in ${when}.`;
}
