import { useEffect, useId, useState, type FormEvent } from 'react';
import { api, type BackupControl, type SaveHook } from '../api/client.ts';
import { ErrorAlert } from './alert.tsx';
import { Spinner } from './icons.tsx';
import { useCardAction } from '../lib/use-card-action.ts';

const PRESET_TEXT: Record<string, string> = {
  none: 'None: back up while the game keeps writing',
  'minecraft-java': 'Minecraft: Java Edition (save-off, save-all flush, back up, save-on)',
  'minecraft-bedrock': 'Minecraft: Bedrock Edition (save hold, wait for save query, back up, save resume)',
  source: "Source games (the game's save command first)",
  custom: 'Custom console commands',
};

const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter((l) => l !== '');

/**
 * The server's save hook (a backwing extension): what a backup asks the game before and after it
 * reads the files. The node's admin decides which presets exist; changing it needs backup.create.
 */
export function SaveHookCard({ server, control, canEdit, canCustom, onSaved }: {
  server: string;
  control: BackupControl | null;
  canEdit: boolean;
  /** Custom commands are console access: only the owner (or a root admin) may write them. */
  canCustom: boolean;
  onSaved: (c: BackupControl) => void;
}) {
  const id = useId();
  const [choice, setChoice] = useState('');
  const [before, setBefore] = useState('');
  const [after, setAfter] = useState('');
  const { busy, error, notice, run } = useCardAction();

  useEffect(() => {
    const hook = control?.save_hook ?? null;
    setChoice(hook?.preset ?? '');
    setBefore((hook?.before ?? []).join('\n'));
    setAfter((hook?.after ?? []).join('\n'));
  }, [control]);

  const node = control?.control ?? null;
  const allowedCount = node?.save_hooks.length ?? 0;
  const presets = (node?.save_hooks ?? []).filter((p) => p !== 'custom' || canCustom || control?.save_hook?.preset === 'custom');
  const editable = canEdit && (choice !== 'custom' || canCustom);
  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    await run(async () => {
      const hook: SaveHook | null = choice === '' ? null : choice === 'custom' ? { preset: 'custom', before: lines(before), after: lines(after) } : { preset: choice };
      const res = await api.saveBackupControl(server, hook);
      onSaved(res.attributes);
      return 'Save hook saved. The next backup uses it.';
    });
  };

  return (
    <section className="card save-hook" aria-labelledby={`${id}-title`} data-testid="save-hook-card">
      <div className="card-head">
        <h2 id={`${id}-title`}>Consistent backups</h2>
        {!control && <div className="loading"><Spinner label="Loading server control" /></div>}
        {control && !node && <p className="hint">The node could not be asked what it supports; try again later.</p>}
        {node && allowedCount <= 1 && (
          <p className="hint">This node has no server control: backups are taken while the game keeps writing, so stop or pause saving yourself for a consistent copy.</p>
        )}
        {node && allowedCount > 1 && (
          <p className="hint">Before each backup the game can be asked to save and hold its files; afterwards it is given its saving back, also when the backup fails.</p>
        )}
      </div>
      {node && allowedCount > 1 && (
        <form className="save-hook-form" onSubmit={(e) => { void onSubmit(e); }} noValidate>
          <div className="field">
            <label htmlFor={`${id}-preset`}>Save hook</label>
            <select id={`${id}-preset`} className="select" value={choice} disabled={!canEdit} onChange={(e) => setChoice(e.target.value)}>
              <option value="">Node default ({PRESET_TEXT[node.default_save_hook] ?? node.default_save_hook})</option>
              {presets.map((p) => <option key={p} value={p}>{PRESET_TEXT[p] ?? p}</option>)}
            </select>
          </div>
          {choice === 'custom' && (
            <div className="save-hook-custom">
              <div className="field">
                <label htmlFor={`${id}-before`}>Before the backup</label>
                <textarea id={`${id}-before`} rows={3} value={before} disabled={!editable} onChange={(e) => setBefore(e.target.value)} placeholder="one console command per line" />
              </div>
              <div className="field">
                <label htmlFor={`${id}-after`}>After the backup (runs whatever happens)</label>
                <textarea id={`${id}-after`} rows={3} value={after} disabled={!editable} onChange={(e) => setAfter(e.target.value)} placeholder="one console command per line" />
              </div>
            </div>
          )}
          <ErrorAlert message={error} />
          <div className="notice" role="status" aria-live="polite">{notice}</div>
          {canEdit && (
            <div className="card-actions">
              <button type="submit" className="btn btn-primary" disabled={busy}>{busy && <Spinner />} Save hook</button>
            </div>
          )}
        </form>
      )}
    </section>
  );
}
