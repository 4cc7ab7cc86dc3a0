/**
 * Where `backwing up` keeps everything under its --data directory. One place, so the README, the
 * CLI output and the code agree.
 */
import { constants } from 'node:fs';
import { access, mkdir, open, rename, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CliError } from '../core/cli-error.ts';

export interface DataLayout {
  root: string;
  panelDb: string;
  daemonRoot: string;
  daemonConfig: string;
  volumes: string;
  backups: string;
  /** The generated admin password (mode 0600). */
  adminPasswordFile: string;
  /** The client API key (mode 0600); the panel keeps only its hash, so this is the only copy. */
  apiKeyFile: string;
  /** Which node and server `up` created, so later runs reuse them. */
  stackFile: string;
}

export function dataLayout(dir: string): DataLayout {
  const root = resolve(dir);
  return {
    root,
    panelDb: join(root, 'panel.sqlite'),
    daemonRoot: join(root, 'daemon'),
    daemonConfig: join(root, 'daemon', 'config.yml'),
    volumes: join(root, 'volumes'),
    backups: join(root, 'backups'),
    adminPasswordFile: join(root, 'admin-password.txt'),
    apiKeyFile: join(root, 'api-key.txt'),
    stackFile: join(root, 'stack.json'),
  };
}

/** Creates the folders and proves we can write there, so a read-only --data fails in one line, up front. */
export async function prepareDataDir(layout: DataLayout): Promise<void> {
  try {
    for (const d of [layout.root, layout.daemonRoot, layout.volumes, layout.backups]) await mkdir(d, { recursive: true });
    const probe = join(layout.root, `.write-probe-${process.pid}`);
    await writeFile(probe, 'ok');
    await unlink(probe);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new CliError(`data directory ${layout.root} is not writable (${code}); pick another with --data`);
  }
}

export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    await access(path, constants.R_OK);
  } catch {
    return undefined;
  }
  const { readFile } = await import('node:fs/promises');
  return readFile(path, 'utf8');
}

/** Writes a secret file readable only by its owner; tmp + rename so a crash never leaves half a key. */
export async function writeSecretFile(path: string, content: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

/**
 * One `up` per data directory: two would run two daemons over the same server files and backups.
 * The lock holds our pid; a lock left by a process that no longer exists (kill -9, power loss) is
 * taken over.
 */
export async function acquireDataLock(layout: DataLayout): Promise<() => Promise<void>> {
  const path = join(layout.root, 'up.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return async () => {
        await unlink(path).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readTextIfExists(path))?.trim());
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
        throw new CliError(`another backwing up (pid ${pid}) is already using ${layout.root}; stop it first or pick another --data`);
      }
      await unlink(path).catch(() => undefined);
    }
  }
  throw new CliError(`cannot take the lock ${path}; remove it if no backwing up is running`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
