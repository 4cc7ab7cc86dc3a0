import { useEffect, useId, useState, type FormEvent } from 'react';
import { api, type DestinationAssignments, type DestinationAttributes } from '../api/client.ts';
import { ApiError, errorText } from '../api/http.ts';
import { ErrorAlert } from './alert.tsx';
import { Spinner } from './icons.tsx';
import { useCardAction } from '../lib/use-card-action.ts';

type Assignments = DestinationAssignments['attributes'];

/** A destination picker; "" stands for inheriting (`inherit` names what is inherited). */
function DestinationSelect(props: { id?: string; label: string; value: number | null; inherit: string; destinations: DestinationAttributes[]; disabled: boolean; onChange: (id: number | null) => void }) {
  return (
    <select
      id={props.id} className="select" aria-label={props.label} disabled={props.disabled} value={props.value === null ? '' : String(props.value)}
      onChange={(e) => props.onChange(e.target.value === '' ? null : Number(e.target.value))}
    >
      <option value="">{props.inherit}</option>
      {props.destinations.map((d) => <option key={d.id} value={String(d.id)}>{d.name}</option>)}
    </select>
  );
}

/**
 * Admin card (root admins): which destination each node backs up to (none chosen = the default),
 * and the servers that override their node's (docs/destinations.md). Each change is saved at once
 * through `PUT /api/application/{nodes|servers}/{id}/destination`.
 */
export function DestinationAssignmentsCard({ destinations }: { destinations: DestinationAttributes[] }) {
  const [data, setData] = useState<Assignments | null>(null);
  const [server, setServer] = useState('');
  const [target, setTarget] = useState<number | null>(null);
  const { busy, error, notice, setError, run } = useCardAction();
  const idBase = useId();

  const load = () => api.destinationAssignments().then((r) => setData(r.attributes), (err: unknown) => setError(errorText(err)));
  useEffect(() => { void load(); }, []);

  const nameOf = (id: number | null) => destinations.find((d) => d.id === id)?.name ?? null;
  const fallback = destinations.find((d) => d.is_default)?.name ?? 'none';
  const nodeName = (id: number) => data?.nodes.find((n) => n.id === id)?.name ?? `node ${id}`;

  const assignNode = (node: Assignments['nodes'][number], id: number | null) => run(async () => {
    await api.assignNodeDestination(node.id, id);
    await load();
    return `Node ${node.name} now backs up to ${nameOf(id) ?? `the default (${fallback})`}.`;
  });

  const assignServer = (ref: string, label: string, id: number | null) => run(async () => {
    await api.assignServerDestination(ref, id);
    await load();
    return id === null ? `Server ${label} backs up to its node's destination again.` : `Server ${label} now backs up to ${nameOf(id)}.`;
  }, (err) => (err instanceof ApiError && err.status === 404 ? `There is no server "${ref}" (give its identifier or UUID).` : errorText(err)));

  const onOverride = (e: FormEvent) => {
    e.preventDefault();
    const ref = server.trim();
    if (!ref || target === null) {
      setError('Give a server (identifier or UUID) and the destination its backups go to.');
      return;
    }
    void assignServer(ref, ref, target).then(() => setServer(''));
  };

  return (
    <div className="card destination-assignments" data-testid="destination-assignments">
      <h2>Where backups go</h2>
      <p className="hint">A node without a destination uses the default ({fallback}); a server may override its node. Older backups stay where they were written.</p>
      {!data && !error && <div className="loading"><Spinner label="Loading assignments" /></div>}
      {data && (
        <>
          <h3>Nodes</h3>
          <ul className="destinations-list" aria-label="Nodes">
            {data.nodes.map((n) => (
              <li key={n.id} className="destination" data-node={n.name}>
                <span className="destination-name">{n.name}</span>
                <DestinationSelect label={`Destination of node ${n.name}`} value={n.destination} inherit={`Default (${fallback})`} destinations={destinations} disabled={busy} onChange={(id) => { void assignNode(n, id); }} />
              </li>
            ))}
          </ul>
          <h3>Server overrides</h3>
          {data.servers.length === 0 && <p className="hint">No server overrides its node.</p>}
          {data.servers.length > 0 && (
            <ul className="destinations-list" aria-label="Server overrides">
              {data.servers.map((s) => (
                <li key={s.id} className="destination" data-server={s.identifier}>
                  <span className="destination-name">{s.name}</span>
                  <span className="destination-where">{s.identifier} · on {nodeName(s.node)}</span>
                  <DestinationSelect label={`Destination of server ${s.name}`} value={s.destination} inherit="Its node's destination" destinations={destinations} disabled={busy} onChange={(id) => { void assignServer(s.identifier, s.name, id); }} />
                </li>
              ))}
            </ul>
          )}
          <form className="destination-form" onSubmit={onOverride} noValidate aria-label="Override a server's destination">
            <div className="field">
              <label htmlFor={`${idBase}-server`}>Server (identifier or UUID)</label>
              <input id={`${idBase}-server`} value={server} onChange={(e) => setServer(e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor={`${idBase}-target`}>Its destination</label>
              <DestinationSelect id={`${idBase}-target`} label="Its destination" value={target} inherit="Choose…" destinations={destinations} disabled={busy} onChange={setTarget} />
            </div>
            <div className="form-actions">
              <button type="submit" className="btn btn-primary" disabled={busy}>{busy && <Spinner />} Override</button>
            </div>
          </form>
        </>
      )}
      <ErrorAlert message={error} />
      <div className="card-notice" role="status" aria-live="polite">{notice}</div>
    </div>
  );
}
