/**
 * The sidecar's command line as an admin uses it: a Pelican node's config with `${VAR}` and
 * `file://` values, `daemon adopt` on both backup layouts (and its dry run), and the one-line
 * exit-2 errors for values it cannot use. Real processes, real files, an upstream-panel stand-in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { tempDir, writeTree, readTree, uuid, gnuTarArchive } from './support/helpers.ts';
import { startUpstreamPanel } from './support/upstream-panel.ts';
import { startSidecarProcess } from './support/daemon-process.ts';
import { httpRequest } from './support/http-request.ts';
import { startWingsWithGame } from '../control/support/wings-with-game.ts';

const BIN = fileURLToPath(new URL('../../bin/backwing.js', import.meta.url));
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');


function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** A config the daemon refuses: exit 2 and one stderr line matching `expected`. */
async function assertRefused(what: string, args: string[], expected: RegExp, env?: Record<string, string>): Promise<void> {
  const res = await run(args, env);
  assert.equal(res.code, 2, `${what}: ${res.stderr}`);
  assert.match(res.stderr, expected);
  assert.equal(res.stderr.trim().split('\n').length, 1, `${what}: one line`);
}

/** Every file under dir with its sha1, to prove a command changed nothing but what it may. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(Object.entries(readTree(dir)).map(([k, v]) => [k, sha1(Buffer.from(v, 'base64'))]));
}

test("Pelican: token values from ${VAR} and file://, per-server archives served to their own server only", async () => {
  const dir = tempDir('bw-pelican-');
  const S1 = uuid();
  const S2 = uuid();
  const panel = await startUpstreamPanel({ servers: [S1, S2] });
  // Wings itself (state, power): the sidecar stops the server before a restore through it.
  const wings = await startWingsWithGame({ token: panel.token, servers: [S1, S2] });
  let daemon: Awaited<ReturnType<typeof startSidecarProcess>> | undefined;
  try {
    const root = join(dir.path, 'pelican');
    const backups = join(root, 'backups');
    const data = join(root, 'volumes');
    mkdirSync(join(data, S1), { recursive: true });
    const mine = uuid();
    const theirs = uuid();
    const tree = gnuTarArchive(join(backups, S1, `${mine}.tar.gz`), { 'level.dat': 'pelican world' }, join(dir.path, 't1'));
    gnuTarArchive(join(backups, S2, `${theirs}.tar.gz`), { 'secret.txt': 'S2 only' }, join(dir.path, 't2'));
    mkdirSync(join(dir.path, 'creds'));
    writeFileSync(join(dir.path, 'creds', 'token'), `${panel.token}\n`);
    const cfg = join(dir.path, 'config.yml');
    writeFileSync(cfg, stringify({
      uuid: uuid(),
      token_id: '${PANEL_NODE_ID}',
      token: 'file://${CREDENTIALS_DIRECTORY}/token',
      api: { host: '0.0.0.0', port: Number(new URL(wings.url).port), ssl: { enabled: false } },
      system: { root_directory: root, data, backup_directory: backups, user: { uid: 999, gid: 999 }, backups: { remove_backups_on_server_delete: true, restore_host_allowlist: [] } },
      remote: panel.url,
    }));
    daemon = await startSidecarProcess(cfg, ['--listen', '127.0.0.1:0'], { env: { PANEL_NODE_ID: panel.tokenId, CREDENTIALS_DIRECTORY: join(dir.path, 'creds') } });
    const node = panel.node(daemon.url);
    panel.addBackup(S1, mine, true);
    panel.addBackup(S2, theirs, true);

    // The panel accepted the node's token_id.token, and the daemon checks the panel's JWT with the file's token.
    const dl = await httpRequest(await node.downloadUrl(S1, mine));
    assert.equal(dl.status, 200, dl.text);
    assert.ok(dl.body.equals(readFileSync(join(backups, S1, `${mine}.tar.gz`))));
    // In the per-server layout the directory names the owner: S1 cannot have S2's archive.
    assert.equal((await node.restore(S1, theirs, true)).status, 404);
    assert.equal((await httpRequest(await node.downloadUrl(S1, theirs))).status, 404);
    assert.ok(!existsSync(join(backups, S2, `${theirs}.json`)), 'a refused naming adopts nothing');

    assert.equal((await node.restore(S1, mine, true)).status, 202);
    assert.deepEqual((await panel.waitForReport((r) => r.path === `/backups/${mine}/restore`)).body, { successful: true });
    assert.deepEqual(readTree(join(data, S1)), readTree(tree));
    assert.deepEqual(wings.powerActions(S1), ['stop', 'start'], 'stopped through Wings, restored, started again');

    // New backups go where Pelican's Wings puts them, so switching back keeps them.
    const { uuid: fresh } = await node.backup(S1);
    const report = await panel.waitForReport((r) => r.path === `/backups/${fresh}`);
    assert.equal(report.body.successful, true);
    assert.ok(existsSync(join(backups, S1, `${fresh}.tar.gz`)));
    assert.deepEqual(panel.unknownFields, []);
  } finally {
    await daemon?.stop();
    await panel.close();
    await wings.close();
    dir.cleanup();
  }
});

test('adopt claims both layouts read-only until done; --dry-run writes nothing', async () => {
  const dir = tempDir('bw-adopt-');
  try {
    const S1 = uuid();
    const S2 = uuid();
    // Pterodactyl: flat.
    const flat = join(dir.path, 'flat');
    const a = uuid();
    const b = uuid();
    const claimed = uuid();
    const broken = uuid();
    gnuTarArchive(join(flat, `${a}.tar.gz`), { 'a.txt': 'a' }, join(dir.path, 'ta'));
    gnuTarArchive(join(flat, `${b}.tar.gz`), { 'b.txt': 'b'.repeat(10_000) }, join(dir.path, 'tb'));
    gnuTarArchive(join(flat, `${claimed}.tar.gz`), { 'c.txt': 'c' }, join(dir.path, 'tc'));
    writeFileSync(join(flat, `${claimed}.json`), JSON.stringify({ server_uuid: S1, checksum: 'x', checksum_type: 'sha256', size: 1, created_at: 'then' }));
    const whole = readFileSync(join(flat, `${b}.tar.gz`));
    writeFileSync(join(flat, `${broken}.tar.gz`), whole.subarray(0, whole.length - 40));
    symlinkSync('/etc/hostname', join(flat, `${uuid()}.tar.gz`));
    writeFileSync(join(flat, 'notes.txt'), 'hi');
    const ptCfg = join(dir.path, 'pt.yml');
    writeFileSync(ptCfg, stringify({ uuid: 'n', token_id: 'id', token: 't'.repeat(32), remote: 'http://127.0.0.1:1', system: { root_directory: dir.path, backup_directory: flat } }));

    const before = snapshot(flat);
    const dry = await run(['daemon', 'adopt', '--wings-config', ptCfg, '--dry-run', '--json']);
    assert.equal(dry.code, 0, dry.stderr);
    const dr = JSON.parse(dry.stdout);
    assert.equal(dr.dry_run, true);
    assert.equal(dr.archives, 4);
    assert.equal(dr.already_claimed, 1);
    assert.deepEqual(dr.adopted.map((x: { uuid: string }) => x.uuid).sort(), [a, b].sort());
    assert.deepEqual(dr.unreadable.map((x: { path: string }) => x.path), [`${broken}.tar.gz`]);
    assert.equal(dr.ignored.length, 2, 'the symlink and the stray file');
    assert.deepEqual(snapshot(flat), before, 'a dry run writes nothing');

    const real = await run(['daemon', 'adopt', '--wings-config', ptCfg]);
    assert.equal(real.code, 0, real.stderr);
    assert.match(real.stdout, /4 archive\(s\), 1 already claimed, 2 adopted, 1 unreadable/);
    const after = snapshot(flat);
    for (const [name, hash] of Object.entries(before)) assert.equal(after[name], hash, `${name} unchanged`);
    assert.deepEqual(Object.keys(after).filter((n) => !(n in before)).sort(), [`${a}.json`, `${b}.json`].sort(), 'only sidecars were written');
    const sb = JSON.parse(readFileSync(join(flat, `${b}.json`), 'utf8'));
    assert.deepEqual({ ...sb, created_at: null, adopted_at: null }, { server_uuid: null, checksum: sha1(whole), checksum_type: 'sha1', size: whole.length, created_at: null, adopted_at: null });
    assert.ok(!readdirSync(flat).some((n) => n.includes('.tmp')), 'no temporary files left');
    const again = await run(['daemon', 'adopt', '--wings-config', ptCfg, '--json']);
    assert.equal(JSON.parse(again.stdout).adopted.length, 0, 'a second run has nothing left to adopt');

    // Pelican: per-server directories name the owner.
    const per = join(dir.path, 'per');
    const p1 = uuid();
    const p2 = uuid();
    gnuTarArchive(join(per, S1, `${p1}.tar.gz`), { 'x': '1' }, join(dir.path, 'p1'));
    gnuTarArchive(join(per, S2, `${p2}.tar.gz`), { 'y': '2' }, join(dir.path, 'p2'));
    const plCfg = join(dir.path, 'pl.yml');
    writeFileSync(plCfg, stringify({ uuid: 'n', token_id: 'id', token: 't'.repeat(32), remote: 'http://127.0.0.1:1', system: { root_directory: dir.path, backup_directory: per, backups: { remove_backups_on_server_delete: true } } }));
    const perDry = await run(['daemon', 'adopt', '--wings-config', plCfg, '--dry-run']);
    assert.equal(perDry.code, 0, perDry.stderr);
    assert.match(perDry.stdout, /dry run: nothing written/);
    assert.ok(!existsSync(join(per, S1, `${p1}.json`)));
    const perRun = await run(['daemon', 'adopt', '--wings-config', plCfg, '--json']);
    const pr = JSON.parse(perRun.stdout);
    assert.deepEqual(pr.adopted.map((x: { uuid: string; server_uuid: string }) => [x.uuid, x.server_uuid]).sort(), [[p1, S1], [p2, S2]].sort());
    assert.equal(JSON.parse(readFileSync(join(per, S2, `${p2}.json`), 'utf8')).server_uuid, S2);
  } finally {
    dir.cleanup();
  }
});

test('a Wings config the sidecar cannot use: one line naming the key, exit 2', async () => {
  const dir = tempDir('bw-badcfg-');
  try {
    const base = { uuid: 'n', token_id: 'id', token: 't'.repeat(32), remote: 'http://127.0.0.1:1', system: { root_directory: dir.path } };
    const cases: Array<[string, object, RegExp, Record<string, string>?]> = [
      ['level.yml', { ...base, system: { ...base.system, backups: { compression_level: 'fastest' } } }, /level\.yml: system\.backups\.compression_level must be none, best_speed or best_compression/],
      ['port.yml', { ...base, api: { port: 'eighty' } }, /port\.yml: api\.port must be a number/],
      ['var.yml', { ...base, token: '${NODE_TOKEN}', system: { ...base.system, backups: { remove_backups_on_server_delete: true } } }, /var\.yml: token uses the environment variable NODE_TOKEN, which is not set/],
    ];
    for (const [name, doc, expected, env] of cases) {
      const path = join(dir.path, name);
      writeFileSync(path, stringify(doc));
      await assertRefused(name, ['daemon', '--wings-config', path], expected, env);
    }
    const missing = await run(['daemon', '--wings-config', join(dir.path, 'nope.yml')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.yml: cannot read the Wings config file \(ENOENT\)/);
    const both = await run(['daemon', '--config', 'a', '--wings-config', 'b']);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /either --config or --wings-config/);
  } finally {
    dir.cleanup();
  }
});

test("backwing's control file beside Wings (--control-config) it cannot use: exit 2, one line naming the key in that file", async () => {
  const dir = tempDir('bw-badcontrol-');
  try {
    const wingsCfg = join(dir.path, 'config.yml');
    writeFileSync(wingsCfg, stringify({ uuid: 'n', token_id: 'id', token: 't'.repeat(32), remote: 'http://127.0.0.1:1', system: { root_directory: dir.path } }));
    mkdirSync(join(dir.path, 'etc'));
    const cases: Array<[string, object, RegExp]> = [
      ['preset.yml', { control: { save_hooks: { default: 'minecraft-jav' } } }, /preset\.yml: control\.save_hooks\.default is invalid/],
      ['typo.yml', { control: { save_hook: { default: 'minecraft-java' } } }, /typo\.yml: control\.save_hook is not a control setting/],
      ['server.yml', { control: { servers: { 'not-a-uuid': { save_hook: 'none' } } } }, /server\.yml: control\.servers\.not-a-uuid is not a server uuid/],
    ];
    for (const [name, doc, expected] of cases) {
      const path = join(dir.path, 'etc', name);
      writeFileSync(path, stringify(doc));
      await assertRefused(name, ['daemon', '--wings-config', wingsCfg, '--control-config', path], expected);
    }
    const missing = await run(['daemon', '--wings-config', wingsCfg, '--control-config', join(dir.path, 'nope.yml')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.yml: cannot read the control file \(ENOENT\)/);
    const own = await run(['daemon', '--config', wingsCfg, '--control-config', join(dir.path, 'etc', 'preset.yml')]);
    assert.equal(own.code, 2);
    assert.match(own.stderr, /--control-config go with --wings-config/);
    const help = await run(['daemon', '--help']);
    assert.match(help.stdout, /--control-config <file>/);
    assert.match(help.stdout, /\/etc\/backwing\/control\.yml/);
  } finally {
    dir.cleanup();
  }
});
