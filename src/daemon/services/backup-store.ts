/**
 * Local backups: `<uuid>.tar.gz` plus a sidecar `<uuid>.json` naming the owning server, either
 * flat in `<backup_directory>` (Pterodactyl's layout, and backwing's own) or in
 * `<backup_directory>/<server uuid>/` (Pelican's). Upstream Wings keeps no record of ownership,
 * so any server's route could touch any backup; the sidecar lets download, restore and delete
 * check it, and delete-all find a server's files.
 *
 * Archives Wings made have no sidecar. They are adopted (a sidecar written) when the panel — the
 * only caller of these routes — names one for a server, under one rule: an archive in a server's
 * own directory belongs to that server and no other; a flat one belongs to the first server the
 * panel names it for, and from then on to that server only. The panel names a backup only for
 * the server its database row belongs to, so the first naming is the true owner.
 */
import { link, lstat, mkdir, readdir, readFile, rm, writeFile, rename } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { BackupLayout } from '../config.ts';
import { canonicalUuid } from '../uuid.ts';

export interface BackupSidecar {
  /** null: a flat Wings archive adopted by `daemon adopt`; its owner is the first server the panel names. */
  server_uuid: string | null;
  checksum: string;
  checksum_type: string;
  size: number;
  created_at: string;
  /** Set when backwing adopted an archive Wings made. */
  adopted_at?: string;
}

/** Where one archive was found; what restore, download and delete act on. */
export interface FoundBackup {
  path: string;
  sidecarPath: string;
  size: number;
  sidecar: BackupSidecar;
}

/** One `<uuid>.tar.gz` seen by a scan of the backup directory. */
export interface ScannedArchive {
  uuid: string;
  path: string;
  sidecarPath: string;
  /** The server whose directory holds it (per-server layout); null in the flat directory. */
  directoryServer: string | null;
  size: number;
  mtime: Date;
  sidecar: BackupSidecar | null;
}

const ARCHIVE = /^(.+)\.tar\.gz$/;

/** The backup index (src/archive/backup-index.ts) beside `<uuid>.tar.gz`: `<uuid>.idx`. */
export function indexPathOf(archivePath: string): string {
  return archivePath.replace(/\.tar\.gz$/, '.idx');
}

async function fileSize(path: string): Promise<number> {
  try {
    const st = await lstat(path);
    return st.isFile() ? st.size : 0;
  } catch {
    return 0;
  }
}

function isTemporary(name: string): boolean {
  return name.endsWith('.tmp') || name.includes('.tmp-') || name.startsWith('.backwing-');
}

async function regularFile(path: string): Promise<{ size: number; mtime: Date } | null> {
  try {
    // lstat: an archive that is a symlink is never followed (it could point anywhere).
    const st = await lstat(path);
    return st.isFile() ? { size: st.size, mtime: st.mtime } : null;
  } catch {
    return null;
  }
}

/** A directory itself, not a link to one (lstat). */
export async function realDirectory(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isDirectory();
  } catch {
    return false;
  }
}

export class BackupStore {
  /** Adoptions in flight, so two requests naming one archive decide one after the other. */
  #adopting: Promise<unknown> = Promise.resolve();

  constructor(readonly dir: string, readonly layout: BackupLayout = 'flat') {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
  }

