/**
 * The systemd units in deploy/systemd: `systemd-analyze verify` accepts them (with ExecStart pointed
 * at an executable the test creates, since verify checks it exists), and each keeps the hardening
 * and write limits docs/production.md promises.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const UNITS_DIR = fileURLToPath(new URL('../../deploy/systemd/', import.meta.url));
const INSTALLED_BIN = '/usr/local/bin/backwing';
let tmp: string;

before(() => {
  tmp = mkdtempSync(join(tmpdir(), 'bw-units-'));
  mkdirSync(join(tmp, 'bin'));
  writeFileSync(join(tmp, 'bin', 'backwing'), '#!/bin/sh\nexit 0\n');
  chmodSync(join(tmp, 'bin', 'backwing'), 0o755);
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Every `Key=value` of a unit file; repeated keys keep all their values. */
function directives(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  }
  return out;
}

function verify(files: string[]) {
  return spawnSync('systemd-analyze', ['verify', ...files], { encoding: 'utf8' });
}

const units = readdirSync(UNITS_DIR).filter((f) => f.endsWith('.service')).sort();

test('the repository ships the panel, daemon and single-box units', () => {
  assert.deepEqual(units, ['backwing-daemon.service', 'backwing-panel.service', 'backwing.service']);
});

test('systemd-analyze verify accepts every unit', () => {
  const copies = units.map((u) => {
    const text = readFileSync(join(UNITS_DIR, u), 'utf8');
    assert.ok(text.includes(`ExecStart=${INSTALLED_BIN} `), `${u} runs ${INSTALLED_BIN}`);
    const copy = join(tmp, u);
    writeFileSync(copy, text.replaceAll(`ExecStart=${INSTALLED_BIN} `, `ExecStart=${join(tmp, 'bin', 'backwing')} `));
    return copy;
  });
  const r = verify(copies);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr.trim(), '', 'no warnings');
});

test('verify is not a no-op: a unit whose binary is missing fails', () => {
  const copy = join(tmp, 'missing-bin.service');
  writeFileSync(copy, readFileSync(join(UNITS_DIR, 'backwing-panel.service'), 'utf8').replaceAll(INSTALLED_BIN, join(tmp, 'bin', 'nope')));
  const r = verify([copy]);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /not executable|No such file/);
});

const WRITABLE: Record<string, string[]> = {
  'backwing-panel.service': ['/var/lib/backwing'],
  'backwing-daemon.service': ['/srv/backwing/volumes', '/srv/backwing/backups', '/var/lib/backwing-daemon'],
  'backwing.service': ['/var/lib/backwing'],
};

for (const unit of Object.keys(WRITABLE)) {
  test(`${unit}: dedicated user, hardening, writes limited to its data`, () => {
    const d = directives(readFileSync(join(UNITS_DIR, unit), 'utf8'));
    const one = (k: string) => d.get(k)?.at(-1);
    assert.equal(one('User'), 'backwing');
    assert.equal(one('NoNewPrivileges'), 'yes');
    assert.equal(one('ProtectSystem'), 'strict');
    assert.equal(one('ProtectHome'), 'yes');
    assert.equal(one('PrivateTmp'), 'yes');
    assert.deepEqual(one('ReadWritePaths')?.split(/\s+/), WRITABLE[unit]);
    const caps = (one('CapabilityBoundingSet') ?? '').split(/\s+/).filter(Boolean).sort();
    if (unit === 'backwing-panel.service') assert.deepEqual(caps, [], 'the panel keeps no capability');
    else {
      assert.deepEqual(caps, ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FOWNER'], 'the daemon keeps what restores as the game user need, nothing more');
      assert.deepEqual((one('AmbientCapabilities') ?? '').split(/\s+/).sort(), caps);
    }
  });
}
