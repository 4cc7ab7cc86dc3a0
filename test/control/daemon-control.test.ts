/**
 * The daemon process with server control, against stand-ins over loopback: Wings' HTTP API in
 * front of a game that prints Minecraft's save messages, a real RCON server, and exec scripts.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakePanel, type FakePanel } from '../daemon/support/fake-panel.ts';
import { startDaemonProcess, type DaemonProcess } from '../daemon/support/daemon-process.ts';
import { tempDir, api, uuid, waitUntil, writeTree, random } from '../daemon/support/helpers.ts';
import { startWingsWithGame, type WingsWithGame, type WingsWithGameOptions } from './support/wings-with-game.ts';
import { startRconServer } from './support/rcon-server.ts';
import { buildTarGz } from '../daemon/support/hostile-tar.ts';

const cleanups: (() => Promise<unknown> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const WINGS_TOKEN = 'wings-node-token-0123456789';

interface Env {
  server: string;
  panel: FakePanel;
  wings: WingsWithGame;
  daemon: DaemonProcess;
  call: ReturnType<typeof api>;
  restart(): Promise<void>;
}

async function env(o: { control: Record<string, unknown>; wings?: Partial<WingsWithGameOptions>; writeLimitMiB?: number; system?: Record<string, unknown> }): Promise<Env> {
  const server = uuid();
  const dir = tempDir('bw-control-');
  const panel = await startFakePanel({ servers: [server] });
  const wings = await startWingsWithGame({ token: WINGS_TOKEN, servers: [server], ...o.wings });
  cleanups.push(() => dir.cleanup(), () => panel.close(), () => wings.close());
  const control = { ...o.control, ...(o.control.type === 'wings' || o.control.power === 'wings' ? { wings: { url: wings.url, token: WINGS_TOKEN } } : {}) };
  const start = async () => {
    const d = await startDaemonProcess({ root: dir.path, panelUrl: panel.url, token: panel.token, tokenId: panel.tokenId, writeLimitMiB: o.writeLimitMiB, extra: { control }, ...(o.system ? { system: o.system } : {}) });
    cleanups.push(() => d.kill());
    await waitUntil(async () => (await api(d.url, panel.token)('GET', '/api/system')).json?.healthy === true, 15_000, 'servers loaded');
    return d;
  };
  const e: Env = {
    server,
    panel,
    wings,
    daemon: await start(),
    call: null as never,
    async restart() {
      e.daemon = await start();
      e.call = api(e.daemon.url, panel.token);
    },
  };
  e.call = api(e.daemon.url, panel.token);
  writeTree(join(e.daemon.data, server), { 'world/level.dat': 'level', 'server.properties': 'motd=hi\n' });
  return e;
}

async function backup(e: Env, body: Record<string, unknown> = {}) {
  const id = uuid();
  const res = await e.call('POST', `/api/servers/${e.server}/backup`, { adapter: 'wings', uuid: id, ignore: '', ...body });
  assert.equal(res.status, 202, res.text);
  const report = await e.panel.waitForReport((r) => r.path === `/backups/${id}`, 30_000);
  return { id, report };
}

test('wings + minecraft-java: save-off, save-all flush (confirmed from the console), backup, save-on, then the report', async () => {
  const e = await env({ control: { type: 'wings', save_hooks: { default: 'minecraft-java' } } });
  const sys = await e.call('GET', '/api/system');
  assert.deepEqual(sys.json.control, { kind: 'wings', power: 'wings', restore_stops_server: true, save_hooks: ['none', 'minecraft-java', 'minecraft-bedrock', 'source', 'custom'], default_save_hook: 'minecraft-java' });
  const { report } = await backup(e);
  assert.equal(report.body.successful, true);
  assert.deepEqual(e.wings.commands(e.server), ['save-off', 'save-all flush', 'save-on']);
  // The save was awaited: the game's "Saved the game" was printed before the archive was read.
  const logs = e.wings.logs.get(e.server)!;
  assert.ok(logs.findIndex((l) => l.includes('Saved the game')) < logs.findIndex((l) => l.includes('Automatic saving is now enabled')));
  const saveOn = e.wings.calls.find((c) => c.body?.commands?.[0] === 'save-on')!;
  assert.ok(saveOn.at <= report.at, 'save-on before the report');
  assert.ok(e.wings.calls.every((c) => !c.path.includes('/power')), 'a backup never stops the server');
});

test('wings + minecraft-bedrock from the request: save hold, save query until ready, save resume; bad hooks are 400', async () => {
  const e = await env({ control: { type: 'wings', save_hooks: { allowed: ['minecraft-bedrock'] } }, wings: { queryNotReady: 2 } });
  const { report } = await backup(e, { save_hook: { preset: 'minecraft-bedrock' } });
  assert.equal(report.body.successful, true);
  assert.deepEqual(e.wings.commands(e.server), ['save hold', 'save query', 'save query', 'save query', 'save resume']);
  const refused = await e.call('POST', `/api/servers/${e.server}/backup`, { adapter: 'wings', uuid: uuid(), save_hook: { preset: 'minecraft-java' } });
  assert.equal(refused.status, 400);
  assert.match(refused.json.error, /not allowed on this node/);
});

test('the after-step runs when the save is never confirmed (backup failed) and when the backup is deleted mid-way', async () => {
  const e = await env({ control: { type: 'wings', save_hooks: { default: 'minecraft-java', timeout: 1 } }, wings: { neverSaves: true } });
  const { report } = await backup(e);
  assert.equal(report.body.successful, false);
  assert.equal(report.body.failure_reason, 'save hook minecraft-java: the game did not confirm "save-all flush" within 1 s');
  assert.deepEqual(e.wings.commands(e.server), ['save-off', 'save-all flush', 'save-on']);
});

test('the after-step runs when a running backup is deleted, and after kill -9 the restarted daemon sends the one it owed', async () => {
  const e = await env({ control: { type: 'wings', save_hooks: { default: 'minecraft-java' } }, writeLimitMiB: 1 });
  writeTree(join(e.daemon.data, e.server), { 'a.bin': random(3 * 1024 * 1024), 'b.bin': random(3 * 1024 * 1024) });

  const cancelled = uuid();
  assert.equal((await e.call('POST', `/api/servers/${e.server}/backup`, { adapter: 'wings', uuid: cancelled })).status, 202);
  await waitUntil(() => readdirSync(e.daemon.backups).some((n) => n.endsWith('.tmp')), 10_000, 'archive being written');
  assert.equal((await e.call('DELETE', `/api/servers/${e.server}/backup/${cancelled}`)).status, 204);
  assert.equal((await e.panel.waitForReport((r) => r.path === `/backups/${cancelled}`)).body.successful, false);
  assert.deepEqual(e.wings.commands(e.server), ['save-off', 'save-all flush', 'save-on']);

  const crashed = uuid();
  assert.equal((await e.call('POST', `/api/servers/${e.server}/backup`, { adapter: 'wings', uuid: crashed })).status, 202);
  await waitUntil(() => readdirSync(e.daemon.backups).some((n) => n.endsWith('.tmp')), 10_000, 'archive being written');
  await e.daemon.kill();
  assert.deepEqual(e.wings.commands(e.server).slice(3), ['save-off', 'save-all flush'], 'killed while the game holds its saves');
  await e.restart();
  await waitUntil(() => e.wings.commands(e.server).length === 6, 15_000, 'owed save-on');
  assert.equal(e.wings.commands(e.server)[5], 'save-on');
  assert.equal((await e.panel.waitForReport((r) => r.path === `/backups/${crashed}`)).body.successful, false);
  await e.daemon.stop();
});

test('restore with wings: stopped (202, then polled until offline), restored with the game user as owner, started again', async () => {
  assert.equal(process.getuid?.(), 0, 'this test checks chown and must run as root');
  const e = await env({ control: { type: 'wings' }, system: { user: { uid: 4321, gid: 4322 } } });
  const dir = join(e.daemon.data, e.server);
  const { id, report } = await backup(e);
  assert.equal(report.body.successful, true);
  writeFileSync(join(dir, 'world/level.dat'), 'broken');
  writeFileSync(join(dir, 'junk.txt'), 'junk');
  const res = await e.call('POST', `/api/servers/${e.server}/backup/${id}/restore`, { adapter: 'wings', truncate_directory: true });
  assert.equal(res.status, 202, res.text);
  const done = await e.panel.waitForReport((r) => r.path === `/backups/${id}/restore`, 30_000);
  assert.equal(done.body.successful, true);
  assert.deepEqual(e.wings.powerActions(e.server), ['stop', 'start']);
  // It waited for offline before touching anything: the state was read after the stop at least once.
  const stopAt = e.wings.calls.find((c) => c.path.endsWith('/power'))!.at;
  assert.ok(e.wings.calls.some((c) => c.method === 'GET' && c.path === `/api/servers/${e.server}` && c.at > stopAt));
  assert.equal(readFileSync(join(dir, 'world/level.dat'), 'utf8'), 'level');
  assert.ok(!existsSync(join(dir, 'junk.txt')));
  for (const f of ['world/level.dat', 'server.properties', 'world']) {
    const st = statSync(join(dir, f));
    assert.deepEqual([st.uid, st.gid], [4321, 4322], f);
  }
  await waitUntil(() => e.wings.states.get(e.server) === 'running', 10_000, 'running again');
});

test('restore when the server will not stop: a clear failure, nothing truncated or written, not started', async () => {
  const e = await env({ control: { type: 'wings', stop_timeout: 1 }, wings: { neverStops: true } });
  const dir = join(e.daemon.data, e.server);
  const { id } = await backup(e);
  writeFileSync(join(dir, 'world/level.dat'), 'newer');
  writeFileSync(join(dir, 'keep.txt'), 'keep');
  const res = await e.call('POST', `/api/servers/${e.server}/backup/${id}/restore`, { adapter: 'wings', truncate_directory: true });
  assert.equal(res.status, 202);
  const done = await e.panel.waitForReport((r) => r.path === `/backups/${id}/restore`, 30_000);
  assert.equal(done.body.successful, false);
  assert.equal(readFileSync(join(dir, 'world/level.dat'), 'utf8'), 'newer');
  assert.equal(readFileSync(join(dir, 'keep.txt'), 'utf8'), 'keep');
  assert.deepEqual(e.wings.powerActions(e.server), ['stop']);
  assert.equal(done.body.failure_reason, 'the server could not be stopped before the restore (the server did not stop within 1 s (still running)); nothing was changed');
  // Not stuck restoring: another restore is accepted.
  assert.equal((await e.call('POST', `/api/servers/${e.server}/backup/${id}/restore`, { adapter: 'wings' })).status, 202);
});

test('rcon: minecraft-java over RCON with the password from server.properties; a wrong password fails the backup', async () => {
  const rcon = await startRconServer({
    password: 'from-properties',
    protocol: 'minecraft',
    reply: (c) => (c === 'save-all flush' ? 'Saving the game (this may take a moment!)Saved the game' : c === 'save-off' ? 'Automatic saving is now disabled' : 'Automatic saving is now enabled'),
    maxBody: 16,
  });
  cleanups.push(() => rcon.close());
  const e = await env({ control: { type: 'rcon', save_hooks: { default: 'minecraft-java' } } });
  const props = join(e.daemon.data, e.server, 'server.properties');
  writeFileSync(props, `enable-rcon=true\nrcon.port=${rcon.port}\nrcon.password=from-properties\n`);
  const ok = await backup(e);
  assert.equal(ok.report.body.successful, true);
  assert.deepEqual(rcon.commands, ['save-off', 'save-all flush', 'save-on']);
  assert.equal((await e.call('GET', '/api/system')).json.control.restore_stops_server, false);

  writeFileSync(props, `rcon.port=${rcon.port}\nrcon.password=wrong-one\n`);
  const bad = await backup(e);
  assert.equal(bad.report.body.successful, false);
  assert.ok(rcon.refusedLogins >= 2, 'before-step and after-step both tried');
  assert.ok(!e.daemon.stderr().includes('wrong-one') && !e.daemon.stderr().includes('from-properties'), 'password never logged');
});

test('exec: state/stop/start/command programs run without a shell with the uuid; restore stops and starts, source preset saves', async () => {
  const e0 = tempDir('bw-exec-');
  cleanups.push(() => e0.cleanup());
  const log = join(e0.path, 'calls.log');
  const stateFile = join(e0.path, 'state.txt');
  writeFileSync(stateFile, 'active\n');
  const script = (name: string, body: string) => {
    const p = join(e0.path, name);
    writeFileSync(p, `#!/bin/sh\necho "${name} $*" >> ${log}\n${body}\n`);
    chmodSync(p, 0o755);
    return p;
  };
  const e = await env({
    control: {
      type: 'exec',
      exec: {
        state: [script('state', `cat ${stateFile}`)],
        stop: [script('stop', `echo inactive > ${stateFile}`)],
        start: [script('start', `echo active > ${stateFile}`)],
        command: [script('cmd', 'echo "ran: $2"'), '{uuid}', '{command}'],
        timeout: 5,
      },
      save_hooks: { allowed: ['source'], default: 'source', source_command: 'SaveWorld; rm -rf /' },
    },
  });
  const { id, report } = await backup(e);
  assert.equal(report.body.successful, true);
  const res = await e.call('POST', `/api/servers/${e.server}/backup/${id}/restore`, { adapter: 'wings' });
  assert.equal(res.status, 202);
  assert.equal((await e.panel.waitForReport((r) => r.path === `/backups/${id}/restore`, 30_000)).body.successful, true);
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  // The whole command is one argument: no shell ever sees the ";".
  assert.deepEqual(lines.filter((l) => !l.startsWith('state')), [`cmd ${e.server} SaveWorld; rm -rf /`, `stop ${e.server}`, `start ${e.server}`]);
  assert.ok(lines.some((l) => l === `state ${e.server}`));
  assert.equal(readFileSync(stateFile, 'utf8').trim(), 'active');
});

test('a file appended to while it is read is counted in the report (changed_files); untouched backups report zero', async () => {
  const e = await env({ control: {}, writeLimitMiB: 8 });
  const dir = join(e.daemon.data, e.server);
  // Incompressible and larger than the pipeline reads ahead, so reading it spans the write limit.
  writeTree(dir, { 'z.log': random(24 * 1024 * 1024) });
  const clean = await backup(e);
  assert.deepEqual(clean.report.body.changed_files, { count: 0, names: [], inconsistent: 0 });

  let appending = true;
  const appender = (async () => {
    const { appendFile } = await import('node:fs/promises');
    while (appending) {
      await appendFile(join(dir, 'z.log'), 'a line the game wrote meanwhile\n');
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  try {
    const { report } = await backup(e);
    assert.equal(report.body.successful, true);
    assert.ok(report.body.changed_files.count >= 1, JSON.stringify(report.body.changed_files));
    assert.ok(report.body.changed_files.names.includes('z.log'));
  } finally {
    appending = false;
    await appender;
  }
});

test('an S3 restore whose link dies while the server stops: failed, files untouched, and the server is started again', async () => {
  const e = await env({ control: { type: 'wings' }, wings: { powerDelayMs: 500 } });
  const dir = join(e.daemon.data, e.server);
  e.panel.blobs.set('once', { status: 200, contentType: 'application/gzip', body: buildTarGz([{ name: 'world/level.dat', content: Buffer.from('from s3') }]) });
  const id = uuid();
  const res = await e.call('POST', `/api/servers/${e.server}/backup/${id}/restore`, { adapter: 's3', truncate_directory: true, download_url: `${e.panel.url}/blob/once` });
  assert.equal(res.status, 202, res.text);
  // Checked before the 202, fetched again once the server is down: by then the link is gone.
  e.panel.blobs.delete('once');
  const done = await e.panel.waitForReport((r) => r.path === `/backups/${id}/restore`, 30_000);
  assert.equal(done.body.successful, false);
  assert.equal(readFileSync(join(dir, 'world/level.dat'), 'utf8'), 'level', 'not truncated: truncation waits for the download');
  assert.deepEqual(e.wings.powerActions(e.server), ['stop', 'start']);
});

test('bedrock: a save query that never says ready fails the backup after save_hooks.timeout, and save resume still runs', async () => {
  const e = await env({ control: { type: 'wings', save_hooks: { default: 'minecraft-bedrock', timeout: 2 } }, wings: { queryNotReady: 1_000_000 } });
  const { report } = await backup(e);
  assert.equal(report.body.successful, false);
  const cmds = e.wings.commands(e.server);
  assert.equal(cmds[0], 'save hold');
  assert.ok(cmds.filter((c) => c === 'save query').length >= 1);
  assert.equal(cmds.at(-1), 'save resume');
  assert.equal(report.body.failure_reason, 'save hook minecraft-bedrock: the game did not confirm "save query" within 2 s');
});

test('daemon shutdown (SIGTERM) during a backup: the after-step is sent before the process exits', async () => {
  const e = await env({ control: { type: 'wings', save_hooks: { default: 'minecraft-java' } }, writeLimitMiB: 1 });
  writeTree(join(e.daemon.data, e.server), { 'a.bin': random(4 * 1024 * 1024) });
  const id = uuid();
  assert.equal((await e.call('POST', `/api/servers/${e.server}/backup`, { adapter: 'wings', uuid: id })).status, 202);
  await waitUntil(() => readdirSync(e.daemon.backups).some((n) => n.endsWith('.tmp')), 10_000, 'archive being written');
  assert.equal(await e.daemon.stop(), 0);
  assert.deepEqual(e.wings.commands(e.server), ['save-off', 'save-all flush', 'save-on']);
  assert.equal((await e.panel.waitForReport((r) => r.path === `/backups/${id}`)).body.successful, false);
});
