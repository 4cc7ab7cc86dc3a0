#!/usr/bin/env node
// `npm test` runs this before the suite: it checks that the system tools the tests use are there.
// Missing ones are installed with apt-get when it can (root with apt-get on PATH), saying what and
// why; otherwise it stops at once with the exact command to run. Plain JavaScript with no
// dependencies, so it works before anything is built.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * What the suite needs from the system, one row per tool: add a row when a test needs a new one.
 * `find` lists where the tool may be: a bare name is looked up on PATH; an absolute path (a `*`
 * matches one directory level) is a file on disk, where the tests look for it.
 */
const REQUIREMENTS = [
  { tool: 'pigz', find: ['pigz'], apt: 'pigz', why: 'archive tests compare with `tar | pigz`' },
  { tool: 'bsdtar', find: ['bsdtar'], apt: 'libarchive-tools', why: 'archive interop tests read and write with bsdtar' },
  { tool: 'chromium', find: ['/usr/bin/chromium'], apt: 'chromium', why: 'web UI tests drive it through playwright-core' },
  { tool: 'initdb', find: ['/usr/lib/postgresql/*/bin/initdb'], apt: 'postgresql', why: 'panel suites start a private PostgreSQL cluster' },
  { tool: 'nginx', find: ['nginx', '/usr/sbin/nginx'], apt: 'nginx-light', why: 'the reverse-proxy test runs a real nginx' },
  { tool: 'systemd-analyze', find: ['systemd-analyze'], apt: 'systemd', why: 'deploy/systemd units are checked with systemd-analyze verify' },
  { tool: 'radosgw', find: ['radosgw'], apt: 'radosgw', why: 'destination tests run a signature-checking S3 server (Ceph radosgw)' },
  { tool: 'ceph-mon', find: ['ceph-mon'], apt: 'ceph-mon', why: 'radosgw needs a one-monitor Ceph cluster' },
  { tool: 'ceph-osd', find: ['ceph-osd'], apt: 'ceph-osd', why: 'radosgw needs one in-memory OSD' },
  { tool: 'restic', find: ['restic'], apt: 'restic', why: 'the restic backup adapter is tested against the real restic (0.14 or newer)' },
  { tool: 'libdeflate', find: ['/usr/lib/*/libdeflate.so.0', '/lib/*/libdeflate.so.0'], apt: 'libdeflate0', why: 'the native archive addon (native/) deflates and inflates gzip members with it (loaded at run time; without it zlib runs, slower)' },
];

/**
 * Absolute paths are looked up under this root; only the preflight's own test moves it, together
 * with PATH, to fake a machine that lacks a tool.
 */
const ROOT = process.env.BACKWING_PREFLIGHT_ROOT ?? '/';

function onPath(name, env) {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/** `/a/*\/b` → whether some file matches, with `*` standing for one directory level. */
function fileExists(pattern) {
  const parts = pattern.split('/').filter(Boolean);
  const walk = (dir, i) => {
    if (i === parts.length) return existsSync(dir);
    if (parts[i] !== '*') return walk(join(dir, parts[i]), i + 1);
    let names;
    try {
      names = readdirSync(dir);
    } catch {
      return false;
    }
    return names.some((n) => walk(join(dir, n), i + 1));
  };
  return walk(ROOT, 0);
}

function missing(env = process.env) {
  return REQUIREMENTS.filter((r) => !r.find.some((f) => (f.startsWith('/') ? fileExists(f) : onPath(f, env))));
}

function main() {
  const lacking = missing();
  if (lacking.length === 0) return 0;
  const packages = [...new Set(lacking.map((r) => r.apt))];
  const command = `apt-get install -y --no-install-recommends ${packages.join(' ')}`;
  const list = lacking.map((r) => `  ${r.tool} (Debian package ${r.apt}): ${r.why}`).join('\n');
  const canInstall = process.getuid?.() === 0 && onPath('apt-get', process.env);
  if (!canInstall) {
    process.stderr.write(`preflight: the test suite needs tools this machine lacks:\n${list}\nInstall them, then run npm test again:\n  sudo ${command}\n`);
    return 1;
  }
  process.stderr.write(`preflight: installing what the test suite needs:\n${list}\n  $ apt-get update && ${command}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: 'inherit', env });
  } catch (err) {
    process.stderr.write(`preflight: apt-get failed (${err.message}); run it yourself:\n  ${command}\n`);
    return 1;
  }
  const still = missing();
  if (still.length > 0) {
    process.stderr.write(`preflight: still missing after apt-get: ${still.map((r) => r.tool).join(', ')}\n`);
    return 1;
  }
  return 0;
}

process.exitCode = main();
