/**
 * `npm test`'s preflight against a fake machine: a PATH and a filesystem root that hold every tool
 * but one, and a fake apt-get that records its calls and "installs" by creating the missing file.
 * As root it installs and says why; as another user it stops with the exact command to run.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PREFLIGHT = fileURLToPath(new URL('../../scripts/preflight.mjs', import.meta.url));

/** Every tool as the preflight looks for it: on PATH (bin/) or at a path under the fake root. */
const TOOLS: Array<{ tool: string; apt: string; file: string }> = [
  { tool: 'pigz', apt: 'pigz', file: 'bin/pigz' },
  { tool: 'bsdtar', apt: 'libarchive-tools', file: 'bin/bsdtar' },
  { tool: 'chromium', apt: 'chromium', file: 'root/usr/bin/chromium' },
  { tool: 'initdb', apt: 'postgresql', file: 'root/usr/lib/postgresql/15/bin/initdb' },
  { tool: 'nginx', apt: 'nginx-light', file: 'bin/nginx' },
  { tool: 'systemd-analyze', apt: 'systemd', file: 'bin/systemd-analyze' },
  { tool: 'radosgw', apt: 'radosgw', file: 'bin/radosgw' },
  { tool: 'ceph-mon', apt: 'ceph-mon', file: 'bin/ceph-mon' },
  { tool: 'ceph-osd', apt: 'ceph-osd', file: 'bin/ceph-osd' },
  { tool: 'restic', apt: 'restic', file: 'bin/restic' },
  { tool: 'libdeflate', apt: 'libdeflate0', file: 'root/usr/lib/x86_64-linux-gnu/libdeflate.so.0' },
];

let tmp: string;
before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'bw-preflight-'));
  chmodSync(tmp, 0o755); // the non-root case runs as nobody
});
after(() => rmSync(tmp, { recursive: true, force: true }));

function executable(path: string, body = '#!/bin/sh\nexit 0\n'): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, body);
  chmodSync(path, 0o755);
}

/** A fake machine lacking `without`, with an apt-get that logs its arguments and creates `installs`. */
function machine(name: string, without: string[], opts: { aptFails?: boolean } = {}) {
  const dir = join(tmp, name);
  for (const t of TOOLS) if (!without.includes(t.tool)) executable(join(dir, t.file));
  const log = join(dir, 'apt-get.log');
  const installs = TOOLS.filter((t) => without.includes(t.tool)).map((t) => join(dir, t.file));
  executable(
    join(dir, 'bin', 'apt-get'),
    `#!${process.execPath}
const fs = require('node:fs');
fs.appendFileSync(${JSON.stringify(log)}, process.argv.slice(2).join(' ') + '\\n');
if (process.argv[2] === 'install') {
  ${opts.aptFails ? 'process.exit(100);' : ''}
  for (const f of ${JSON.stringify(installs)}) { fs.mkdirSync(require('node:path').dirname(f), { recursive: true }); fs.writeFileSync(f, '#!/bin/sh\\n', { mode: 0o755 }); }
}
`,
  );
  chmodSync(dir, 0o755);
  return { dir, log, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []) };
}

function preflight(dir: string, asUser?: number) {
  const r = spawnSync(process.execPath, [PREFLIGHT], {
    env: { PATH: join(dir, 'bin'), BACKWING_PREFLIGHT_ROOT: join(dir, 'root') },
    encoding: 'utf8',
    ...(asUser === undefined ? {} : { uid: asUser, gid: asUser }),
  });
  return { code: r.status, stderr: r.stderr };
}

test('a machine with every tool passes without calling apt-get', () => {
  const m = machine('complete', []);
  const r = preflight(m.dir);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(m.calls(), []);
});

for (const t of TOOLS) {
  test(`missing ${t.tool}: root installs ${t.apt} with apt-get, saying why`, () => {
    const m = machine(`root-no-${t.tool}`, [t.tool]);
    const r = preflight(m.dir);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(m.calls(), ['update -qq', `install -y -qq --no-install-recommends ${t.apt}`]);
    assert.match(r.stderr, new RegExp(`installing[^]*${t.tool} \\(Debian package ${t.apt}\\): \\S`));
  });

  test(`missing ${t.tool}: a non-root user is told the exact command and nothing runs`, () => {
    const m = machine(`user-no-${t.tool}`, [t.tool]);
    const r = preflight(m.dir, 65534);
    assert.equal(r.code, 1);
    assert.ok(r.stderr.includes(`sudo apt-get install -y --no-install-recommends ${t.apt}\n`), r.stderr);
    assert.deepEqual(m.calls(), []);
  });
}

test('several missing tools: one apt-get update, one install of all their packages', () => {
  const m = machine('root-several', ['pigz', 'initdb', 'nginx']);
  const r = preflight(m.dir);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(m.calls(), ['update -qq', 'install -y -qq --no-install-recommends pigz postgresql nginx-light']);
});

test('apt-get failing stops at once with the command to run', () => {
  const m = machine('root-apt-fails', ['chromium'], { aptFails: true });
  const r = preflight(m.dir);
  assert.equal(r.code, 1);
  assert.ok(r.stderr.includes('apt-get install -y --no-install-recommends chromium'), r.stderr);
});
