import { useState } from 'react';
import type { BackupAttributes } from '../api/client.ts';
import { ConfirmDialog } from './confirm-dialog.tsx';

/**
 * Upstream's restore confirmation, with its truncate checkbox (off by default). What happens to the
 * running game depends on the node: with server control the daemon stops it first and starts it
 * again; without, files are replaced under a running game, so the owner must stop it.
 */
export function RestoreDialog({ backup, stopsServer, onConfirm, onClose }: {
  backup: BackupAttributes;
  /** From the node's server control; null = not known (treated as no control). */
  stopsServer: boolean | null;
  onConfirm: (truncate: boolean) => Promise<void>;
  onClose: () => void;
}) {
  const [truncate, setTruncate] = useState(false);
  return (
    <ConfirmDialog title={`Restore "${backup.name}"`} confirmLabel="Restore" danger={truncate} onClose={onClose}
      onConfirm={() => onConfirm(truncate)}>
      {stopsServer ? (
        <p className="callout callout-info" data-testid="restore-control">The server will be stopped, restored and started again.</p>
      ) : (
        <p className="callout callout-warn" data-testid="restore-control">Stop your server first; files are replaced while it runs.</p>
      )}
      <p>
        You will not be able to control it, use the file manager, or create backups until the restore has finished.
      </p>
      <label className="check">
        <input type="checkbox" checked={truncate} onChange={(e) => setTruncate(e.target.checked)} />
        <span>Delete all files before restoring backup</span>
      </label>
      {truncate && <p className="hint hint-danger">Every file on the server is removed first. This cannot be undone.</p>}
    </ConfirmDialog>
  );
}
