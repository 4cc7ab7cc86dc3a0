import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { testDatabaseUrls } from '../support/postgres.ts';
import { startHarness, waitFor, type Harness } from '../panel/support/harness.ts';
import type { ServerRow } from '../../src/panel/db/schema.ts';

const cron = { minute: '0', hour: '3', day_of_month: '*', month: '*', day_of_week: '*' };
const LIMIT0 = "A backup task cannot be created when the server's backup limit is set to 0.";

for (const db of await testDatabaseUrls()) {
  describe(`schedules client API over HTTP with the real daemon (${db.name})`, () => {
    let h: Harness;
    let server: ServerRow;
    let base: string;
    before(async () => {
      h = await startHarness({ databaseUrl: await db.url() });
      server = await h.server(h.owner.id, { backupLimit: 5 });
      base = `/api/client/servers/${server.identifier}/schedules`;
    });
    after(async () => h.close());

    it('creates, lists, views, updates and deletes a schedule in the Pterodactyl shape', async () => {
      const created = await h.api('POST', base, { body: { name: ' Nightly ', ...cron, is_active: true, only_when_online: false } });
      assert.equal(created.status, 200, created.text);
      assert.equal(created.body.object, 'server_schedule');
      const a = created.body.attributes;
      assert.equal(a.name, 'Nightly');
      assert.deepEqual(a.cron, { day_of_week: '*', day_of_month: '*', month: '*', hour: '3', minute: '0' });
      assert.equal(a.is_active, true);
      assert.equal(a.is_processing, false);
      assert.equal(a.only_when_online, false);
      assert.equal(a.last_run_at, null);
      assert.match(a.next_run_at, /T03:00:00\+00:00$/);
      assert.ok(Date.parse(a.next_run_at) > Date.now());
      assert.deepEqual(a.relationships.tasks, { object: 'list', data: [] });

      const list = await h.api('GET', base);
      assert.equal(list.status, 200);
      assert.equal(list.body.object, 'list');
      assert.deepEqual(list.body.data.map((s: any) => s.attributes.id), [a.id]);

      const updated = await h.api('POST', `${base}/${a.id}`, { body: { name: 'Hourly', ...cron, hour: '*', is_active: false } });
      assert.equal(updated.status, 200, updated.text);
      assert.equal(updated.body.attributes.name, 'Hourly');
      assert.equal(updated.body.attributes.is_active, false);
      assert.equal(updated.body.attributes.cron.hour, '*');

      const view = await h.api('GET', `${base}/${a.id}`);
      assert.equal(view.status, 200);
      assert.equal(view.body.attributes.name, 'Hourly');

      assert.equal((await h.api('DELETE', `${base}/${a.id}`)).status, 204);
      assert.equal((await h.api('GET', `${base}/${a.id}`)).status, 404);
      const events = (await h.ctx.repos.activity.listByEvent('server:schedule.create')).length;
      assert.equal(events, 1);
    });

    it('a schedule of another server is a 404', async () => {
      const other = await h.server(h.owner.id, { backupLimit: 1 });
      const s = await h.api('POST', `/api/client/servers/${other.identifier}/schedules`, { body: { name: 'x', ...cron } });
      assert.equal(s.status, 200);
      const r = await h.api('GET', `${base}/${s.body.attributes.id}`);
      assert.equal(r.status, 404);
      assert.equal(r.body.errors[0].code, 'NotFoundHttpException');
      assert.equal((await h.api('POST', `${base}/${s.body.attributes.id}/tasks`, { body: { action: 'backup', time_offset: 0 } })).status, 404);
    });

    it('invalid cron fields are a 422 naming the field', async () => {
      const r = await h.api('POST', base, { body: { name: 'bad', ...cron, minute: '61', day_of_week: 'funday' } });
      assert.equal(r.status, 422);
      assert.deepEqual(r.body.errors.map((e: any) => [e.meta.source_field, e.meta.rule]), [['minute', 'cron'], ['day_of_week', 'cron']]);
      assert.equal(r.body.errors[0].code, 'ValidationException');
      assert.equal(r.body.errors[0].status, '422');
      const never = await h.api('POST', base, { body: { name: 'never', ...cron, day_of_month: '31', month: '2' } });
      assert.equal(never.status, 422);
      assert.equal(never.body.errors[0].detail, 'The cron data provided does not evaluate to a valid expression.');
      const missing = await h.api('POST', base, { body: {} });
      assert.equal(missing.status, 422);
      assert.deepEqual(missing.body.errors.map((e: any) => e.meta.source_field), ['name', 'minute', 'hour', 'day_of_month', 'month', 'day_of_week']);
      assert.ok(missing.body.errors.every((e: any) => e.meta.rule === 'required'));
    });

    it('task validation errors follow upstream (§7 case 12)', async () => {
      const s = (await h.api('POST', base, { body: { name: 'tasks', ...cron } })).body.attributes;
      const tasks = `${base}/${s.id}/tasks`;
      const empty = await h.api('POST', tasks, { body: {} });
      assert.equal(empty.status, 422);
      assert.deepEqual(empty.body.errors.map((e: any) => [e.meta.source_field, e.meta.rule]), [['action', 'required'], ['payload', 'required_unless'], ['time_offset', 'required']]);
      assert.equal(empty.body.errors[0].detail, 'The action field is required.');

      const hodor = await h.api('POST', tasks, { body: { action: 'hodor', payload: 'x', time_offset: 0 } });
      assert.equal(hodor.status, 422);
      assert.equal(hodor.body.errors[0].meta.rule, 'in');
      assert.equal(hodor.body.errors[0].meta.source_field, 'action');

      const command = await h.api('POST', tasks, { body: { action: 'command', time_offset: 0 } });
      assert.equal(command.status, 422);
      assert.equal(command.body.errors[0].meta.rule, 'required_unless');
      assert.equal(command.body.errors[0].meta.source_field, 'payload');

      const seq = await h.api('POST', tasks, { body: { action: 'backup', time_offset: 0, sequence_id: 'hodor' } });
      assert.equal(seq.status, 422);
      assert.equal(seq.body.errors[0].meta.rule, 'numeric');
      assert.equal(seq.body.errors[0].meta.source_field, 'sequence_id');

      const offset = await h.api('POST', tasks, { body: { action: 'backup', time_offset: 901 } });
      assert.equal(offset.status, 422);
      assert.equal(offset.body.errors[0].meta.rule, 'max');

      // Backwing manages no game process: command and power tasks are refused, not silently ignored.
      const power = await h.api('POST', tasks, { body: { action: 'power', payload: 'restart', time_offset: 0 } });
      assert.equal(power.status, 422);
      assert.equal(power.body.errors[0].meta.source_field, 'action');
      assert.match(power.body.errors[0].detail, /only backup tasks/);
    });

    it('a backup task on a server whose limit is 0 is a 403 (§7 case 11)', async () => {
      const zero = await h.server(h.owner.id, { backupLimit: 0 });
      const s = (await h.api('POST', `/api/client/servers/${zero.identifier}/schedules`, { body: { name: 'z', ...cron } })).body.attributes;
      for (const body of [{ action: 'backup', time_offset: 0 }, { action: 'backup', payload: 'file.txt\nfile2.log', time_offset: 0 }]) {
        const r = await h.api('POST', `/api/client/servers/${zero.identifier}/schedules/${s.id}/tasks`, { body });
        assert.equal(r.status, 403);
        assert.equal(r.body.errors[0].code, 'HttpForbiddenException');
        assert.equal(r.body.errors[0].detail, LIMIT0);
      }
    });

    it('tasks: create, reorder, update, delete; the task limit is 10', async () => {
      const s = (await h.api('POST', base, { body: { name: 'ordered', ...cron } })).body.attributes;
      const tasks = `${base}/${s.id}/tasks`;
      const t1 = await h.api('POST', tasks, { body: { action: 'backup', payload: '*.log\ncache/', time_offset: 0 } });
      assert.equal(t1.status, 200, t1.text);
      assert.equal(t1.body.object, 'schedule_task');
      assert.deepEqual(
        { ...t1.body.attributes, id: 0, created_at: '', updated_at: '' },
        { id: 0, sequence_id: 1, action: 'backup', payload: '*.log\ncache/', time_offset: 0, is_queued: false, continue_on_failure: false, created_at: '', updated_at: '' },
      );
      const t2 = await h.api('POST', tasks, { body: { action: 'backup', time_offset: 30, continue_on_failure: true } });
      const t0 = await h.api('POST', tasks, { body: { action: 'backup', time_offset: 5, sequence_id: 1 } });
      assert.equal(t0.body.attributes.sequence_id, 1);
      let view = (await h.api('GET', `${base}/${s.id}`)).body.attributes.relationships.tasks.data.map((t: any) => [t.attributes.id, t.attributes.sequence_id]);
      assert.deepEqual(view, [[t0.body.attributes.id, 1], [t1.body.attributes.id, 2], [t2.body.attributes.id, 3]]);

      const moved = await h.api('POST', `${tasks}/${t0.body.attributes.id}`, { body: { action: 'backup', time_offset: 5, sequence_id: 3 } });
      assert.equal(moved.status, 200, moved.text);
      assert.equal(moved.body.attributes.sequence_id, 3);
      assert.equal((await h.api('DELETE', `${tasks}/${t1.body.attributes.id}`)).status, 204);
      view = (await h.api('GET', `${base}/${s.id}`)).body.attributes.relationships.tasks.data.map((t: any) => [t.attributes.id, t.attributes.sequence_id]);
      assert.deepEqual(view, [[t2.body.attributes.id, 1], [t0.body.attributes.id, 2]]);

      for (let i = 0; i < 8; i++) assert.equal((await h.api('POST', tasks, { body: { action: 'backup', time_offset: 0 } })).status, 200);
      const eleventh = await h.api('POST', tasks, { body: { action: 'backup', time_offset: 0 } });
      assert.equal(eleventh.status, 400);
      assert.equal(eleventh.body.errors[0].code, 'ServiceLimitExceededException');
    });

    it('permissions: schedule.read / create / update / delete for subusers', async () => {
      const s = (await h.api('POST', base, { body: { name: 'perm', ...cron } })).body.attributes;
      const reader = await h.user('reader@example.com');
      await h.ctx.services.subusers.create(server, { email: 'reader@example.com', permissions: ['schedule.read'] });
      const nobody = await h.user('nobody@example.com');
      await h.ctx.services.subusers.create(server, { email: 'nobody@example.com', permissions: ['backup.read'] });

      assert.equal((await h.api('GET', base, { key: reader.key })).status, 200);
      assert.equal((await h.api('GET', `${base}/${s.id}`, { key: reader.key })).status, 200);
      assert.equal((await h.api('GET', base, { key: nobody.key })).status, 403);
      for (const [method, path, body] of [
        ['POST', base, { name: 'x', ...cron }],
        ['POST', `${base}/${s.id}`, { name: 'x', ...cron }],
        ['DELETE', `${base}/${s.id}`, undefined],
        ['POST', `${base}/${s.id}/execute`, undefined],
        ['POST', `${base}/${s.id}/tasks`, {}],
      ] as const) {
        const r = await h.api(method, path, { key: reader.key, body });
        assert.equal(r.status, 403, `${method} ${path}`);
        assert.equal(r.body.errors[0].code, 'AccessDeniedHttpException');
      }
    });

    it('run now: the real daemon builds the backup, then retention removes what the policy drops', async () => {
      const srv = await h.server(h.owner.id, { backupLimit: 5 });
      const sb = `/api/client/servers/${srv.identifier}`;
      const old = [
        await h.fixtureBackup(srv, { name: 'old-1', createdAt: '2026-01-01T00:00:00.000Z' }),
        await h.fixtureBackup(srv, { name: 'old-2', createdAt: '2026-01-02T00:00:00.000Z' }),
        await h.fixtureBackup(srv, { name: 'old-locked', createdAt: '2026-01-03T00:00:00.000Z', locked: true }),
      ];
      const put = await h.api('PUT', `${sb}/backups/retention`, { body: { keep_last: 1 } });
      assert.equal(put.status, 200, put.text);
      assert.equal(put.body.attributes.keep_last, 1);
      // Saving a policy deletes nothing by itself.
      assert.equal((await h.ctx.repos.backups.listAllForServer(srv.id)).length, 3);

      const s = (await h.api('POST', `${sb}/schedules`, { body: { name: 'now', ...cron, is_active: false } })).body.attributes;
      assert.equal((await h.api('POST', `${sb}/schedules/${s.id}/tasks`, { body: { action: 'backup', time_offset: 0 } })).status, 200);
      const run = await h.api('POST', `${sb}/schedules/${s.id}/execute`);
      assert.equal(run.status, 202);

      const fresh = await waitFor('scheduled backup to complete', async () => {
        const rows = await h.ctx.repos.backups.listAllForServer(srv.id);
        return rows.find((b) => !old.some((o) => o.id === b.id) && b.completed_at !== null);
      });
      assert.equal(fresh.is_successful, 1, 'the daemon built the archive');
      assert.match(fresh.name, /^Backup at /);
      // keep_last 1 keeps the new backup; old-1 and old-2 go; the locked one stays.
      const live = await waitFor('retention to apply', async () => {
        const rows = await h.ctx.repos.backups.listAllForServer(srv.id);
        return rows.length === 2 ? rows : undefined;
      });
      assert.deepEqual(live.map((b) => b.name).sort(), ['old-locked', fresh.name].sort());
      // Each activity entry is written right after its delete: wait for both rather than race them.
      const deleted = await waitFor('retention activity', async () => {
        const names = (await h.ctx.repos.activity.listByEvent('server:backup.retention-delete')).map((e) => JSON.parse(e.properties).name).sort();
        return names.length >= 2 ? names : undefined;
      });
      assert.deepEqual(deleted, ['old-1', 'old-2']);
      // "Run now" is logged once, by the run itself, with the user who pressed it.
      const executed = (await h.ctx.repos.activity.listByEvent('server:schedule.execute'))
        .filter((e) => JSON.parse(e.properties).name === 'now');
      assert.equal(executed.length, 1);
      assert.notEqual(executed[0]!.actor_id, null);
      assert.equal(JSON.parse(executed[0]!.properties).manual, true);
      const sched = await waitFor('run to finish', async () => {
        const v = (await h.api('GET', `${sb}/schedules/${s.id}`)).body.attributes;
        return v.is_processing === false && v.last_run_at ? v : undefined;
      });
      assert.ok(sched.last_run_at);
    });

    it('retention API: defaults, validation, preview (dry run) and permission backup.delete', async () => {
      const srv = await h.server(h.owner.id, { backupLimit: 10 });
      const rb = `/api/client/servers/${srv.identifier}/backups/retention`;
      const empty = await h.api('GET', rb);
      assert.equal(empty.status, 200);
      assert.deepEqual(empty.body, { object: 'backup_retention_policy', attributes: { keep_last: null, keep_hourly: null, keep_daily: null, keep_weekly: null, keep_monthly: null, updated_at: null } });

      const bad = await h.api('PUT', rb, { body: { keep_last: -1, keep_daily: 'many' } });
      assert.equal(bad.status, 422);
      assert.deepEqual(bad.body.errors.map((e: any) => [e.meta.source_field, e.meta.rule]), [['keep_last', 'min'], ['keep_daily', 'integer']]);

      for (let d = 1; d <= 4; d++) await h.fixtureBackup(srv, { name: `day-${d}`, createdAt: `2026-02-0${d}T12:00:00.000Z` });
      await h.fixtureBackup(srv, { name: 'failed-old', createdAt: '2026-02-01T13:00:00.000Z', successful: false });
      await h.fixtureBackup(srv, { name: 'running', createdAt: '2026-02-05T00:00:00.000Z', completed: false });
      const preview = await h.api('POST', `${rb}/preview`, { body: { keep_last: 2 } });
      assert.equal(preview.status, 200, preview.text);
      assert.equal(preview.body.object, 'backup_retention_preview');
      assert.deepEqual(preview.body.attributes.remove.map((e: any) => [e.name, e.reasons[0]]), [['day-2', 'policy'], ['failed-old', 'failed-superseded'], ['day-1', 'policy']]);
      assert.deepEqual(preview.body.attributes.keep.map((e: any) => e.name), ['running', 'day-4', 'day-3']);
      // A dry run deletes nothing.
      assert.equal((await h.ctx.repos.backups.listAllForServer(srv.id)).length, 6);

      await h.ctx.services.subusers.create(srv, { email: 'reader@example.com', permissions: ['backup.read'] });
      const reader = (await h.ctx.services.users.findByEmail('reader@example.com'))!;
      const readerKey = (await h.ctx.services.apiKeys.create(reader.id)).key;
      for (const [method, path] of [['GET', rb], ['PUT', rb], ['POST', `${rb}/preview`]] as const) {
        assert.equal((await h.api(method, path, { key: readerKey, body: method === 'GET' ? undefined : {} })).status, 403, `${method} ${path}`);
      }
    });
  });
}
