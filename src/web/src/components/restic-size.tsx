import type { BackupAttributes } from '../api/client.ts';
import { resticSizeText } from '../lib/restic-size.ts';

/** Under a restic backup's size: what it added (dedup) and the server's repository total. */
export function ResticSize({ backup }: { backup: BackupAttributes }) {
  const text = resticSizeText(backup);
  if (!text) return null;
  return (
    <span className="muted backup-restic-size" data-testid="restic-size" title="restic: bytes this snapshot added to the repository, and the repository's total for this server">
      {text.added}{text.total ? ` · ${text.total}` : ''}
    </span>
  );
}
