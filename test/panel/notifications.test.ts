/**
 * Job notifications (issue 13): a daemon's backup/restore report queues a webhook per panel URL and
 * per server webhook, plus an e-mail; the dispatcher delivers from the durable queue. Real HTTP
 * receivers and a real SMTP server (smtp-server) on loopback, SQLite and PostgreSQL.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { silentLogger } from '../../src/core/logger.ts';
import { openPanelContext, type PanelContext } from '../../src/panel/context.ts';
import type { ServerRow } from '../../src/panel/db/schema.ts';
import { NotificationDispatcher, retryDelaySeconds, startNotificationTimer } from '../../src/panel/notify/dispatcher.ts';
import { RemoteService } from '../../src/panel/services/remote.service.ts';
import { testDatabaseUrls } from '../support/postgres.ts';
import { startHarness, waitFor, type Harness } from './support/harness.ts';

const SECRET = 'panel-webhook-secret';

interface Hit { path: string; headers: IncomingHttpHeaders; body: string }

/** An HTTP receiver whose answer per path is scripted (a queue of statuses, then 200). */
async function startReceiver(): Promise<{ url: string; hits: Hit[]; script: Map<string, number[]>; close(): Promise<void> }> {
  const hits: Hit[] = [];
  const script = new Map<string, number[]>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      hits.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const queue = script.get(path);
      res.statusCode = queue && queue.length > 0 ? queue.shift()! : 200;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, script, close: () => new Promise<void>((r) => server.close(() => r())) };
}

function verify(hit: Hit, secret: string): boolean {
  const ts = String(hit.headers['x-backwing-timestamp']);
  const sig = String(hit.headers['x-backwing-signature']);
  const expected = `sha256=${createHmac('sha256', secret).update(`${ts}.${hit.body}`).digest('hex')}`;
  return sig.length === expected.length && timingSafeEqual(Buffer.from(sig), Buffer.from(expected));
}

const dbs = await testDatabaseUrls();

