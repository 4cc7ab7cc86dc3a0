const CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The canonical lowercase form of a UUID, or null. Uppercase hex is accepted and normalised (as
 * later Wings does); anything else — no dashes, braces, `../x` — is refused, which is also what
 * keeps ids from building paths outside the backup directory.
 */
export function canonicalUuid(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const lower = value.toLowerCase();
  return CANONICAL.test(lower) ? lower : null;
}
