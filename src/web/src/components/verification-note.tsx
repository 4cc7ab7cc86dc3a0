import type { BackupAttributes } from '../api/client.ts';
import { formatExact, formatRelative } from '../lib/format.ts';

/**
 * When the archive was last read back and what was found (issue 17): "Verified 3 days ago",
 * "Never verified", or "Damaged: <reason>". A damaged backup is kept; only a person deletes it.
 */
export function VerificationNote({ backup, now }: { backup: BackupAttributes; now: number }) {
  const at = backup.verified_at ?? null;
  if (backup.verification === 'damaged') {
    return (
      <p className="backup-failure" data-testid="verification" data-verification="damaged">
        Damaged{at ? <> (found <time dateTime={at} title={formatExact(at)}>{formatRelative(at, now)}</time>)</> : null}: {backup.damage_reason ?? 'the node did not say why'}. It is kept until you delete it.
      </p>
    );
  }
  return (
    <p className="backup-verified muted" data-testid="verification" data-verification={backup.verification ?? 'never'}>
      {at && backup.verification === 'good'
        ? <>Verified <time dateTime={at} title={formatExact(at)}>{formatRelative(at, now)}</time></>
        : 'Never verified'}
    </p>
  );
}
