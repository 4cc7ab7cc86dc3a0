import { useState } from 'react';
import type { BackupAttributes } from '../api/client.ts';
import { ConfirmDialog } from './confirm-dialog.tsx';

/** Upstream's restore confirmation, with its truncate checkbox (off by default). */
export function RestoreDialog({ backup, onConfirm, onClose }: { backup: BackupAttributes; onConfirm: (truncate: boolean) => Promise<void>; onClose: () => void }) {
  const [truncate, setTruncate] = useState(false);
  return (
    <ConfirmDialog title={`Restore "${backup.name}"`} confirmLabel="Restore" danger={truncate} onClose={onClose}
      onConfirm={() => onConfirm(truncate)}>
      <p>
        Your server will be stopped. You will not be able to control it, use the file manager, or create
        backups until the restore has finished.
      </p>
      <label className="check">
        <input type="checkbox" checked={truncate} onChange={(e) => setTruncate(e.target.checked)} />
        <span>Delete all files before restoring backup</span>
      </label>
      {truncate && <p className="hint hint-danger">Every file on the server is removed first. This cannot be undone.</p>}
    </ConfirmDialog>
  );
}
