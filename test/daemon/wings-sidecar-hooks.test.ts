/**
 * Save hooks in sidecar mode, configured in backwing's own control file (`--control-config`), since
 * Wings rewrites its config.yml at boot and drops the `control:` section. Real processes over
 * loopback: the sidecar, Wings with a game behind it (records the console commands), and the
 * upstream-panel stand-in asking for backups the way Pterodactyl does (no `save_hook` field).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { tempDir, writeTree, uuid, random, waitUntil } from './support/helpers.ts';
import { startUpstreamPanel } from './support/upstream-panel.ts';
import { startSidecarProcess } from './support/daemon-process.ts';
import { startWingsWithGame } from '../control/support/wings-with-game.ts';

const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

test('sidecar + control file: each preset in order for backups the upstream panel asks for, the after-step after a failure and after kill -9', async () => {
  const dir = tempDir('bw-sidecar-hooks-');
  const JAVA = uuid();
  const BEDROCK = uuid();
  const GONE = uuid(); // known to the panel, its volume missing: the archive fails after the save hook
  const panel = await startUpstreamPanel({ servers: [JAVA, BEDROCK, GONE] });
  const wings = await startWingsWithGame({ token: panel.token, servers: [JAVA, BEDROCK, GONE], queryNotReady: 2 });
  let daemon: Awaited<ReturnType<typeof startSidecarProcess>> | undefined;
  try {
    const root = join(dir.path, 'pterodactyl');
    const data = join(root, 'volumes');
    const backups = join(root, 'backups');
    writeTree(join(data, JAVA), { 'world/level.dat': 'java world', 'server.properties': 'motd=hi\n' });
    writeTree(join(data, BEDROCK), { 'worlds/w/level.dat': 'bedrock world' });
    const wingsCfg = join(dir.path, 'config.yml');
    writeFileSync(wingsCfg, stringify({
      uuid: uuid(),
      token_id: panel.tokenId,
      token: panel.token,
      api: { host: '127.0.0.1', port: Number(new URL(wings.url).port), ssl: { enabled: false } },
      // 1 MiB/s: slow enough for the kill -9 below to land mid-archive (the small trees take milliseconds).
      system: { root_directory: root, data, backup_directory: backups, backups: { write_limit: 1 } },
      remote: panel.url,
    }));
    const controlCfg = join(dir.path, 'control.yml');
    writeFileSync(controlCfg, stringify({ control: { save_hooks: { default: 'minecraft-java', timeout: 10 }, servers: { [BEDROCK]: { save_hook: 'minecraft-bedrock' } } } }));
    const start = async () => {
      daemon = await startSidecarProcess(wingsCfg, ['--listen', '127.0.0.1:0', '--control-config', controlCfg]);
      return panel.node(daemon.url);
    };
    let node = await start();

    // minecraft-java, the default from the control file: save-off, save-all flush, "Saved the game", archive, save-on, report.
    const java = await node.backup(JAVA);
    assert.equal(java.status, 202);
    const javaReport = await panel.waitForReport((r) => r.path === `/backups/${java.uuid}`, 30_000);
    assert.equal(javaReport.body.successful, true);
    assert.deepEqual(wings.commands(JAVA), ['save-off', 'save-all flush', 'save-on']);
    const logs = wings.logs.get(JAVA)!;
    assert.ok(logs.findIndex((l) => l.includes('Saved the game')) < logs.findIndex((l) => l.includes('Automatic saving is now enabled')), 'the save was confirmed before save-on');
    const archive = readFileSync(join(backups, `${java.uuid}.tar.gz`));
    assert.equal(javaReport.body.checksum, sha1(archive), 'the archive the report describes');
    const saveOn = wings.calls.find((c) => c.path === `/api/servers/${JAVA}/commands` && c.body.commands[0] === 'save-on')!;
    assert.ok(saveOn.at <= javaReport.at, 'save-on before the report');
    assert.ok(wings.calls.every((c) => !c.path.endsWith('/power')), 'a backup never stops the server');

    // minecraft-bedrock, the server's override: save hold, save query until ready, save resume.
    const bedrock = await node.backup(BEDROCK);
    assert.equal(bedrock.status, 202);
    assert.equal((await panel.waitForReport((r) => r.path === `/backups/${bedrock.uuid}`, 30_000)).body.successful, true);
    assert.deepEqual(wings.commands(BEDROCK), ['save hold', 'save query', 'save query', 'save query', 'save resume']);

    // A backup that fails after the save hook ran still gives the game its saving back.
    const failed = await node.backup(GONE);
    assert.equal(failed.status, 202);
    assert.equal((await panel.waitForReport((r) => r.path === `/backups/${failed.uuid}`, 30_000)).body.successful, false);
    assert.deepEqual(wings.commands(GONE), ['save-off', 'save-all flush', 'save-on']);
    assert.ok(!existsSync(join(backups, `${failed.uuid}.tar.gz`)), 'no half-written archive left');

    // kill -9 while the game holds its saves; the restarted sidecar sends the save-on it owed.
    writeTree(join(data, JAVA), { 'region/a.mca': random(3 * 1024 * 1024), 'region/b.mca': random(3 * 1024 * 1024) });
    const crashed = await node.backup(JAVA);
    assert.equal(crashed.status, 202);
    await waitUntil(() => readdirSync(backups).some((n) => n.endsWith('.tmp')), 15_000, 'archive being written');
    await daemon!.kill();
    assert.deepEqual(wings.commands(JAVA).slice(3), ['save-off', 'save-all flush'], 'killed while saving is off');
    node = await start();
    await waitUntil(() => wings.commands(JAVA).length === 6, 15_000, 'the owed save-on');
    assert.equal(wings.commands(JAVA)[5], 'save-on');
    assert.equal((await panel.waitForReport((r) => r.path === `/backups/${crashed.uuid}`, 30_000)).body.successful, false);

    // The upstream panel saw Wings' report fields only, failures included.
    assert.deepEqual(panel.unknownFields, []);
  } finally {
    await daemon?.stop();
    await panel.close();
    await wings.close();
    dir.cleanup();
  }
});
