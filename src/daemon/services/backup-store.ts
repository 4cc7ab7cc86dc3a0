/**
 * Local backups: `<backup_directory>/<uuid>.tar.gz` plus a sidecar `<uuid>.json` naming the
 * owning server. Upstream Wings keeps no record of ownership, so any server's route could touch
 * any backup; the sidecar lets download, restore and delete check it, and delete-all find a
 * server's files.
 */
import { mkdir, readdir, readFile, rm, stat, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

export interface BackupSidecar {
  server_uuid: string;
  checksum: string;
  checksum_type: string;
  size: number;
  created_at: string;
}

export class BackupStore {
  constructor(readonly dir: string) {}

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
  }

  /** Callers pass canonical uuids only, so these joins cannot leave the directory. */
  archivePath(uuid: string): string {
    return join(this.dir, `${uuid}.tar.gz`);
  }

  sidecarPath(uuid: string): string {
    return join(this.dir, `${uuid}.json`);
  }

  async exists(uuid: string): Promise<boolean> {
    for (const p of [this.archivePath(uuid), this.sidecarPath(uuid)]) {
      try {
        await stat(p);
        return true;
      } catch {
        // keep looking
      }
    }
    return false;
  }

  async readSidecar(uuid: string): Promise<BackupSidecar | null> {
    try {
      return JSON.parse(await readFile(this.sidecarPath(uuid), 'utf8')) as BackupSidecar;
    } catch {
      return null;
    }
  }

  async writeSidecar(uuid: string, sidecar: BackupSidecar): Promise<void> {
    const tmp = `${this.sidecarPath(uuid)}.tmp`;
    await writeFile(tmp, JSON.stringify(sidecar));
    await rename(tmp, this.sidecarPath(uuid));
  }

  /**
   * The archive of `uuid` if it exists as a regular file and belongs to `serverUuid`. A backup
   * without a sidecar (made by another daemon, or copied in by hand) is not claimed by anyone.
   */
  async owned(serverUuid: string, uuid: string): Promise<{ path: string; size: number; sidecar: BackupSidecar } | null> {
    const sidecar = await this.readSidecar(uuid);
    if (!sidecar || sidecar.server_uuid !== serverUuid) return null;
    try {
      const st = await stat(this.archivePath(uuid));
      if (!st.isFile()) return null;
      return { path: this.archivePath(uuid), size: st.size, sidecar };
    } catch {
      return null;
    }
  }

  async remove(uuid: string): Promise<void> {
    await rm(this.archivePath(uuid), { force: true });
    await rm(this.sidecarPath(uuid), { force: true });
  }

  async listOwnedBy(serverUuid: string): Promise<string[]> {
    const out: string[] = [];
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith('.json')) continue;
      const uuid = name.slice(0, -'.json'.length);
      const sidecar = await this.readSidecar(uuid);
      if (sidecar?.server_uuid === serverUuid) out.push(uuid);
    }
    return out;
  }

  /**
   * Every archive (or lone sidecar) in the directory, with its owner and age, for the panel's
   * reconciler. Only canonical `<uuid>.tar.gz` / `<uuid>.json` names count; temp files do not.
   */
  async listArchives(nowMs = Date.now()): Promise<Array<{ uuid: string; serverUuid: string | null; size: number; ageSeconds: number }>> {
    const uuids = new Set<string>();
    for (const name of await readdir(this.dir)) {
      const m = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(tar\.gz|json)$/.exec(name);
      if (m) uuids.add(m[1]!);
    }
    const out: Array<{ uuid: string; serverUuid: string | null; size: number; ageSeconds: number }> = [];
    for (const uuid of uuids) {
      let size = 0;
      let mtime = 0;
      for (const [p, isArchive] of [[this.archivePath(uuid), true], [this.sidecarPath(uuid), false]] as const) {
        try {
          const st = await stat(p);
          if (isArchive) size = st.size;
          mtime = Math.max(mtime, st.mtimeMs);
        } catch {
          // one of the two may be missing (a crash between the writes): still listed
        }
      }
      if (mtime === 0) continue; // removed while we looked
      const sidecar = await this.readSidecar(uuid);
      const owner = sidecar && typeof sidecar.server_uuid === 'string' ? sidecar.server_uuid : null;
      out.push({ uuid, serverUuid: owner, size, ageSeconds: Math.max(0, Math.floor((nowMs - mtime) / 1000)) });
    }
    return out;
  }

  /** Removes temporary files a crashed run left behind (archives being written, spooled parts). */
  async removeTemporaryFiles(): Promise<string[]> {
    const removed: string[] = [];
    for (const name of await readdir(this.dir)) {
      if (name.endsWith('.tmp') || name.includes('.tmp-') || name.startsWith('.backwing-')) {
        await rm(join(this.dir, name), { force: true, recursive: true });
        removed.push(name);
      }
    }
    return removed;
  }
}
