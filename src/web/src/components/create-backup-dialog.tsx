import { useId, useState, type FormEvent } from 'react';
import { api, type BackupAttributes } from '../api/client.ts';
import { errorText } from '../api/http.ts';
import { normaliseIgnored } from '../lib/format.ts';
import { ErrorAlert } from './alert.tsx';
import { Modal, ModalActions } from './modal.tsx';

/** Seed 002's "Example Ignored Files", shown as the textarea placeholder. */
export const IGNORE_EXAMPLES = ['*.log', '*.tmp', 'cache/', 'node_modules/', 'logs/', 'crash-reports/', 'backups/', '*.jar.old'];

interface Props {
  server: string;
  /** The Locked switch exists only for users who may delete backups (the panel ignores it otherwise). */
  canLock: boolean;
  onCreated: (backup: BackupAttributes) => void;
  onClose: () => void;
}

export function CreateBackupDialog({ server, canLock, onCreated, onClose }: Props) {
  const [name, setName] = useState('');
  const [ignored, setIgnored] = useState('');
  const [locked, setLocked] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ids = { name: useId(), nameHint: useId(), ignored: useId(), ignoredHint: useId(), locked: useId(), lockedHint: useId() };

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await api.createBackup(server, {
        name: name.trim() === '' ? null : name.trim(),
        ignored: normaliseIgnored(ignored),
        is_locked: canLock && locked,
      });
      onCreated(res.attributes);
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  return (
    <Modal title="Create server backup" onClose={onClose} busy={busy}>
      {() => (
        <form className="modal-body form" onSubmit={submit} noValidate>
          <div className="field">
            <label htmlFor={ids.name}>Backup name</label>
            <input id={ids.name} name="name" type="text" maxLength={191} value={name} autoFocus
              placeholder="Pre-Update Backup" aria-describedby={ids.nameHint}
              onChange={(e) => setName(e.target.value)} />
            <p id={ids.nameHint} className="hint">Optional. Leave blank to name it after the current date and time.</p>
          </div>
          <div className="field">
            <label htmlFor={ids.ignored}>Ignored files &amp; directories</label>
            <textarea id={ids.ignored} name="ignored" rows={6} value={ignored} spellCheck={false}
              placeholder={IGNORE_EXAMPLES.join('\n')} aria-describedby={ids.ignoredHint}
              onChange={(e) => setIgnored(e.target.value)} />
            <div id={ids.ignoredHint} className="hint">
              One pattern per line, glob syntax: <code>*.log</code> all .log files, <code>cache/</code> a whole
              directory, <code>**/temp/*</code> temp directories at any level, <code>!</code> in front re-includes.
              These add to the server's own <code>.pteroignore</code>, which always applies. When in doubt, keep a file in the backup.
            </div>
          </div>
          {canLock && (
            <div className="field field-switch">
              <input id={ids.locked} type="checkbox" role="switch" className="switch" checked={locked}
                aria-describedby={ids.lockedHint} onChange={(e) => setLocked(e.target.checked)} />
              <div>
                <label htmlFor={ids.locked}>Locked</label>
                <p id={ids.lockedHint} className="hint">Prevents this backup from being deleted until it is unlocked.</p>
              </div>
            </div>
          )}
          <ErrorAlert message={error} />
          <ModalActions onCancel={onClose} busy={busy} label="Start backup" />
        </form>
      )}
    </Modal>
  );
}
