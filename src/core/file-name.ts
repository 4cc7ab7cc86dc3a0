/**
 * The file name a downloaded backup gets: `<name>-<first 8 of the uuid>.tar.gz`, with only
 * characters that are safe in every file system and shell (letters, digits, `.`, `_`, `-`), so a
 * backup called "../../etc/passwd" or "Nightly: world 1" saves as a plain, readable name.
 */
const MAX_NAME = 60;

/** True for names `backupFileName` can produce: safe to put in a Content-Disposition header as is. */
export function isSafeBackupFileName(v: unknown): v is string {
  return typeof v === 'string' && v.length <= MAX_NAME + 16 && /^[A-Za-z0-9_][A-Za-z0-9._-]*\.tar\.gz$/.test(v);
}

export function backupFileName(name: string, uuid: string): string {
  const safe = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, MAX_NAME)
    .replace(/[-.]+$/g, '');
  const short = uuid.replace(/[^0-9a-fA-F]/g, '').slice(0, 8).toLowerCase() || 'backup';
  return `${safe || 'backup'}-${short}.tar.gz`;
}
