/**
 * Limits on values taken from URLs before they reach SQL. PostgreSQL ids are `serial` (int4): a
 * larger number there is an error, not "no row", so it must become a 404 here.
 */
export const MAX_DB_ID = 2_147_483_647;

/** Beyond this page the offset is meaningless (and would overflow); the page is simply empty. */
export const MAX_PAGE = 1_000_000_000;

/** A database id written as decimal digits, or undefined when it cannot name a row. */
export function dbIdOf(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d{1,10}$/.test(v)) return undefined;
  const n = Number(v);
  return n >= 1 && n <= MAX_DB_ID ? n : undefined;
}

/** Path of the first string holding a NUL character (PostgreSQL text cannot store one), or undefined. */
export function nulPath(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path || 'body' : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = nulPath(value[i], path ? `${path}.${i}` : String(i));
      if (p) return p;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const p = k.includes('\u0000') ? (path ? `${path}.${k}` : k) : nulPath(v, path ? `${path}.${k}` : k);
      if (p) return p;
    }
  }
  return undefined;
}
