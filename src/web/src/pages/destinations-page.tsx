import { useEffect, useId, useState, type FormEvent } from 'react';
import { api, type DestinationAttributes } from '../api/client.ts';
import { errorText } from '../api/http.ts';
import { ErrorAlert } from '../components/alert.tsx';
import { Spinner } from '../components/icons.tsx';
import { DestinationAssignmentsCard } from '../components/destination-assignments.tsx';
import { ResticDestinationFields, resticBody, type ResticFields } from '../components/restic-destination-fields.tsx';
import { useCardAction } from '../lib/use-card-action.ts';

function where(d: DestinationAttributes): string {
  if (d.kind === 'local') return 'On each node\u2019s disk';
  if (d.kind === 'restic') return `restic repository ${d.repository ?? ''}`;
  return `${d.endpoint ?? 'AWS'} · bucket ${d.bucket ?? ''}${d.prefix ? ` · prefix ${d.prefix}` : ''}`;
}

/**
 * Admin page (root admins): backup destinations (docs/destinations.md). Lists them, tests one
 * (S3's own error code when it refuses), deletes one (the panel explains a refusal), and adds one
 * (an S3 one is tested before it is saved).
 */
export function DestinationsPage() {
  const [list, setList] = useState<DestinationAttributes[] | null>(null);
  const [form, setForm] = useState({ name: '', kind: 's3' as 'local' | 's3' | 'restic', endpoint: '', region: '', bucket: '', prefix: '', access_key_id: '', secret_access_key: '', path_style: true });
  const [restic, setRestic] = useState<ResticFields>({ repository: '', region: '', access_key_id: '', secret_access_key: '' });
  const { busy, error, notice, setError, run } = useCardAction();
  const idBase = useId();

  const load = () => api.destinations().then((r) => setList(r.data.map((d) => d.attributes)), (err: unknown) => setError(errorText(err)));
  useEffect(() => { void load(); }, []);

  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: e.target.value });

  const onAdd = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const s3 = form.kind === 's3';
      const body = {
        name: form.name.trim(), kind: form.kind,
        ...(s3 ? {
          endpoint: form.endpoint.trim() || undefined, region: form.region.trim() || undefined, bucket: form.bucket.trim(),
          prefix: form.prefix.trim() || undefined, access_key_id: form.access_key_id.trim() || undefined,
          secret_access_key: form.secret_access_key || undefined, path_style: form.path_style,
        } : {}),
        ...(form.kind === 'restic' ? resticBody(restic) : {}),
      };
      const made = await api.createDestination(body);
      setForm({ ...form, name: '', bucket: '', prefix: '', secret_access_key: '' });
      setRestic({ ...restic, repository: '', secret_access_key: '' });
      await load();
      return `Destination ${made.attributes.name} added${s3 ? ' (the connection was tested)' : ''}.`;
    });
  };

  const onTest = (d: DestinationAttributes) => run(async () => {
    const r = await api.testDestination(d.id);
    if (!r.attributes.ok) throw new Error(`${d.name}: ${r.attributes.message}`);
    return `${d.name}: ${r.attributes.message}.`;
  }, (err) => (err instanceof Error && !('status' in err) ? err.message : errorText(err)));

  const onDelete = (d: DestinationAttributes) => run(async () => {
    await api.deleteDestination(d.id);
    await load();
    return `Destination ${d.name} deleted.`;
  });

  const s3 = form.kind === 's3';
  return (
    <section className="page" aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>Backup destinations</h1>
      <p className="hint">Where backups go: on each node, an S3-compatible bucket, or a restic repository (incremental snapshots). Assign them to nodes and servers below (or with <code>backwing admin destination assign</code>).</p>
      <div className="card" data-testid="destinations-card">
        {!list && !error && <div className="loading"><Spinner label="Loading destinations" /></div>}
        {list && (
          <ul className="destinations-list" aria-label="Destinations">
            {list.map((d) => (
              <li key={d.id} className="destination" data-name={d.name}>
                <span className="destination-name">{d.name}</span>
                {d.is_default && <span className="badge badge-active">Default</span>}
                <span className="destination-where">{where(d)}</span>
                <span className="destination-actions">
                  <button type="button" className="btn btn-small btn-secondary" disabled={busy} aria-label={`Test ${d.name}`} onClick={() => { void onTest(d); }}>Test</button>
                  <button type="button" className="btn btn-small btn-secondary" disabled={busy} aria-label={`Delete ${d.name}`} onClick={() => { void onDelete(d); }}>Delete</button>
                </span>
              </li>
            ))}
          </ul>
        )}
        <ErrorAlert message={error} />
        <div className="card-notice" role="status" aria-live="polite">{notice}</div>
        <form className="destination-form" onSubmit={onAdd} noValidate aria-label="Add a destination">
          <div className="field">
            <label htmlFor={`${idBase}-name`}>Name</label>
            <input id={`${idBase}-name`} value={form.name} onChange={set('name')} />
          </div>
          <div className="field">
            <label htmlFor={`${idBase}-kind`}>Kind</label>
            <select id={`${idBase}-kind`} className="select" value={form.kind} onChange={(e) => setForm({ ...form, kind: e.target.value === 'local' || e.target.value === 'restic' ? e.target.value : 's3' })}>
              <option value="s3">S3-compatible bucket</option>
              <option value="local">On each node</option>
              <option value="restic">restic repository</option>
            </select>
          </div>
          {s3 && (
            <>
              <div className="field">
                <label htmlFor={`${idBase}-endpoint`}>Endpoint</label>
                <input id={`${idBase}-endpoint`} type="url" placeholder="https://s3.eu-west-1.amazonaws.com" value={form.endpoint} onChange={set('endpoint')} />
              </div>
              <div className="field">
                <label htmlFor={`${idBase}-region`}>Region</label>
                <input id={`${idBase}-region`} placeholder="us-east-1" value={form.region} onChange={set('region')} />
              </div>
              <div className="field">
                <label htmlFor={`${idBase}-bucket`}>Bucket</label>
                <input id={`${idBase}-bucket`} value={form.bucket} onChange={set('bucket')} />
              </div>
              <div className="field">
                <label htmlFor={`${idBase}-prefix`}>Key prefix (optional)</label>
                <input id={`${idBase}-prefix`} value={form.prefix} onChange={set('prefix')} />
              </div>
              <div className="field">
                <label htmlFor={`${idBase}-key`}>Access key ID</label>
                <input id={`${idBase}-key`} autoComplete="off" value={form.access_key_id} onChange={set('access_key_id')} />
              </div>
              <div className="field">
                <label htmlFor={`${idBase}-secret`}>Secret access key</label>
                <input id={`${idBase}-secret`} type="password" autoComplete="off" value={form.secret_access_key} onChange={set('secret_access_key')} />
              </div>
              <div className="field">
                <label htmlFor={`${idBase}-path`}>
                  <input id={`${idBase}-path`} type="checkbox" checked={form.path_style} onChange={(e) => setForm({ ...form, path_style: e.target.checked })} /> Path-style addressing
                </label>
              </div>
            </>
          )}
          {form.kind === 'restic' && <ResticDestinationFields idBase={idBase} value={restic} onChange={setRestic} />}
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={busy}>{busy && <Spinner />} Add destination</button>
          </div>
        </form>
      </div>
      {list && <DestinationAssignmentsCard destinations={list} />}
    </section>
  );
}
