import { useCallback, useEffect, useState } from 'react';
import { api, type BackupAttributes } from '../api/client.ts';
import { errorText } from '../api/http.ts';
import type { BackupFileEntry } from '../../../wire/daemon-api.ts';
import { formatBytes, formatExact } from '../lib/format.ts';
import { ErrorAlert } from './alert.tsx';
import { DownloadIcon, RestoreIcon, Spinner } from './icons.tsx';
import { Modal } from './modal.tsx';
import { BackupCompare } from './backup-compare.tsx';

interface Props {
  server: string;
  backup: BackupAttributes;
  /** The server's other completed backups, for Compare. */
  others: BackupAttributes[];
  canRestore: boolean;
  /** The node stops the game for a restore (server control); null = not known. */
  stopsServer: boolean | null;
  onClose: () => void;
  /** A restore of the selection was accepted: the page switches to its restoring view. */
  onRestoreStarted: (paths: string[]) => void;
}

interface Listing {
  entries: BackupFileEntry[];
  page: number;
  totalPages: number;
  total: number;
  building: boolean;
}

/** "world/region" → [{label: 'Backup', path: ''}, {label: 'world', …}, {label: 'region', …}] */
function crumbs(path: string): Array<{ label: string; path: string }> {
  const out = [{ label: 'Backup', path: '' }];
  const parts = path === '' ? [] : path.split('/');
  parts.forEach((p, i) => out.push({ label: p, path: parts.slice(0, i + 1).join('/') }));
  return out;
}

/**
 * The files inside one backup, read from its index on the node (backwing, issue 14): folders with
 * breadcrumbs, sizes and dates, a name search, and Download / Restore on a file or a selection.
 * A native dialog, so focus stays inside and Escape closes it; rows are plain buttons and
 * checkboxes in tab order.
 */
