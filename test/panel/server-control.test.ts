/**
 * Server control through the panel: the node's capability (from the daemon's /api/system), the
 * owner's save hook (stored, checked against the node, sent with each backup), changed files
 * stored from the report and returned, and a restore that stops and starts the server. SQLite and
 * PostgreSQL; the real daemon in front of a Wings stand-in.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { testDatabaseUrls } from '../support/postgres.ts';
import { startHarness, waitFor, type Harness } from './support/harness.ts';
import { startWingsWithGame, type WingsWithGame } from '../control/support/wings-with-game.ts';

const dbs = await testDatabaseUrls();
const WINGS_TOKEN = 'wings-node-token-for-panel-tests';

for (const db of dbs) {
  describe(`server control through the panel (${db.name})`, () => {
    let h: Harness;
    let wings: WingsWithGame;
    before(async () => {
      // Servers are created after the daemon starts; the stand-in answers for any uuid it is told about.
      wings = await startWingsWithGame({ token: WINGS_TOKEN, servers: [] });
      const control = { control: { type: 'wings', wings: { url: wings.url, token: WINGS_TOKEN }, save_hooks: { allowed: ['minecraft-java', 'custom'] } } };
      h = await startHarness({ databaseUrl: await db.url(), daemonYaml: stringify(control) });
    });
    after(async () => {
      await h?.close();
      await wings?.close();
    });

    async function server() {
      const s = await h.server(h.owner.id, { backupLimit: 10 });
      wings.states.set(s.uuid, 'running');
      wings.logs.set(s.uuid, []);
      const vol = join(h.daemonRoot!, 'volumes', s.uuid);
      mkdirSync(join(vol, 'world'), { recursive: true });
      writeFileSync(join(vol, 'world', 'level.dat'), 'v1');
      return s;
    }

    test('the node capability and the save hook: read, checked against the node, stored, sent with each backup', async () => {
      const s = await server();
      const path = `/api/client/servers/${s.identifier}/backup-control`;
      const first = await h.api('GET', path);
      assert.equal(first.status, 200, first.text);
      assert.deepEqual(first.body, {
        object: 'backup_control',
        attributes: {
          control: { kind: 'wings', power: 'wings', restore_stops_server: true, save_hooks: ['none', 'minecraft-java', 'custom'], default_save_hook: 'none' },
          save_hook: null,
          effective_save_hook: 'none',
          restore_stops_server: true,
        },
      });
      const refused = await h.api('PUT', path, { body: { save_hook: { preset: 'minecraft-bedrock' } } });
      assert.equal(refused.status, 422, refused.text);
      assert.match(refused.body.errors[0].detail, /not allowed on this node/);
      const smuggled = await h.api('PUT', path, { body: { save_hook: { preset: 'custom', before: ['say hi\nstop'] } } });
      assert.equal(smuggled.status, 422);

      const set = await h.api('PUT', path, { body: { save_hook: { preset: 'minecraft-java' } } });
      assert.equal(set.status, 200, set.text);
      assert.equal(set.body.attributes.effective_save_hook, 'minecraft-java');
      assert.deepEqual((await h.api('GET', path)).body.attributes.save_hook, { preset: 'minecraft-java' });

      const created = await h.api('POST', `/api/client/servers/${s.identifier}/backups`, { body: { name: 'hooked' } });
      assert.equal(created.status, 200, created.text);
      const uuid = created.body.attributes.uuid as string;
      await waitFor('completion', async () => (await h.backup(uuid))?.completed_at, 60_000);
      assert.equal((await h.backup(uuid))!.is_successful, 1);
      assert.deepEqual(wings.commands(s.uuid), ['save-off', 'save-all flush', 'save-on']);
      const view = await h.api('GET', `/api/client/servers/${s.identifier}/backups/${uuid}`);
      assert.deepEqual(view.body.attributes.changed_files, { count: 0, names: [], inconsistent: 0 });

      // Back to the node default: the next backup sends no hook and the daemon uses none.
      assert.equal((await h.api('PUT', path, { body: { save_hook: null } })).body.attributes.save_hook, null);
      const plain = await h.api('POST', `/api/client/servers/${s.identifier}/backups`, { body: { name: 'plain' } });
      await waitFor('completion', async () => (await h.backup(plain.body.attributes.uuid))?.completed_at, 60_000);
      assert.equal(wings.commands(s.uuid).length, 3);
    });

    test('a subuser needs backup.create to pick a preset, and only the owner may write custom commands', async () => {
      const s = await server();
      const reader = await h.user(`reader-${s.id}@example.com`);
      await h.ctx.services.subusers.create(s, { email: reader.user.email, permissions: ['backup.read'] });
      const creator = await h.user(`creator-${s.id}@example.com`);
      await h.ctx.services.subusers.create(s, { email: creator.user.email, permissions: ['backup.read', 'backup.create'] });
      const path = `/api/client/servers/${s.identifier}/backup-control`;
      assert.equal((await h.api('GET', path, { key: reader.key })).status, 200);
      assert.equal((await h.api('PUT', path, { key: reader.key, body: { save_hook: { preset: 'minecraft-java' } } })).status, 403);
      assert.equal((await h.api('PUT', path, { key: creator.key, body: { save_hook: { preset: 'minecraft-java' } } })).status, 200);
      const custom = { save_hook: { preset: 'custom', before: ['say backing up'], after: ['say done'] } };
      assert.equal((await h.api('PUT', path, { key: creator.key, body: custom })).status, 403);
      const owner = await h.api('PUT', path, { body: custom });
      assert.equal(owner.status, 200, owner.text);
      assert.deepEqual(owner.body.attributes.save_hook, { preset: 'custom', before: ['say backing up'], after: ['say done'] });
    });

    test('changed files from the daemon report are stored and returned', async () => {
      const s = await server();
      const b = await h.fixtureBackup(s, { completed: false });
      const res = await fetch(`${h.url}/api/remote/backups/${b.uuid}`, {
        method: 'POST',
        headers: { authorization: h.nodeAuth(), 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ successful: true, checksum: 'ab'.repeat(32), checksum_type: 'sha256', size: 10, parts: null, changed_files: { count: 3, names: ['logs/latest.log', 'world/region/r.0.0.mca', 'usercache.json'], inconsistent: 1 } }),
      });
      assert.equal(res.status, 204, await res.text());
      const view = await h.api('GET', `/api/client/servers/${s.identifier}/backups/${b.uuid}`);
      assert.deepEqual(view.body.attributes.changed_files, { count: 3, names: ['logs/latest.log', 'world/region/r.0.0.mca', 'usercache.json'], inconsistent: 1 });
      const untouched = await h.fixtureBackup(s);
      assert.equal((await h.api('GET', `/api/client/servers/${s.identifier}/backups/${untouched.uuid}`)).body.attributes.changed_files, null);
    });

    test('a restore stops the server through Wings, restores and starts it again', async () => {
      const s = await server();
      const created = await h.api('POST', `/api/client/servers/${s.identifier}/backups`, { body: { name: 'r' } });
      const uuid = created.body.attributes.uuid as string;
      await waitFor('completion', async () => (await h.backup(uuid))?.completed_at, 60_000);
      const file = join(h.daemonRoot!, 'volumes', s.uuid, 'world', 'level.dat');
      writeFileSync(file, 'v2');
      const r = await h.api('POST', `/api/client/servers/${s.identifier}/backups/${uuid}/restore`, { body: { truncate: false } });
      assert.equal(r.status, 204, r.text);
      await waitFor('restore done', async () => (await h.ctx.repos.servers.findById(s.id))?.status === null, 60_000);
      assert.equal(readFileSync(file, 'utf8'), 'v1');
      assert.deepEqual(wings.powerActions(s.uuid), ['stop', 'start']);
    });
  });
}

for (const db of dbs) {
  describe(`server control against a Wings-like daemon (${db.name})`, () => {
    let h: Harness;
    before(async () => {
      h = await startHarness({ databaseUrl: await db.url(), daemon: 'stub' });
    });
    after(async () => {
      await h?.close();
    });

    test('no control field: only the none hook and "stop it yourself"; an unreachable node is unknown; backups send no save_hook', async () => {
      const s = await h.server(h.owner.id);
      const path = `/api/client/servers/${s.identifier}/backup-control`;
      h.stub!.respond('GET', /^\/api\/system$/, 200, { version: '1.11.11', healthy: true });
      const wingsLike = await h.api('GET', path);
      assert.equal(wingsLike.status, 200, wingsLike.text);
      assert.deepEqual(wingsLike.body.attributes, {
        control: { kind: 'none', power: 'none', restore_stops_server: false, save_hooks: ['none'], default_save_hook: 'none' },
        save_hook: null,
        effective_save_hook: 'none',
        restore_stops_server: false,
      });
      assert.equal((await h.api('PUT', path, { body: { save_hook: { preset: 'minecraft-java' } } })).status, 422);

      const gone = { ...h.node, id: h.node.id + 1000, url: 'http://127.0.0.1:1' };
      assert.equal(await h.ctx.services.serverControl.nodeControl(gone), null);

      await h.api('POST', `/api/client/servers/${s.identifier}/backups`, { body: { name: 'x' } });
      const call = h.stub!.calls.find((c) => c.method === 'POST' && c.url.endsWith('/backup'));
      assert.ok(call, 'backup request sent');
      assert.equal((call.body as Record<string, unknown>).save_hook, undefined, 'an upstream-shaped request');
    });
  });
}