  /** Callers pass canonical uuids only, so these joins cannot leave the directory. */
  #home(serverUuid: string): string {
    return this.layout === 'per-server' ? join(this.dir, serverUuid) : this.dir;
  }

  /** Where a new archive of `serverUuid` is written in this node's layout. */
  archivePath(uuid: string, serverUuid: string): string {
    return join(this.#home(serverUuid), `${uuid}.tar.gz`);
  }

  sidecarPath(uuid: string, serverUuid: string): string {
    return join(this.#home(serverUuid), `${uuid}.json`);
  }

  /** The archive path for a new backup, its directory created. */
  async prepareArchive(uuid: string, serverUuid: string): Promise<string> {
    await mkdir(this.#home(serverUuid), { recursive: true, mode: 0o755 });
    return this.archivePath(uuid, serverUuid);
  }

  /** The places a backup of `serverUuid` may be: its own directory first, then the flat one. */
  #candidates(uuid: string, serverUuid: string): Array<{ archive: string; sidecar: string; byDirectory: boolean }> {
    const flat = { archive: join(this.dir, `${uuid}.tar.gz`), sidecar: join(this.dir, `${uuid}.json`), byDirectory: false };
    const own = { archive: join(this.dir, serverUuid, `${uuid}.tar.gz`), sidecar: join(this.dir, serverUuid, `${uuid}.json`), byDirectory: true };
    return [own, flat];
  }

  async exists(uuid: string, serverUuid: string): Promise<boolean> {
    for (const c of this.#candidates(uuid, serverUuid)) {
      for (const p of [c.archive, c.sidecar]) {
        try {
          await lstat(p);
          return true;
        } catch {
          // keep looking
        }
      }
    }
    return false;
  }

  async readSidecarAt(path: string): Promise<BackupSidecar | null> {
    try {
      return JSON.parse(await readFile(path, 'utf8')) as BackupSidecar;
    } catch {
      return null;
    }
  }

  async writeSidecar(uuid: string, sidecar: BackupSidecar & { server_uuid: string }): Promise<void> {
    await this.#replace(this.sidecarPath(uuid, sidecar.server_uuid), sidecar);
  }

  async #replace(path: string, sidecar: BackupSidecar): Promise<void> {
    const tmp = `${path}.tmp`;
    await writeFile(tmp, JSON.stringify(sidecar));
    await rename(tmp, path);
  }

  /**
   * Writes a sidecar only where none exists (atomically: a complete file appears or nothing).
   * False when one appeared meanwhile — its owner stands.
   */
  async createSidecar(path: string, sidecar: BackupSidecar): Promise<boolean> {
    const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
    await writeFile(tmp, JSON.stringify(sidecar));
    try {
      await link(tmp, path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /**
   * The archive of `uuid` as a backup of `serverUuid`, adopting an archive Wings made (see the
   * rule at the top). Null when there is none, or it belongs to another server.
   */
  claim(serverUuid: string, uuid: string): Promise<FoundBackup | null> {
    const run = this.#adopting.then(() => this.#claim(serverUuid, uuid));
    this.#adopting = run.catch(() => undefined);
    return run;
  }

  async #claim(serverUuid: string, uuid: string): Promise<FoundBackup | null> {
    for (const c of this.#candidates(uuid, serverUuid)) {
      if (c.byDirectory && !(await realDirectory(join(this.dir, serverUuid)))) continue;
      const st = await regularFile(c.archive);
      if (!st) continue;
      const sidecar = await this.readSidecarAt(c.sidecar);
      if (sidecar && sidecar.server_uuid === serverUuid) return { path: c.archive, sidecarPath: c.sidecar, size: st.size, sidecar };
      if (sidecar && sidecar.server_uuid !== null) return null;
      // Wings-made (no sidecar), or adopted unbound by `daemon adopt`: the panel's naming binds it.
      const bound: BackupSidecar = sidecar
        ? { ...sidecar, server_uuid: serverUuid }
        : { server_uuid: serverUuid, checksum: '', checksum_type: '', size: st.size, created_at: st.mtime.toISOString(), adopted_at: new Date().toISOString() };
      if (sidecar) await this.#replace(c.sidecar, bound);
      else if (!(await this.createSidecar(c.sidecar, bound))) {
        const now = await this.readSidecarAt(c.sidecar);
        return now?.server_uuid === serverUuid ? { path: c.archive, sidecarPath: c.sidecar, size: st.size, sidecar: now } : null;
      }
      return { path: c.archive, sidecarPath: c.sidecar, size: st.size, sidecar: bound };
    }
    return null;
  }

  /** Writes (or replaces) the index beside an archive: a complete file appears or nothing. */
  async writeIndex(archivePath: string, index: Buffer): Promise<void> {
    const path = indexPathOf(archivePath);
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await writeFile(tmp, index, { mode: 0o600 });
      await rename(tmp, path);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  /** Removes what `claim` found. */
  async removeFound(found: FoundBackup): Promise<void> {
    await rm(found.path, { force: true });
    await rm(indexPathOf(found.path), { force: true });
    await rm(found.sidecarPath, { force: true });
  }

  /** Removes a backup this daemon writes for `serverUuid` (a failed or interrupted one). */
  async remove(uuid: string, serverUuid: string): Promise<void> {
    await rm(this.archivePath(uuid, serverUuid), { force: true });
    await rm(indexPathOf(this.archivePath(uuid, serverUuid)), { force: true });
    await rm(this.sidecarPath(uuid, serverUuid), { force: true });
  }

  /** Every backup that is the server's: sidecars naming it, and every archive in its own directory. */
  async listOwnedBy(serverUuid: string): Promise<FoundBackup[]> {
    const out: FoundBackup[] = [];
    for (const a of await this.scan()) {
      if (a.directoryServer === serverUuid || (a.directoryServer === null && a.sidecar?.server_uuid === serverUuid)) {
        out.push({ path: a.path, sidecarPath: a.sidecarPath, size: a.size, sidecar: a.sidecar ?? { server_uuid: serverUuid, checksum: '', checksum_type: '', size: a.size, created_at: a.mtime.toISOString() } });
      }
    }
    return out;
  }

  /**
   * Read-only listing of every `<uuid>.tar.gz` in both layouts (regular files only; links and
   * other names are left out and returned in `ignored`).
   */
  async scan(ignored: string[] = []): Promise<ScannedArchive[]> {
    const out: ScannedArchive[] = [];
    const visit = async (dir: string, directoryServer: string | null, rel: string): Promise<void> => {
      for (const name of (await readdir(dir)).sort()) {
        const path = join(dir, name);
        if (name.endsWith('.json') || name.endsWith('.idx') || isTemporary(name)) continue;
        const m = ARCHIVE.exec(name);
        if (!m) {
          const server = directoryServer === null ? canonicalUuid(name) : null;
          if (server && server === name && (await realDirectory(path))) await visit(path, server, `${name}/`);
          else ignored.push(`${rel}${name}`);
          continue;
        }
        const uuid = canonicalUuid(m[1]);
        const st = await regularFile(path);
        if (!uuid || uuid !== m[1] || !st) {
          ignored.push(`${rel}${name}`);
          continue;
        }
        const sidecarPath = join(dir, `${uuid}.json`);
        out.push({ uuid, path, sidecarPath, directoryServer, size: st.size, mtime: st.mtime, sidecar: await this.readSidecarAt(sidecarPath) });
      }
    };
    await visit(this.dir, null, '');
    return out;
  }

  /** The directories archives may be in: the flat one, then each per-server one (both layouts). */
  async #directories(): Promise<Array<{ dir: string; directoryServer: string | null }>> {
    const out: Array<{ dir: string; directoryServer: string | null }> = [{ dir: this.dir, directoryServer: null }];
    for (const name of (await readdir(this.dir)).sort()) {
      if (canonicalUuid(name) === name && (await realDirectory(join(this.dir, name)))) out.push({ dir: join(this.dir, name), directoryServer: name });
    }
    return out;
  }

  /**
   * Every archive (or lone sidecar or index, left by a crash between removals) in both layouts,
   * with its owner and age, for the panel's reconciler. Temp files do not count.
   */
  async listArchives(nowMs = Date.now()): Promise<Array<{ uuid: string; serverUuid: string | null; size: number; indexSize: number; ageSeconds: number }>> {
    const age = (mtimeMs: number): number => Math.max(0, Math.floor((nowMs - mtimeMs) / 1000));
    const out: Array<{ uuid: string; serverUuid: string | null; size: number; indexSize: number; ageSeconds: number }> = [];
    const withArchive = new Set<string>();
    for (const a of await this.scan()) {
      withArchive.add(a.sidecarPath);
      const sidecarMtime = (await regularFile(a.sidecarPath))?.mtime.getTime() ?? 0;
      out.push({ uuid: a.uuid, serverUuid: a.directoryServer ?? a.sidecar?.server_uuid ?? null, size: a.size, indexSize: await fileSize(indexPathOf(a.path)), ageSeconds: age(Math.max(a.mtime.getTime(), sidecarMtime)) });
    }
    // A lone sidecar or index (a crash between removals, or an index whose archive went): listed
    // with size 0, so the reconciler removes it (removeEverywhere) like any orphan.
    for (const { dir, directoryServer } of await this.#directories()) {
      const lone = new Set<string>();
      for (const name of await readdir(dir)) {
        const m = /^(.+)\.(json|idx)$/.exec(name);
        const uuid = m ? canonicalUuid(m[1]) : null;
        if (uuid && uuid === m![1] && !withArchive.has(join(dir, `${uuid}.json`))) lone.add(uuid);
      }
      for (const uuid of [...lone].sort()) {
        const path = join(dir, `${uuid}.json`);
        const st = await regularFile(path);
        const idx = await regularFile(join(dir, `${uuid}.idx`));
        if (!st && !idx) continue; // removed while we looked
        const sidecar = st ? await this.readSidecarAt(path) : null;
        const mtime = Math.max(st?.mtime.getTime() ?? 0, idx?.mtime.getTime() ?? 0);
        out.push({ uuid, serverUuid: directoryServer ?? sidecar?.server_uuid ?? null, size: 0, indexSize: idx?.size ?? 0, ageSeconds: age(mtime) });
      }
    }
    return out;
  }

  /** Removes every copy of a backup's archive and sidecar, in either layout, whoever owns it. */
  async removeEverywhere(uuid: string): Promise<void> {
    for (const { dir } of await this.#directories()) {
      await rm(join(dir, `${uuid}.tar.gz`), { force: true });
      await rm(join(dir, `${uuid}.idx`), { force: true });
      await rm(join(dir, `${uuid}.json`), { force: true });
    }
  }

  /** Removes temporary files a crashed run left behind (archives being written, spooled parts), in both layouts. */
  async removeTemporaryFiles(): Promise<string[]> {
    const removed: string[] = [];
    for (const { dir, directoryServer } of await this.#directories()) {
      for (const name of await readdir(dir)) {
        if (!isTemporary(name)) continue;
        await rm(join(dir, name), { force: true, recursive: true });
        removed.push(directoryServer ? `${directoryServer}/${name}` : name);
      }
    }
    return removed;
  }
}