export function BackupBrowser({ server, backup, others, canRestore, stopsServer, onClose, onRestoreStarted }: Props) {
  const [path, setPath] = useState('');
  const [page, setPage] = useState(1);
  const [search, setSearch] = useState<string | null>(null);
  const [query, setQuery] = useState('');
  const [listing, setListing] = useState<Listing | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [confirming, setConfirming] = useState(false);
  const [keepNewer, setKeepNewer] = useState(false);
  const [busy, setBusy] = useState(false);
  const [comparing, setComparing] = useState(false);

  const load = useCallback(async () => {
    try {
      const r = await api.backupFiles(server, backup.uuid, search !== null ? { pattern: search, page } : { path, page });
      const p = r.meta.pagination;
      setListing({ entries: r.data.map((d) => d.attributes), page: p.current_page, totalPages: p.total_pages, total: p.total, building: r.meta.status === 'building' });
      setError(null);
    } catch (err) {
      setError(errorText(err));
      setListing({ entries: [], page: 1, totalPages: 1, total: 0, building: false });
    }
  }, [server, backup.uuid, path, page, search]);

  useEffect(() => {
    setListing(null);
    void load();
  }, [load]);

  // First browse of an archive without an index: the node builds one; ask again until it is there.
  useEffect(() => {
    if (!listing?.building) return;
    const t = setTimeout(() => void load(), 1000);
    return () => clearTimeout(t);
  }, [listing, load]);

  const open = (to: string) => {
    setSearch(null);
    setQuery('');
    setPath(to);
    setPage(1);
  };

  const toggle = (p: string) => setSelected((prev) => {
    const next = new Set(prev);
    if (next.has(p)) next.delete(p);
    else next.add(p);
    return next;
  });

  const download = async (p: string) => {
    setError(null);
    try {
      const res = await api.backupFileUrl(server, backup.uuid, p);
      window.location.assign(res.attributes.url);
      setNotice(`Downloading ${p}…`);
    } catch (err) {
      setError(errorText(err));
    }
  };

  const restore = async () => {
    setBusy(true);
    setError(null);
    try {
      const paths = [...selected];
      await api.restorePaths(server, backup.uuid, paths, keepNewer);
      onRestoreStarted(paths);
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  const chosen = [...selected];
  return (
    <Modal title={`Files in "${backup.name}"`} onClose={onClose} busy={busy}>
      {() => (
        <div className="modal-body browser" data-testid="backup-browser">
          <div className="browser-tabs" role="group" aria-label="View">
            <button type="button" className={`btn btn-small ${comparing ? 'btn-ghost' : 'btn-secondary'}`} aria-pressed={!comparing} onClick={() => setComparing(false)}>Files</button>
            <button type="button" className={`btn btn-small ${comparing ? 'btn-secondary' : 'btn-ghost'}`} aria-pressed={comparing} onClick={() => setComparing(true)}>Compare</button>
          </div>
          {comparing ? <BackupCompare server={server} backup={backup} others={others} /> : <>
          <form className="browser-search" role="search" onSubmit={(e) => {
            e.preventDefault();
            const q = query.trim();
            setSearch(q === '' ? null : q);
            setPage(1);
          }}>
            <label className="sr-only" htmlFor="browser-query">Search file names</label>
            <input id="browser-query" type="search" value={query} placeholder="Search names, e.g. *.yml" onChange={(e) => setQuery(e.target.value)} />
            <button type="submit" className="btn btn-small btn-secondary">Search</button>
          </form>

          {search === null ? (
            <nav aria-label="Folder" className="browser-crumbs">
              <ol>
                {crumbs(path).map((c, i, all) => (
                  <li key={c.path}>
                    {i === all.length - 1
                      ? <span aria-current="location">{c.label}</span>
                      : <button type="button" className="link-button" onClick={() => open(c.path)}>{c.label}</button>}
                  </li>
                ))}
              </ol>
            </nav>
          ) : (
            <p className="browser-crumbs">
              Names matching <code>{search}</code>{' '}
              <button type="button" className="link-button" onClick={() => open(path)}>Back to folder</button>
            </p>
          )}

          <ErrorAlert message={error} onDismiss={() => setError(null)} />
          <div className="notice" role="status" aria-live="polite">
            {listing?.building ? 'Building the index of this backup (first browse of an archive made without one)…' : notice}
          </div>

          {!listing || listing.building ? (
            <div className="loading"><Spinner label="Loading files" /></div>
          ) : listing.entries.length === 0 ? (
            <p className="empty">{search !== null ? 'No names match.' : 'This folder is empty.'}</p>
          ) : (
            <ul className="browser-list" aria-label={search !== null ? 'Search results' : `Contents of ${path || 'the backup'}`}>
              {listing.entries.map((e) => (
                <li key={e.path} className={`browser-row browser-${e.type}`} data-path={e.path}>
                  <input type="checkbox" aria-label={`Select ${e.path}`} checked={selected.has(e.path)} onChange={() => toggle(e.path)}
                    disabled={e.type !== 'file' && e.type !== 'dir'} />
                  {e.type === 'dir' ? (
                    <button type="button" className="link-button browser-name" onClick={() => open(e.path)} aria-label={`Open folder ${e.path}`}>
                      {search !== null ? e.path : e.name}/
                    </button>
                  ) : (
                    <span className="browser-name" title={e.link_target ? `→ ${e.link_target}` : undefined}>
                      {search !== null ? e.path : e.name}{e.type === 'symlink' ? ` → ${e.link_target ?? ''}` : ''}
                    </span>
                  )}
                  <span className="browser-size">{e.type === 'file' ? formatBytes(e.size) : ''}</span>
                  <time className="browser-date" dateTime={e.modified_at ?? undefined} title={e.modified_at ? formatExact(e.modified_at) : undefined}>
                    {e.modified_at ? new Date(e.modified_at).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : ''}
                  </time>
                  {(e.type === 'file' || e.type === 'dir') && (
                    <button type="button" className="btn btn-small btn-ghost" onClick={() => void download(e.path)}
                      aria-label={`Download ${e.path}${e.type === 'dir' ? ' as .tar.gz' : ''}`} title={e.type === 'dir' ? 'Download as .tar.gz' : 'Download'}>
                      <DownloadIcon /><span className="btn-text">Download</span>
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )}

          {listing && listing.totalPages > 1 && (
            <nav className="pager" aria-label="Pages of files">
              <button type="button" className="btn btn-small btn-secondary" aria-disabled={listing.page <= 1}
                onClick={() => { if (listing.page > 1) setPage(listing.page - 1); }}>Previous</button>
              <span aria-live="polite">Page {listing.page} of {listing.totalPages}</span>
              <button type="button" className="btn btn-small btn-secondary" aria-disabled={listing.page >= listing.totalPages}
                onClick={() => { if (listing.page < listing.totalPages) setPage(listing.page + 1); }}>Next</button>
            </nav>
          )}

          {confirming && (
            <div className="callout callout-warn browser-confirm" role="group" aria-label="Restore the selection">
              <p>
                Restore {chosen.length === 1 ? <code>{chosen[0]}</code> : `${chosen.length} selected paths`} into the server?
                Only {chosen.length === 1 ? 'it is' : 'they are'} written; nothing else is deleted or changed.
                {stopsServer ? ' The server is stopped first and started again.' : ' Stop your server first; files are replaced while it runs.'}
              </p>
              <label className="check">
                <input type="checkbox" checked={keepNewer} onChange={(e) => setKeepNewer(e.target.checked)} />
                <span>Keep files on the server that are newer than the backup's copy</span>
              </label>
            </div>
          )}

          </>}

          <div className="modal-actions browser-actions">
            <span className="muted browser-count" aria-live="polite">{chosen.length > 0 ? `${chosen.length} selected` : ''}</span>
            <button type="button" className="btn btn-secondary" onClick={onClose} disabled={busy}>Close</button>
            {chosen.length === 1 && !confirming && (
              <button type="button" className="btn btn-secondary" onClick={() => void download(chosen[0]!)}>
                <DownloadIcon /> Download
              </button>
            )}
            {canRestore && chosen.length > 0 && (
              confirming ? (
                <button type="button" className="btn btn-primary" onClick={() => void restore()} disabled={busy}>
                  {busy ? <Spinner /> : <RestoreIcon />} Restore now
                </button>
              ) : (
                <button type="button" className="btn btn-primary" onClick={() => setConfirming(true)}>
                  <RestoreIcon /> Restore selected
                </button>
              )
            )}
          </div>
        </div>
      )}
    </Modal>
  );
}
