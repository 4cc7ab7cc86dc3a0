import type { BackupAttributes } from '../../../wire/client-api.ts';
import { formatBytes } from './format.ts';

/**
 * What a restic backup really cost, for its row: the bytes it added to the repository after
 * dedup, and the server's total there. Null for tar.gz backups (no `bytes_added`).
 */
export function resticSizeText(b: Pick<BackupAttributes, 'bytes_added' | 'repository_size'>): { added: string; total: string | null } | null {
  if (b.bytes_added === null || b.bytes_added === undefined) return null;
  return {
    added: `+${formatBytes(b.bytes_added)} added`,
    total: b.repository_size === null || b.repository_size === undefined ? null : `${formatBytes(b.repository_size)} in repository`,
  };
}
