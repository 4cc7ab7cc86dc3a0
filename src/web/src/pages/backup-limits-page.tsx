import { useEffect, useId, useState, type FormEvent } from 'react';
import { adminApi, type AdminEgg, type AdminNode, type AdminServer } from '../api/backup-limits.ts';
import { errorText } from '../api/http.ts';
import { ErrorAlert } from '../components/alert.tsx';
import { Spinner } from '../components/icons.tsx';
import { useCardAction } from '../lib/use-card-action.ts';

const GiB = 1024 ** 3;

/** "10" → 10 GiB in bytes; "" or "0" → no quota; anything else is refused before it is sent. */
function quotaBytes(text: string): number | null {
  const t = text.trim();
  if (t === '' || Number(t) === 0) return null;
  const n = Number(t);
  if (!Number.isFinite(n) || n < 0) throw new Error('The storage quota must be a number of GiB (empty for none).');
  return Math.round(n * GiB);
}

const gibText = (bytes: number | null | undefined): string => (bytes ? String(Number((bytes / GiB).toFixed(3))) : '');

/**
 * Admin page (root admins): what each server may keep (count and storage quota, issue 17), its
 * game type, and the ignore patterns every backup gets from its node and its game type (egg).
 */
export function BackupLimitsPage() {
  const [servers, setServers] = useState<AdminServer[] | null>(null);
  const [nodes, setNodes] = useState<AdminNode[]>([]);
  const [eggs, setEggs] = useState<AdminEgg[]>([]);
  const [drafts, setDrafts] = useState<Record<string, string>>({});
  const [newEgg, setNewEgg] = useState({ id: '', name: '', nest: '', patterns: '' });
  const { busy, error, notice, setError, run } = useCardAction();
  const idBase = useId();

  const load = async () => {
    const [s, n, e] = await Promise.all([adminApi.servers(), adminApi.nodes(), adminApi.eggs()]);
    setServers(s);
    setNodes(n);
    setEggs(e);
  };
  useEffect(() => { load().catch((err: unknown) => setError(errorText(err))); }, []);

  const draft = (key: string, fallback: string) => drafts[key] ?? fallback;
  const edit = (key: string) => (e: { target: { value: string } }) => setDrafts({ ...drafts, [key]: e.target.value });
  const saved = async (message: string) => {
    setDrafts({});
    await load();
    return message;
  };
  const describe = (err: unknown) => (err instanceof Error && !('status' in err) ? err.message : errorText(err));

  const saveServer = (s: AdminServer) => run(async () => {
    const count = Number(draft(`count-${s.id}`, String(s.feature_limits.backups)));
    if (!Number.isInteger(count) || count < 0) throw new Error('The backup limit must be a whole number.');
    const egg = Number(draft(`egg-${s.id}`, String(s.egg)));
    await adminApi.setLimits(s.id, count, quotaBytes(draft(`quota-${s.id}`, gibText(s.feature_limits.backup_bytes))));
    if (egg !== s.egg) await adminApi.setServerEgg(s.id, egg);
    return saved(`${s.name}: limits saved.`);
  }, describe);

  const saveNode = (n: AdminNode) => run(async () => {
    await adminApi.setNodeIgnore(n.id, draft(`node-${n.id}`, n.backup_ignore ?? ''));
    return saved(`Node ${n.name}: ignore defaults saved.`);
  });

  const saveEgg = (e: AdminEgg) => run(async () => {
    await adminApi.setEgg(e.id, { backup_ignore: draft(`egg-ignore-${e.id}`, e.backup_ignore ?? '') });
    return saved(`${e.name}: ignore defaults saved.`);
  });

  const addEgg = (ev: FormEvent) => {
    ev.preventDefault();
    void run(async () => {
      const id = Number(newEgg.id);
      if (!Number.isInteger(id) || id <= 0) throw new Error('The egg id must be a positive whole number (its id in the upstream panel).');
      const made = await adminApi.setEgg(id, { name: newEgg.name.trim(), ...(newEgg.nest.trim() ? { nest: Number(newEgg.nest) } : {}), backup_ignore: newEgg.patterns });
      setNewEgg({ id: '', name: '', nest: '', patterns: '' });
      return saved(`Game type ${made.attributes.name} saved.`);
    }, describe);
  };

  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>Backup limits</h1>
      <p className="hint">How many backups each server may keep and how many bytes (its storage quota), and what every backup leaves out: first the node's defaults, then the game type's, then the server's own <code>.pteroignore</code> and the user's patterns.</p>
      <ErrorAlert message={error} />
      <div className="card-notice" role="status" aria-live="polite">{notice}</div>
      {!servers && !error && <div className="loading"><Spinner label="Loading servers" /></div>}
      {servers && (
        <div className="card limits-card" data-testid="server-limits-card">
          <h2>Servers</h2>
          <ul className="destinations-list" aria-label="Server backup limits">
            {servers.map((s) => (
              <li key={s.id} className="destination" data-identifier={s.identifier}>
                <span className="destination-name">{s.name} <code>{s.identifier}</code></span>
                <label>Backups <input type="number" min={0} aria-label={`Backup limit of ${s.name}`} value={draft(`count-${s.id}`, String(s.feature_limits.backups))} onChange={edit(`count-${s.id}`)} /></label>
                <label>Quota (GiB) <input type="number" min={0} step="any" placeholder="none" aria-label={`Storage quota of ${s.name} in GiB`} value={draft(`quota-${s.id}`, gibText(s.feature_limits.backup_bytes))} onChange={edit(`quota-${s.id}`)} /></label>
                <label>Game type
                  <select className="select" aria-label={`Game type of ${s.name}`} value={draft(`egg-${s.id}`, String(s.egg))} onChange={edit(`egg-${s.id}`)}>
                    <option value="0">None</option>
                    {eggs.map((e) => <option key={e.id} value={String(e.id)}>{e.name}</option>)}
                  </select>
                </label>
                <button type="button" className="btn btn-small btn-primary" disabled={busy} aria-label={`Save limits of ${s.name}`} onClick={() => { void saveServer(s); }}>Save</button>
              </li>
            ))}
          </ul>
        </div>
      )}
      <div className="card limits-card" data-testid="node-ignore-card">
        <h2>Node ignore defaults</h2>
        {nodes.map((n) => (
          <div key={n.id} className="field">
            <label htmlFor={`${idBase}-node-${n.id}`}>Always ignored on node {n.name}</label>
            <textarea id={`${idBase}-node-${n.id}`} rows={3} value={draft(`node-${n.id}`, n.backup_ignore ?? '')} onChange={edit(`node-${n.id}`)} />
            <button type="button" className="btn btn-small btn-secondary" disabled={busy} aria-label={`Save ignore defaults of node ${n.name}`} onClick={() => { void saveNode(n); }}>Save</button>
          </div>
        ))}
      </div>
      <div className="card limits-card" data-testid="egg-ignore-card">
        <h2>Game types (eggs)</h2>
        {eggs.map((e) => (
          <div key={e.id} className="field">
            <label htmlFor={`${idBase}-egg-${e.id}`}>Always ignored for {e.name} (egg {e.id}, nest {e.nest})</label>
            <textarea id={`${idBase}-egg-${e.id}`} rows={3} value={draft(`egg-ignore-${e.id}`, e.backup_ignore ?? '')} onChange={edit(`egg-ignore-${e.id}`)} />
            <button type="button" className="btn btn-small btn-secondary" disabled={busy} aria-label={`Save ignore defaults of ${e.name}`} onClick={() => { void saveEgg(e); }}>Save</button>
          </div>
        ))}
        <form className="destination-form" onSubmit={addEgg} noValidate aria-label="Add a game type">
          <div className="field">
            <label htmlFor={`${idBase}-new-id`}>Egg id</label>
            <input id={`${idBase}-new-id`} type="number" min={1} value={newEgg.id} onChange={(e) => setNewEgg({ ...newEgg, id: e.target.value })} />
          </div>
          <div className="field">
            <label htmlFor={`${idBase}-new-name`}>Name</label>
            <input id={`${idBase}-new-name`} type="text" value={newEgg.name} onChange={(e) => setNewEgg({ ...newEgg, name: e.target.value })} />
          </div>
          <div className="field">
            <label htmlFor={`${idBase}-new-nest`}>Nest id (optional)</label>
            <input id={`${idBase}-new-nest`} type="number" min={0} value={newEgg.nest} onChange={(e) => setNewEgg({ ...newEgg, nest: e.target.value })} />
          </div>
          <div className="field">
            <label htmlFor={`${idBase}-new-patterns`}>Ignore patterns (one per line)</label>
            <textarea id={`${idBase}-new-patterns`} rows={3} value={newEgg.patterns} onChange={(e) => setNewEgg({ ...newEgg, patterns: e.target.value })} />
          </div>
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={busy}>{busy && <Spinner />} Add game type</button>
          </div>
        </form>
      </div>
    </section>
  );
}
