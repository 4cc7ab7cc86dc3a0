import { useEffect, useState } from 'react';
import { api, type BackupAttributes } from '../api/client.ts';
import { errorText } from '../api/http.ts';
import type { BackupComparison } from '../../../wire/daemon-api.ts';
import { formatBytes } from '../lib/format.ts';
import { ErrorAlert } from './alert.tsx';
import { Spinner } from './icons.tsx';

const SIGN = { added: '+', removed: '−', changed: '~' } as const;

/**
 * What changed between this backup and another of the same server (backwing, issue 14), from the
 * two indexes alone: added, removed and changed files with their sizes. Lives inside the browser.
 */
export function BackupCompare({ server, backup, others }: { server: string; backup: BackupAttributes; others: BackupAttributes[] }) {
  const [other, setOther] = useState(others[0]?.uuid ?? '');
  const [page, setPage] = useState(1);
  const [result, setResult] = useState<BackupComparison | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [asked, setAsked] = useState(false);

  useEffect(() => {
    if (!asked || other === '') return;
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ask = async () => {
      try {
        const r = await api.compareBackups(server, backup.uuid, other, page);
        if (stop) return;
        setResult(r.attributes);
        setError(null);
        if (r.attributes.status === 'building') timer = setTimeout(() => void ask(), 1000);
      } catch (err) {
        if (!stop) setError(errorText(err));
      }
    };
    setResult(null);
    void ask();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [asked, server, backup.uuid, other, page]);

  if (others.length === 0) return <p className="muted">There is no other completed backup of this server to compare with.</p>;
  const pages = result ? Math.max(1, Math.ceil(result.total / result.per_page)) : 1;
  return (
    <div className="compare" data-testid="backup-compare">
      <form className="browser-search" onSubmit={(e) => { e.preventDefault(); setPage(1); setAsked(true); }}>
        <label htmlFor="compare-with" className="compare-label">Compare with</label>
        <select id="compare-with" value={other} onChange={(e) => { setOther(e.target.value); setAsked(false); }}>
          {others.map((o) => <option key={o.uuid} value={o.uuid}>{o.name}</option>)}
        </select>
        <button type="submit" className="btn btn-small btn-secondary">Compare</button>
      </form>
      <ErrorAlert message={error} />
      {asked && !result && !error && <div className="loading"><Spinner label="Comparing" /></div>}
      {result?.status === 'building' && <p className="notice">Building an index first (an archive made without one)…</p>}
      {result?.status === 'ready' && (
        <>
          <p role="status" data-testid="compare-summary">
            {result.counts.added} added, {result.counts.removed} removed, {result.counts.changed} changed
            {' '}({result.size_delta >= 0 ? '+' : '−'}{formatBytes(Math.abs(result.size_delta))})
          </p>
          {result.entries.length > 0 && (
            <ul className="browser-list" aria-label="Changes">
              {result.entries.map((e) => (
                <li key={e.path} className={`browser-row compare-row compare-${e.change}`} data-path={e.path}>
                  <span aria-hidden="true" className="compare-sign">{SIGN[e.change]}</span>
                  <span className="browser-name"><span className="sr-only">{e.change}: </span>{e.type === 'dir' ? `${e.path}/` : e.path}</span>
                  <span className="browser-size">
                    {e.change === 'changed' ? `${formatBytes(e.size_before)} → ${formatBytes(e.size)}` : formatBytes(e.change === 'removed' ? e.size_before : e.size)}
                  </span>
                </li>
              ))}
            </ul>
          )}
          {pages > 1 && (
            <nav className="pager" aria-label="Pages of changes">
              <button type="button" className="btn btn-small btn-secondary" aria-disabled={page <= 1} onClick={() => { if (page > 1) setPage(page - 1); }}>Previous</button>
              <span aria-live="polite">Page {page} of {pages}</span>
              <button type="button" className="btn btn-small btn-secondary" aria-disabled={page >= pages} onClick={() => { if (page < pages) setPage(page + 1); }}>Next</button>
            </nav>
          )}
        </>
      )}
    </div>
  );
}