for (const db of dbs) {
  describe(`notifications (${db.name})`, () => {
    let h: Harness;
    let rx: Awaited<ReturnType<typeof startReceiver>>;
    let smtp: SMTPServer;
    const mails: Array<{ to: string[]; data: string }> = [];
    let dispatcher: NotificationDispatcher;

    before(async () => {
      rx = await startReceiver();
      smtp = new SMTPServer({
        authOptional: true, disabledCommands: ['STARTTLS'], logger: false,
        onData(stream, session, cb) {
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => { mails.push({ to: session.envelope.rcptTo.map((r) => r.address), data: Buffer.concat(chunks).toString('utf8') }); cb(); });
        },
      });
      await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
      const smtpPort = (smtp.server.address() as AddressInfo).port;
      h = await startHarness({
        databaseUrl: await db.url(), daemon: 'stub',
        env: {
          NOTIFY_WEBHOOK_URLS: `${rx.url}/panel`, NOTIFY_WEBHOOK_SECRET: SECRET, NOTIFY_WEBHOOK_FORMAT: 'generic',
          SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, NOTIFY_EMAIL_TO: 'ops@example.com', NOTIFY_EMAIL_FROM: 'panel@example.com',
          NOTIFY_RETRY_BASE_SECONDS: '0', NOTIFY_MAX_ATTEMPTS: '3',
        },
      });
      dispatcher = new NotificationDispatcher(h.ctx.deps);
    });
    after(async () => {
      await h?.close();
      await rx?.close();
      await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
    });

    const remote = (path: string, body: unknown) => h.api('POST', `/api/remote${path}`, { key: null, headers: { authorization: h.nodeAuth() }, body });
    const hitsFor = (path: string, server: ServerRow) => rx.hits.filter((x) => x.path === path && JSON.stringify(JSON.parse(x.body)).includes(server.uuid));
    async function addWebhook(server: ServerRow, body: Record<string, unknown>): Promise<string> {
      const r = await h.api('POST', `/api/client/servers/${server.identifier}/notifications/webhooks`, { body });
      assert.equal(r.status, 200, r.text);
      return r.body.attributes.uuid as string;
    }

    test('a completed and a failed backup, a completed and a failed restore: signed generic, Discord and e-mail', async () => {
      const server = await h.server(h.owner.id);
      await addWebhook(server, { url: `${rx.url}/discord`, format: 'discord' });
      const ok = await h.fixtureBackup(server, { completed: false, name: 'nightly' });
      const bad = await h.fixtureBackup(server, { completed: false, name: 'broken' });
      assert.equal((await remote(`/backups/${ok.uuid}`, { successful: true, checksum: 'cd'.repeat(20), checksum_type: 'sha1', size: 4096 })).status, 204);
      assert.equal((await remote(`/backups/${bad.uuid}`, { successful: false, failure_reason: 'disk full' })).status, 204);
      assert.equal((await remote(`/backups/${ok.uuid}/restore`, { successful: true })).status, 204);
      assert.equal((await remote(`/backups/${ok.uuid}/restore`, { successful: false, failure_reason: 'cancelled' })).status, 204);
      assert.equal(rx.hits.length, 0, 'nothing is sent inline with the report');

      await dispatcher.drainOnce();
      // Deliveries go out in parallel, so arrival order is not the report order.
      const ORDER = ['backup.completed', 'backup.failed', 'restore.completed', 'restore.failed'];
      const byEvent = (hits: Hit[]) => [...hits].sort((a, b) => ORDER.indexOf(JSON.parse(a.body).event) - ORDER.indexOf(JSON.parse(b.body).event));
      const generic = byEvent(hitsFor('/panel', server));
      assert.deepEqual(generic.map((x) => JSON.parse(x.body).event), ORDER);
      for (const hit of generic) {
        assert.ok(verify(hit, SECRET), 'the signature verifies over <timestamp>.<body>');
        assert.ok(!verify({ ...hit, body: `${hit.body} ` }, SECRET), 'a changed body does not verify');
        assert.match(String(hit.headers['x-backwing-timestamp']), /^\d{10}$/);
      }
      const completed = JSON.parse(generic[0]!.body);
      assert.deepEqual(completed.server, { uuid: server.uuid, name: server.name });
      assert.deepEqual(completed.backup, { uuid: ok.uuid, name: 'nightly', bytes: 4096, checksum: `sha1:${'cd'.repeat(20)}`, failure_reason: null });
      assert.ok(!Number.isNaN(Date.parse(completed.occurred_at)));
      assert.equal(JSON.parse(generic[1]!.body).backup.failure_reason, 'disk full');
      assert.equal(JSON.parse(generic[3]!.body).backup.failure_reason, 'cancelled');

      const discordHits = rx.hits.filter((x) => x.path === '/discord');
      const discord = discordHits.map((x) => JSON.parse(x.body));
      assert.equal(discord.length, 4);
      const contentOf = (prefix: string) => discord.find((d) => String(d.content).startsWith(prefix));
      assert.equal(contentOf('Backup completed')?.content, `Backup completed: ${server.name} / nightly`);
      assert.equal(contentOf('Backup completed')?.embeds[0].title, 'Backup completed');
      const failedBody = contentOf('Backup failed');
      assert.equal(failedBody?.content, `Backup failed: ${server.name} / broken`);
      assert.ok(failedBody.embeds[0].fields.some((f: { name: string; value: string }) => f.name === 'Reason' && f.value === 'disk full'));
      assert.ok(contentOf('Restore completed') && contentOf('Restore failed'));
      assert.ok(discordHits.every((x) => x.headers['x-backwing-signature'] === undefined), 'no secret, no signature');

      const subjects = mails.map((m) => /^Subject: (.*)$/m.exec(m.data)?.[1]);
      assert.ok(subjects.includes(`[backwing] Backup completed: ${server.name} / nightly`), subjects.join(' | '));
      assert.ok(subjects.includes(`[backwing] Backup failed: ${server.name} / broken`), subjects.join(' | '));
      assert.ok(mails.every((m) => m.to.includes('ops@example.com')));
      const failedMail = mails.find((m) => m.data.includes('Backup failed'))!;
      assert.match(failedMail.data, /Reason: disk full/);

      const rows = await h.ctx.repos.notifications.listDeliveries({ serverId: server.id });
      assert.equal(rows.length, 12, '4 events x (panel webhook, server webhook, e-mail)');
      assert.ok(rows.every((r) => r.status === 'delivered' && r.attempts === 1), JSON.stringify(rows.map((r) => [r.status, r.last_error])));
    });

    test('a receiver answering 500 then 200 gets it on the retry; a 404 is final; a dead one gives up after N', async () => {
      const server = await h.server(h.owner.id);
      await addWebhook(server, { url: `${rx.url}/flaky`, secret: 'flaky-secret-1' });
      await addWebhook(server, { url: `${rx.url}/gone` });
      await addWebhook(server, { url: `${rx.url}/down` });
      rx.script.set('/flaky', [500]);
      rx.script.set('/gone', [404, 404, 404]);
      rx.script.set('/down', [503, 503, 503, 503]);
      const b = await h.fixtureBackup(server, { completed: false });
      assert.equal((await remote(`/backups/${b.uuid}`, { successful: true, checksum: 'ab', checksum_type: 'sha1', size: 3 })).status, 204);

      await dispatcher.drainOnce();
      const byTarget = async () => new Map((await h.ctx.repos.notifications.listDeliveries({ serverId: server.id })).map((r) => [r.target.replace(rx.url, ''), r]));
      let rows = await byTarget();
      assert.equal(rows.get('/flaky')!.status, 'pending');
      assert.equal(rows.get('/flaky')!.last_error, 'receiver answered HTTP 500');
      assert.equal(rows.get('/gone')!.status, 'failed', '4xx other than 429 is final');
      assert.equal(rows.get('/gone')!.attempts, 1);

      await dispatcher.drainOnce();
      await dispatcher.drainOnce();
      rows = await byTarget();
      assert.equal(rows.get('/flaky')!.status, 'delivered');
      assert.equal(rows.get('/flaky')!.attempts, 2);
      const flakyHits = rx.hits.filter((x) => x.path === '/flaky');
      assert.equal(flakyHits.length, 2);
      assert.ok(verify(flakyHits[1]!, 'flaky-secret-1'));
      assert.equal(rx.hits.filter((x) => x.path === '/gone').length, 1, 'a final failure is not retried');
      assert.equal(rows.get('/down')!.status, 'failed');
      assert.equal(rows.get('/down')!.attempts, 3);
      assert.match(rows.get('/down')!.last_error!, /^gave up after 3 attempts: receiver answered HTTP 503$/);
      assert.equal(rx.hits.filter((x) => x.path === '/down').length, 3);
    });

    test('the backoff doubles from the base and is capped at an hour', () => {
      assert.deepEqual([1, 2, 3, 4].map((n) => retryDelaySeconds(30, n)), [30, 60, 120, 240]);
      assert.equal(retryDelaySeconds(30, 20), 3600);
    });

    test('two panel processes on one database deliver each notification once', async () => {
      const other: PanelContext = await openPanelContext(h.ctx.config, { logger: silentLogger(), skipMigrations: true });
      try {
        const second = new NotificationDispatcher(other.deps);
        const server = await h.server(h.owner.id);
        await addWebhook(server, { url: `${rx.url}/once` });
        for (let i = 0; i < 6; i++) {
          const b = await h.fixtureBackup(server, { completed: false, name: `b${i}` });
          assert.equal((await remote(`/backups/${b.uuid}`, { successful: i % 2 === 0, checksum: 'ab', checksum_type: 'sha1', size: 3 })).status, 204);
        }
        await Promise.all([dispatcher.drainOnce(), second.drainOnce(), dispatcher.drainOnce(), second.drainOnce()]);
        const names = rx.hits.filter((x) => x.path === '/once').map((x) => JSON.parse(x.body).backup.name).sort();
        assert.deepEqual(names, ['b0', 'b1', 'b2', 'b3', 'b4', 'b5']);
        const rows = await h.ctx.repos.notifications.listDeliveries({ serverId: server.id });
        assert.ok(rows.every((r) => r.status === 'delivered' && r.attempts === 1));
      } finally {
        await other.close();
      }
    });

    test('the panel timer drains the queue by itself', async () => {
      const server = await h.server(h.owner.id);
      await addWebhook(server, { url: `${rx.url}/timer` });
      const timer = startNotificationTimer(new NotificationDispatcher(h.ctx.deps), 20, silentLogger());
      try {
        const b = await h.fixtureBackup(server, { completed: false });
        assert.equal((await remote(`/backups/${b.uuid}/restore`, { successful: true })).status, 204);
        const hit = await waitFor('the timer to deliver', async () => rx.hits.find((x) => x.path === '/timer'));
        assert.equal(JSON.parse(hit.body).event, 'restore.completed');
      } finally {
        await timer.stop();
      }
    });

    test('a restore cut short by a daemon restart notifies restore.failed with the shared reason', async () => {
      const server = await h.server(h.owner.id);
      await addWebhook(server, { url: `${rx.url}/reset` });
      const b = await h.fixtureBackup(server, { name: 'pre-reset' });
      const r = await h.api('POST', `/api/client/servers/${server.identifier}/backups/${b.uuid}/restore`, { body: { truncate: false } });
      assert.equal(r.status, 204, r.text);
      assert.equal((await h.api('POST', '/api/remote/servers/reset', { key: null, headers: { authorization: h.nodeAuth() } })).status, 204);
      await dispatcher.drainOnce();
      const hits = rx.hits.filter((x) => x.path === '/reset').map((x) => JSON.parse(x.body));
      assert.equal(hits.length, 1);
      assert.equal(hits[0].event, 'restore.failed');
      assert.equal(hits[0].backup.name, 'pre-reset');
      assert.equal(hits[0].backup.failure_reason, 'interrupted: the daemon was restarted');
    });

    test('a notifier that fails does not fail the daemon report', async () => {
      const broken = new RemoteService(h.ctx.deps, h.ctx.services.activity, { jobFinished: async () => { throw new Error('queue down'); } });
      const server = await h.server(h.owner.id);
      const b = await h.fixtureBackup(server, { completed: false });
      await broken.reportBackup(h.node, b.uuid, { successful: true, checksum: 'ab', checksum_type: 'sha1', size: 3 } as never);
      assert.equal((await h.backup(b.uuid))!.is_successful, 1);
    });

    test('server webhooks: the secret is never returned, URLs are checked, a subuser needs backup.delete', async () => {
      const server = await h.server(h.owner.id);
      const base = `/api/client/servers/${server.identifier}/notifications/webhooks`;
      const secret = 'very-secret-value-123';
      const created = await h.api('POST', base, { body: { url: `${rx.url}/s`, secret, format: 'generic' } });
      assert.equal(created.status, 200, created.text);
      assert.equal(created.body.attributes.has_secret, true);
      assert.ok(!created.text.includes(secret));
      const list = await h.api('GET', base);
      assert.equal(list.status, 200);
      assert.equal(list.body.data.length, 1);
      assert.ok(!list.text.includes(secret));
      assert.deepEqual(Object.keys(list.body.data[0].attributes).sort(), ['created_at', 'format', 'has_secret', 'url', 'uuid']);

      for (const bad of [{ url: 'ftp://example.com/x' }, { url: 'not a url' }, { url: `${rx.url}/x`, secret: 'short' }, { url: `${rx.url}/x`, format: 'slack' }]) {
        const r = await h.api('POST', base, { body: bad });
        assert.equal(r.status, 422, `${JSON.stringify(bad)} → ${r.text}`);
      }

      const sub = await h.user(`sub-${server.id}@example.com`);
      assert.equal((await h.api('POST', `/api/client/servers/${server.identifier}/users`, { body: { email: sub.user.email, permissions: ['backup.read'] } })).status, 200);
      assert.equal((await h.api('GET', base, { key: sub.key })).status, 403);
      assert.equal((await h.api('POST', base, { key: sub.key, body: { url: `${rx.url}/evil` } })).status, 403);

      const del = await h.api('DELETE', `${base}/${created.body.attributes.uuid}`);
      assert.equal(del.status, 204, del.text);
      assert.equal((await h.api('DELETE', `${base}/${created.body.attributes.uuid}`)).status, 404);
      assert.equal((await h.api('GET', base)).body.data.length, 0);
    });
  });
}
