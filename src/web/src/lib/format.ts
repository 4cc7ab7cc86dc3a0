/** Display helpers. Pure functions so they can be unit-tested without a browser. */

const UNITS = ['Bytes', 'KiB', 'MiB', 'GiB', 'TiB'] as const;

/** 1024-based size with two decimals, as the upstream panel shows it ("1.50 MiB"). */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes <= 0) return '0 Bytes';
  let i = 0;
  let value = bytes;
  while (value >= 1024 && i < UNITS.length - 1) {
    value /= 1024;
    i += 1;
  }
  return i === 0 ? `${bytes} Bytes` : `${value.toFixed(2)} ${UNITS[i]}`;
}

const STEPS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['second', 60],
  ['minute', 60],
  ['hour', 24],
  ['day', 30],
  ['month', 12],
  ['year', Number.POSITIVE_INFINITY],
];

/** "5 seconds ago", "3 minutes ago"… relative to `now`. */
export function formatRelative(iso: string, now: number = Date.now(), locale = 'en'): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  const delta = Math.round((then - now) / 1000);
  // Clocks of browser and panel drift a little; a backup is never "in 2 seconds".
  if (delta > -5 && delta < 60) return 'just now';
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'always' });
  let value: number = delta;
  for (const [unit, size] of STEPS) {
    if (Math.abs(value) < size) return rtf.format(value, unit);
    value = Math.round(value / size);
  }
  return rtf.format(value, 'year');
}

/** The exact timestamp for the hover title, in the viewer's time zone with the offset spelled out. */
export function formatExact(iso: string, locale?: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(locale, {
    year: 'numeric', month: 'long', day: 'numeric',
    hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short',
  });
}

/** Fraction 0..1 of a running job, or null when the total is not known yet. */
export function progressFraction(done: number, total: number | null): number | null {
  if (total === null || !Number.isFinite(total) || total <= 0) return null;
  return Math.min(1, Math.max(0, done / total));
}

/** Splits the textarea the way the panel will: one pattern per line, blank lines dropped. */
export function normaliseIgnored(text: string): string | null {
  const lines = text.split(/\r?\n/).map((l) => l.trimEnd()).filter((l) => l.trim() !== '');
  return lines.length === 0 ? null : lines.join('\n');
}
