import { useEffect, useId, useState, type FormEvent } from 'react';
import type { DaemonIgnoreFile } from '../../../wire/daemon-api.ts';
import { api, type BackupAttributes } from '../api/client.ts';
import { errorText } from '../api/http.ts';
import { normaliseIgnored } from '../lib/format.ts';
import { ErrorAlert } from './alert.tsx';
import { Modal, ModalActions } from './modal.tsx';
import { NodeDefaults } from './node-defaults.tsx';

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
  const ids = { name: useId(), nameHint: useId(), ignored: useId(), ignoredHint: useId(), locked: useId(), lockedHint: useId(), file: useId() };
  const [ignoreFile, setIgnoreFile] = useState<(DaemonIgnoreFile & { node_defaults?: string[]; egg_defaults?: string[] }) | { error: string } | null>(null);
  const nodeDefaults = ignoreFile && 'node_defaults' in ignoreFile ? ignoreFile.node_defaults ?? [] : [];
  const eggDefaults = ignoreFile && 'egg_defaults' in ignoreFile ? ignoreFile.egg_defaults ?? [] : [];

  useEffect(() => {
    let live = true;
    api.ignoreFile(server)
      .then((r) => { if (live) setIgnoreFile(r.attributes); })
      .catch((err: unknown) => { if (live) setIgnoreFile({ error: errorText(err) }); });
    return () => { live = false; };
  }, [server]);

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
          <section className="field ignore-file" aria-labelledby={ids.file} data-testid="pteroignore">
            <h3 id={ids.file} className="field-label">Always ignored: the server's <code>.pteroignore</code></h3>
            <PteroignoreView file={ignoreFile} />
          </section>
          {nodeDefaults.length > 0 && <NodeDefaults patterns={nodeDefaults} />}
          {eggDefaults.length > 0 && <NodeDefaults patterns={eggDefaults} source="egg" />}
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

/** What the node's .pteroignore leaves out of every backup, or why it does not apply. */
function PteroignoreView({ file }: { file: DaemonIgnoreFile | { error: string } | null }) {
  if (file === null) return <p className="hint">Reading it from the node…</p>;
  if ('error' in file) return <p className="hint">It could not be read: {file.error}</p>;
  switch (file.state) {
    case 'absent':
      return <p className="hint">This server has no <code>.pteroignore</code>; only the patterns above are left out.</p>;
    case 'symlink':
      return <p className="hint">It is a symbolic link, so backups do not use it.</p>;
    case 'not_a_file':
      return <p className="hint">It is not a regular file, so backups do not use it.</p>;
    case 'unreadable':
      return <p className="hint hint-danger">The node may not read it, so backups of this server will fail until its permissions are fixed.</p>;
    case 'too_large':
      return <p className="hint hint-danger">It is larger than 32 KiB: backups of this server are refused until it is smaller.</p>;
    default: {
      const lines = file.content.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
      if (lines.length === 0) return <p className="hint">It is there but lists no patterns.</p>;
      return <pre className="ignore-file-content" tabIndex={0} aria-label="Patterns in .pteroignore">{file.content.trimEnd()}</pre>;
    }
  }
}
