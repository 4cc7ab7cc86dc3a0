import * as fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

export async function tempDir(prefix = 'bw-archive-'): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return {
    path,
    cleanup: async () => {
      // Extracted trees may contain read-only dirs; make them writable before removing.
      spawnSync('chmod', ['-R', 'u+rwX', path]);
      await rm(path, { recursive: true, force: true });
    },
  };
}

export function run(cmd: string, args: string[], opts: { cwd?: string; input?: Buffer; env?: Record<string, string> } = {}): { stdout: string; stderr: string; status: number } {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, input: opts.input, env: opts.env ? { ...process.env, ...opts.env } : undefined, maxBuffer: 64 << 20, timeout: 60_000 });
  if (r.error) throw r.error;
  return { stdout: r.stdout.toString(), stderr: r.stderr.toString(), status: r.status ?? -1 };
}

export function mustRun(cmd: string, args: string[], opts: { cwd?: string; input?: Buffer } = {}): string {
  const r = run(cmd, args, opts);
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

export interface Snapshot {
  [rel: string]: { type: 'file' | 'dir' | 'symlink'; mode: number; mtime: number; content?: string; target?: string };
}

/** A comparable picture of a tree: content hash, mode, whole-second mtime, link targets. */
export function snapshot(root: string, opts: { mtimeOf?: (t: string) => boolean } = {}): Snapshot {
  const out: Snapshot = {};
  const walk = (dir: string, rel: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const abs = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(abs);
      const mtime = Math.floor(st.mtimeMs / 1000);
      if (st.isDirectory()) {
        out[r] = { type: 'dir', mode: st.mode & 0o7777, mtime };
        walk(abs, r);
      } else if (st.isSymbolicLink()) {
        out[r] = { type: 'symlink', mode: 0, mtime: 0, target: fs.readlinkSync(abs) };
      } else if (st.isFile()) {
        const data = fs.readFileSync(abs);
        out[r] = { type: 'file', mode: st.mode & 0o7777, mtime, content: `${data.length}:${hash(data)}` };
      }
    }
  };
  walk(root, '');
  return out;
}

function hash(b: Buffer): string {
  return createHash('sha1').update(b).digest('hex');
}

/** A small but varied tree: nested dirs, an empty dir, modes, mtimes, symlinks, long and non-ASCII names. */
export function buildTree(root: string): void {
  const w = (rel: string, data: string | Buffer, mode = 0o644) => {
    const p = join(root, rel);
    fs.mkdirSync(join(p, '..'), { recursive: true });
    fs.writeFileSync(p, data);
    fs.chmodSync(p, mode);
  };
  w('server.properties', 'motd=hello\nmax-players=20\n');
  w('world/level.dat', Buffer.from([1, 2, 3, 0, 255]));
  w('world/region/r.0.0.mca', randomBytes(300_000));
  w('plugins/x.jar', randomBytes(70_000), 0o755);
  w('logs/latest.log', 'line\n'.repeat(5000), 0o600);
  w('empty.txt', '');
  w(`${'long-directory-name-'.repeat(6)}/${'f'.repeat(120)}.txt`, 'long');
  w('unicodé/naïve-файл-📦.txt', 'utf8 name');
  fs.mkdirSync(join(root, 'empty-dir/nested-empty'), { recursive: true });
  fs.symlinkSync('world/level.dat', join(root, 'level-link'));
  fs.symlinkSync(`../${'t'.repeat(150)}`, join(root, 'world/long-target-link'));
  fs.chmodSync(join(root, 'plugins'), 0o750);
  const old = new Date('2020-01-02T03:04:05Z');
  fs.utimesSync(join(root, 'server.properties'), old, old);
  fs.utimesSync(join(root, 'world/level.dat'), old, old);
  const dirTime = new Date('2021-06-07T08:09:10Z');
  fs.utimesSync(join(root, 'empty-dir/nested-empty'), dirTime, dirTime);
  fs.utimesSync(join(root, 'empty-dir'), dirTime, dirTime);
}

let seed = 12345;
export function randomBytes(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    b[i] = seed >>> 24;
  }
  return b;
}
