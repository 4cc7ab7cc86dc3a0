/**
 * `backwing daemon adopt`: claims a whole Wings backup directory at once. Everything is read
 * first (each archive without a sidecar is checksummed and fully inflated, so a truncated one is
 * found now rather than at restore time); only then are sidecars written, each atomically and
 * only where none exists. Archives are never written, moved or deleted.
 *
 * Owners follow the store's rule: an archive in a server's own directory (Pelican) is that
 * server's; a flat one (Pterodactyl) is recorded unbound and belongs to the first server the
 * panel names it for, since nothing on the node says whose it is.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform } from 'node:stream';
import { verifyArchive } from '../../archive/index.ts';
import { errorMessage } from '../../core/app-error.ts';
import type { BackupSidecar, BackupStore, ScannedArchive } from './backup-store.ts';

export interface AdoptedArchive {
  uuid: string;
  /** Relative to the backup directory. */
  path: string;
  server_uuid: string | null;
  size: number;
  sha1: string;
}

export interface AdoptReport {
  directory: string;
  dry_run: boolean;
  /** Every `<uuid>.tar.gz` found, in both layouts. */
  archives: number;
  /** Already had a sidecar (made by backwing, or adopted before). */
  already_claimed: number;
  adopted: AdoptedArchive[];
  /** Not readable as gzip+tar: left as they are, no sidecar. */
  unreadable: Array<{ path: string; reason: string }>;
  /** Names that are not `<uuid>.tar.gz` regular files (links included), left alone. */
  ignored: string[];
  /** Sidecars that appeared while we were reading (a running daemon claimed them first). */
  raced: string[];
}

async function checksumAndVerify(path: string): Promise<string> {
  const hash = createHash('sha1');
  const hashing = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  const source = createReadStream(path);
  source.on('error', (err) => hashing.destroy(err));
  await verifyArchive(source.pipe(hashing));
  return hash.digest('hex');
}

export async function adoptBackups(store: BackupStore, opts: { dryRun: boolean; onArchive?: (path: string) => void }): Promise<AdoptReport> {
  const ignored: string[] = [];
  const found = await store.scan(ignored);
  const rel = (a: ScannedArchive) => a.path.slice(store.dir.length + 1);
  const report: AdoptReport = { directory: store.dir, dry_run: opts.dryRun, archives: found.length, already_claimed: 0, adopted: [], unreadable: [], ignored, raced: [] };

  // Read-only pass.
  const pending: Array<{ archive: ScannedArchive; sidecar: BackupSidecar; entry: AdoptedArchive }> = [];
  for (const archive of found) {
    if (archive.sidecar) {
      report.already_claimed++;
      continue;
    }
    opts.onArchive?.(rel(archive));
    let sha1: string;
    try {
      sha1 = await checksumAndVerify(archive.path);
    } catch (err) {
      report.unreadable.push({ path: rel(archive), reason: errorMessage(err) });
      continue;
    }
    const entry: AdoptedArchive = { uuid: archive.uuid, path: rel(archive), server_uuid: archive.directoryServer, size: archive.size, sha1 };
    const sidecar: BackupSidecar = {
      server_uuid: archive.directoryServer,
      checksum: sha1,
      checksum_type: 'sha1',
      size: archive.size,
      created_at: archive.mtime.toISOString(),
      adopted_at: new Date().toISOString(),
    };
    pending.push({ archive, sidecar, entry });
  }

  // Write pass: sidecars only, never over one that exists.
  for (const { archive, sidecar, entry } of pending) {
    if (!opts.dryRun && !(await store.createSidecar(archive.sidecarPath, sidecar))) {
      report.raced.push(entry.path);
      continue;
    }
    report.adopted.push(entry);
  }
  return report;
}

export function formatAdoptReport(r: AdoptReport): string {
  const lines = [
    `${r.dry_run ? 'dry run: nothing written. ' : ''}${r.directory}: ${r.archives} archive(s), ${r.already_claimed} already claimed, ${r.adopted.length} ${r.dry_run ? 'to adopt' : 'adopted'}, ${r.unreadable.length} unreadable, ${r.ignored.length} other name(s) ignored`,
  ];
  for (const a of r.adopted) lines.push(`  ${r.dry_run ? 'would adopt' : 'adopted'} ${a.path} (${a.size} bytes, sha1 ${a.sha1}) → ${a.server_uuid ? `server ${a.server_uuid}` : 'owner: the first server the panel names it for'}`);
  for (const u of r.unreadable) lines.push(`  unreadable ${u.path}: ${u.reason}`);
  for (const p of r.raced) lines.push(`  skipped ${p}: claimed meanwhile`);
  for (const p of r.ignored) lines.push(`  ignored ${p}`);
  return `${lines.join('\n')}\n`;
}
