/**
 * The scale-out topology with real processes only (docs/production-topology.md): two `backwing
 * panel` processes on one PostgreSQL behind a real nginx with TLS (the shipped
 * deploy/nginx/backwing-panels.conf), two `backwing daemon` processes (two nodes) reporting
 * through that balancer, and clients alternating between the panels. Every rule that must hold
 * across panel processes is checked from both sides, and one panel is SIGKILLed mid-flight.
 * Backups go to two S3 destinations on a signature-checking server (Ceph radosgw): node 1 to
 * "rgw-a" (bucket topo-a, prefix a/), which copies each backup to "rgw-b" (bucket topo-b, prefix
 * b/), where node 2's backups go; with topo-a refusing reads, download and restore use the copy.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';
import { renderDaemonConfig } from '../../src/daemon/config.ts';
import { loadPanelConfig } from '../../src/panel/config.ts';
import { openPanelContext, type PanelContext } from '../../src/panel/context.ts';
import { freePort, makeCertificate, startNginx, type NginxProcess } from '../daemon/support/nginx.ts';
import { httpRequest } from '../daemon/support/http-request.ts';
import { TEST_APP_KEY } from '../support/app-key.ts';
import { freshPostgresUrl } from '../support/postgres.ts';
import { startProcess, stopProcess, type Running } from '../support/processes.ts';
import { startRadosgw, type Radosgw } from '../support/radosgw.ts';
import { DeleteBucketPolicyCommand, GetObjectCommand, HeadObjectCommand, PutBucketPolicyCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { renderPanelsConf } from './support.ts';

const PASSWORD = 'topology password';
const THROTTLE = 2;
const LOGIN_LIMIT = 3;

interface Answer { status: number; body: any; headers: Record<string, string | string[] | undefined> }

let dir: string;
let ca: Buffer;
let env: Record<string, string>;
let panels: Running[] = [];
let daemons: Running[] = [];
let nginx: NginxProcess | undefined;
let clientKey: string;
let admin: PanelContext | undefined;
let rgw: Radosgw | undefined;
const MiB = 1024 * 1024;
const servers: Record<'s1' | 's2' | 's3' | 's4' | 's5' | 's6', { id: string; uuid: string; node: 1 | 2 }> = {} as never;
let scheduleMinute: Date;

/** A request straight to one panel process (plain HTTP on loopback). */
async function direct(panel: Running, method: string, path: string, opts: { body?: unknown; headers?: Record<string, string>; key?: string | null } = {}): Promise<Answer> {
  const key = opts.key === undefined ? clientKey : opts.key;
  const res = await fetch(`${panel.url}${path}`, {
    method,
    headers: { accept: 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}), ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }), ...opts.headers },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  const headers: Answer['headers'] = Object.fromEntries(res.headers);
  headers['set-cookie'] = res.headers.getSetCookie();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers };
}

/** A request through the balancer (HTTPS, whichever panel nginx picks). */
async function viaBalancer(method: string, path: string, opts: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const r = await httpRequest(`${env.APP_URL}${path}`, {
    method,
    ca,
    headers: { accept: 'application/json', authorization: `Bearer ${clientKey}`, ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }), ...opts.headers },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  return { status: r.status, body: r.text ? JSON.parse(r.text) : null, headers: r.headers };
}

async function backupsOf(server: string): Promise<Array<{ uuid: string; completed_at: string | null; is_successful: boolean; checksum: string | null; name: string }>> {
  const r = await viaBalancer('GET', `/api/client/servers/${server}/backups?per_page=50`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return (r.body.data as Array<{ attributes: any }>).map((d) => d.attributes);
}

async function waitUntil<T>(what: string, ms: number, fn: () => Promise<T | undefined | false>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

function logs(): string {
  return [...panels.map((p, i) => `--- panel ${i + 1} stderr ---\n${p.stderr()}`), ...daemons.map((d, i) => `--- daemon ${i + 1} stderr ---\n${d.stderr()}`), `--- nginx ---\n${nginx?.errorLog() ?? ''}`].join('\n');
}

describe('two panels on one PostgreSQL behind nginx, two nodes', { timeout: 240_000 }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'backwing-topology-'));
    const { cert, key } = makeCertificate(dir);
    ca = readFileSync(cert);
    const [lbPort, d1Port, d2Port] = [await freePort(), await freePort(), await freePort()];
    // radosgw takes ~13 s to start: beside PostgreSQL's, not after it.
    const [databaseUrl, started] = await Promise.all([freshPostgresUrl(), startRadosgw()]);
    rgw = started;
    await Promise.all(['topo-a', 'topo-b'].map((b) => started.createBucket(b)));
    env = {
      DATABASE_URL: databaseUrl,
      APP_KEY: TEST_APP_KEY,
      APP_URL: `https://127.0.0.1:${lbPort}`,
      TRUSTED_PROXIES: '127.0.0.1',
      BACKUP_THROTTLE_LIMIT: String(THROTTLE),
      BACKUP_THROTTLE_PERIOD: '600',
      LOGIN_ATTEMPT_LIMIT: String(LOGIN_LIMIT),
      PANEL_WEB_DIST: '/nonexistent',
    };
    // Provisioned in-process through the same services `backwing admin user|key|node|server create`
    // call (a CLI process per row costs seconds each on a loaded machine); the daemon configs are
    // rendered as `admin node create --write-config` renders them.
    admin = await openPanelContext(loadPanelConfig(env));
    const owner = await admin.services.users.create({ email: 'owner@example.test', password: PASSWORD });
    await admin.services.users.create({ email: 'other@example.test', password: PASSWORD });
    clientKey = (await admin.services.apiKeys.create(owner.id, { type: 'client', memo: 'topology' })).key;
    // As `backwing admin destination create|assign` do (docs/production-topology.md): each is
    // probed against radosgw before it is saved.
    const rgwDest = (name: string, bucket: string, prefix: string) => ({
      name, kind: 's3', endpoint: started.endpoint, region: started.region, bucket, prefix, accessKeyId: started.accessKeyId,
      secretAccessKey: started.secretAccessKey, pathStyle: true, partSize: 5 * MiB,
    });
    const destB = await admin.services.destinations.create(rgwDest('rgw-b', 'topo-b', 'b/'));
    await admin.services.destinations.create({ ...rgwDest('rgw-a', 'topo-a', 'a/'), copyToId: destB.id });
    const nodeIds: number[] = [];
    for (const [n, port] of [[1, d1Port], [2, d2Port]] as const) {
      const node = await admin.services.nodes.create({ name: `node-${n}`, url: `http://127.0.0.1:${port}` });
      nodeIds.push(node.id);
      await admin.services.destinations.assignNode(node.id, n === 1 ? 'rgw-a' : 'rgw-b');
      writeFileSync(join(dir, `node${n}.yml`), renderDaemonConfig({
        uuid: node.uuid, tokenId: node.tokenId, token: node.token, remote: env.APP_URL!, apiHost: '127.0.0.1', apiPort: port,
        dataDirectory: join(dir, `node${n}`, 'volumes'), backupDirectory: join(dir, `node${n}`, 'backups'), rootDirectory: join(dir, `node${n}`, 'state'),
        // Restores download from the S3 server, here on loopback.
        restoreHostAllowlist: ['127.0.0.1'],
      }), { mode: 0o600 });
    }

    panels = await Promise.all([1, 2].map(() => startProcess(['panel', '--port', '0', '--log-level', 'warn'], env)));
    nginx = await startNginx(join(dir, 'nginx'), renderPanelsConf({ panels: panels.map((p) => new URL(p.url).host), listen: `127.0.0.1:${lbPort}`, cert, key }));
    // The daemons report to APP_URL, the balancer; they trust its certificate like any CA.
    daemons = await Promise.all([1, 2].map((n) => startProcess(['daemon', '--config', join(dir, `node${n}.yml`), '--log-level', 'warn'], { NODE_EXTRA_CA_CERTS: cert })));

    const layout = { s1: 1, s2: 2, s3: 1, s4: 2, s5: 1, s6: 2 } as const;
    for (const [name, node] of Object.entries(layout)) {
      // s6 may keep one backup: the limit race below.
      const s = await admin.services.servers.create({ name, ownerId: owner.id, nodeId: nodeIds[node - 1]!, backupLimit: name === 's6' ? 1 : 10 });
      servers[name as keyof typeof servers] = { id: s.identifier, uuid: s.uuid, node };
      const vol = join(dir, `node${node}`, 'volumes', s.uuid);
      mkdirSync(vol, { recursive: true });
      // s3 is the one whose backup runs while a panel dies: big enough to still be running.
      writeFileSync(join(vol, 'world.dat'), name === 's3' ? randomBytes(24 * 1024 * 1024) : `${name} `.repeat(20_000));
    }

    // A schedule that comes due a minute or two from now; checked at the end, once both panels
    // have ticked past it.
    const now = new Date();
    scheduleMinute = new Date(Math.floor(now.getTime() / 60_000) * 60_000 + (now.getUTCSeconds() > 52 ? 120_000 : 60_000));
    const sch = await direct(panels[0]!, 'POST', `/api/client/servers/${servers.s4.id}/schedules`, {
      body: { name: 'nightly', minute: String(scheduleMinute.getUTCMinutes()), hour: String(scheduleMinute.getUTCHours()), day_of_month: '*', month: '*', day_of_week: '*', is_active: true, only_when_online: false },
    });
    assert.equal(sch.status, 200, JSON.stringify(sch.body));
    const task = await direct(panels[1]!, 'POST', `/api/client/servers/${servers.s4.id}/schedules/${sch.body.attributes.id}/tasks`, { body: { action: 'backup', time_offset: 0 } });
    assert.equal(task.status, 200, JSON.stringify(task.body));
  });

  after(async () => {
    await Promise.all(daemons.map((d) => stopProcess(d)));
    await Promise.all(panels.map((p) => stopProcess(p)));
    await nginx?.stop();
    await admin?.close();
    await rgw?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a session signed in on one panel works on the other, and signing out on either ends it', async () => {
    const login = await direct(panels[0]!, 'POST', '/auth/login', { key: null, body: { email: 'other@example.test', password: PASSWORD } });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    const cookie = (login.headers['set-cookie'] as string[]).map((c) => c.split(';')[0]).join('; ');
    assert.equal((await direct(panels[1]!, 'GET', '/api/client/account', { key: null, headers: { cookie } })).body.attributes.email, 'other@example.test');
    assert.equal((await direct(panels[1]!, 'POST', '/auth/logout', { key: null, headers: { cookie } })).status, 204);
    assert.equal((await direct(panels[0]!, 'GET', '/api/client/account', { key: null, headers: { cookie } })).status, 401);
  });

  it('websocket credentials from either panel open the node\'s websocket', async () => {
    for (const panel of panels) {
      const creds = await direct(panel, 'GET', `/api/client/servers/${servers.s2.id}/websocket`);
      assert.equal(creds.status, 200, JSON.stringify(creds.body));
      const ws = new WebSocket(creds.body.data.socket as string);
      try {
        const first = new Promise<string>((resolve, reject) => {
          ws.once('message', (d) => resolve(JSON.parse(d.toString()).event as string));
          ws.once('error', reject);
        });
        await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
        ws.send(JSON.stringify({ event: 'auth', args: [creds.body.data.token] }));
        assert.equal(await first, 'auth success');
      } finally {
        ws.terminate();
      }
    }
  });

  it('the client API rate limit is one count across panels', async () => {
    const remaining = [];
    for (const panel of [panels[0]!, panels[1]!, panels[0]!]) {
      const r = await direct(panel, 'GET', '/api/client/account');
      assert.equal(r.status, 200);
      remaining.push(Number(r.headers['x-ratelimit-remaining']));
    }
    assert.deepEqual(remaining, [remaining[0]!, remaining[0]! - 1, remaining[0]! - 2]);
  });

  it(`the backup throttle and limit hold across panels: the ${THROTTLE + 1}rd backup in the window is refused whichever panel gets it`, async () => {
    for (const [server, order] of [[servers.s1.id, [0, 1, 0, 1]], [servers.s2.id, [1, 0, 1, 0]]] as const) {
      const statuses = [];
      for (const i of order) statuses.push((await direct(panels[i]!, 'POST', `/api/client/servers/${server}/backups`, { body: { name: `via panel ${i + 1}` } })).status);
      assert.deepEqual(statuses, [200, 200, 429, 429], `server ${server}`);
    }
    // Racing: six creates at once, split over both panels; the server row lock lets exactly two in.
    const race = await Promise.all(Array.from({ length: 6 }, (_, i) => direct(panels[i % 2]!, 'POST', `/api/client/servers/${servers.s5.id}/backups`, { body: { name: `race ${i}` } })));
    assert.deepEqual(race.map((r) => r.status).sort(), [200, 200, 429, 429, 429, 429]);
    // The backup limit the same way: s6 may keep one backup; four racing creates, one wins.
    const limited = await Promise.all(Array.from({ length: 4 }, (_, i) => direct(panels[i % 2]!, 'POST', `/api/client/servers/${servers.s6.id}/backups`, { body: { name: `limit ${i}` } })));
    assert.equal(limited.filter((r) => r.status === 200).length, 1, JSON.stringify(limited.map((r) => r.status)));
    assert.ok(limited.filter((r) => r.status !== 200).every((r) => r.status === 400 && /reached its limit/.test(JSON.stringify(r.body))), JSON.stringify(limited.map((r) => r.body)));
  });

  it('backups on both nodes complete, their reports reaching the panels through the balancer', async () => {
    for (const s of [servers.s1, servers.s2, servers.s5]) {
      const done = await waitUntil(`backups of ${s.id}`, 60_000, async () => {
        const list = await backupsOf(s.id);
        return list.length === THROTTLE && list.every((b) => b.completed_at !== null) && list;
      });
      for (const b of done) {
        assert.equal(b.is_successful, true, `${b.name} on node ${s.node}`);
        assert.match(b.checksum!, /^sha256:[0-9a-f]{64}$/);
      }
    }
  });

  it('sign-in attempts are one count across panels, per client address behind the balancer', async () => {
    const statuses = [];
    for (let i = 0; i < LOGIN_LIMIT + 2; i++) {
      const password = i === LOGIN_LIMIT + 1 ? PASSWORD : 'wrong password';
      statuses.push((await direct(panels[i % 2]!, 'POST', '/auth/login', { key: null, body: { email: 'owner@example.test', password } })).status);
    }
    // The last one had the right password: refused all the same until the window ends.
    assert.deepEqual(statuses, [...Array(LOGIN_LIMIT).fill(401), 429, 429]);
    // Through nginx the panels see the client's own address (TRUSTED_PROXIES), not the proxy's,
    // so another client is not locked out by those failures.
    const other = await viaBalancer('POST', '/auth/login', { body: { email: 'owner@example.test', password: PASSWORD }, headers: { 'x-forwarded-for': '203.0.113.7' } });
    assert.equal(other.status, 200, JSON.stringify(other.body));
  });

  it('a schedule fires once, though both panels run the scheduler', async () => {
    // Due at scheduleMinute; each panel ticks every 15 s, so 16 s later both have looked at it.
    const wait = scheduleMinute.getTime() + 16_000 - Date.now();
    if (wait > 0) await sleep(wait);
    const made = await waitUntil('the scheduled backup', 30_000, async () => {
      const list = await backupsOf(servers.s4.id);
      return list.length > 0 && list;
    });
    assert.equal(made.length, 1, JSON.stringify(made));
    const schedules = await viaBalancer('GET', `/api/client/servers/${servers.s4.id}/schedules`);
    assert.ok(schedules.body.data[0].attributes.last_run_at, 'the run is recorded');
  });

  it('backups land in their node\'s S3 destination; the copy in the second is used by download and restore while the first refuses', async () => {
    const s3 = rgw!.client();
    const exists = (bucket: string, key: string) => s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })).then(() => true, () => false);
    try {
      // Checked on the S3 server itself: bucket and prefix of each node's destination.
      for (const b of await backupsOf(servers.s1.id)) assert.ok(await exists('topo-a', `a/${servers.s1.uuid}/${b.uuid}.tar.gz`), `${b.name} of node 1 in topo-a/a/`);
      for (const b of await backupsOf(servers.s2.id)) {
        assert.ok(await exists('topo-b', `b/${servers.s2.uuid}/${b.uuid}.tar.gz`), `${b.name} of node 2 in topo-b/b/`);
        assert.ok(!(await exists('topo-a', `a/${servers.s2.uuid}/${b.uuid}.tar.gz`)), `${b.name} of node 2 not in topo-a`);
      }
      // Node 1's backups are copied to rgw-b (server-side: one provider), verified, shown as copies.
      const [b] = await backupsOf(servers.s1.id);
      const copied = await waitUntil('the copy of a node-1 backup', 60_000, async () => {
        const r = await viaBalancer('GET', `/api/client/servers/${servers.s1.id}/backups/${b!.uuid}`);
        return r.body.attributes.copies === 1 && r.body.attributes;
      });
      assert.equal(copied.destination, 'rgw-a');
      assert.ok(await exists('topo-b', `b/${servers.s1.uuid}/${b!.uuid}.tar.gz`), 'the copy is in rgw-b');

      // rgw-a goes down for reads: its bucket refuses every GET and HEAD (AccessDenied), the
      // owner's too. Its own presigned URL now fails; the panel hands out the copy's.
      await s3.send(new PutBucketPolicyCommand({
        Bucket: 'topo-a',
        Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::topo-a/*'] }] }),
      }));
      try {
        const direct = await fetch(await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'topo-a', Key: `a/${servers.s1.uuid}/${b!.uuid}.tar.gz` }), { expiresIn: 60 }));
        assert.equal(direct.status, 403, 'the first destination refuses');
        const dl = await viaBalancer('GET', `/api/client/servers/${servers.s1.id}/backups/${b!.uuid}/download`);
        assert.equal(dl.status, 200, JSON.stringify(dl.body));
        const url = new URL(dl.body.attributes.url as string);
        assert.equal(url.pathname, `/topo-b/b/${servers.s1.uuid}/${b!.uuid}.tar.gz`);
        const got = await fetch(url);
        assert.equal(got.status, 200);
        assert.equal(`sha256:${createHash('sha256').update(Buffer.from(await got.arrayBuffer())).digest('hex')}`, b!.checksum);

        // Restore (truncate) from the copy: the file changed since comes back as it was.
        const world = join(dir, 'node1', 'volumes', servers.s1.uuid, 'world.dat');
        writeFileSync(world, 'changed since the backup');
        const restore = await viaBalancer('POST', `/api/client/servers/${servers.s1.id}/backups/${b!.uuid}/restore`, { body: { truncate: true } });
        assert.equal(restore.status, 204, JSON.stringify(restore.body));
        await waitUntil('the restore from the copy', 60_000, async () => (await viaBalancer('GET', `/api/client/servers/${servers.s1.id}`)).body.attributes.status === null);
        assert.equal(readFileSync(world, 'utf8'), 's1 '.repeat(20_000), logs());
      } finally {
        await s3.send(new DeleteBucketPolicyCommand({ Bucket: 'topo-a' }));
      }
    } finally {
      s3.destroy();
    }
  });

  it('a panel SIGKILLed mid-flight loses nothing: the running backup completes through the other panel', async () => {
    // Accepted by panel 1, which dies while the daemon is still archiving: the daemon's report
    // then reaches panel 2 through the balancer.
    const created = await direct(panels[0]!, 'POST', `/api/client/servers/${servers.s3.id}/backups`, { body: { name: 'during the crash' } });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const uuid = created.body.attributes.uuid as string;
    panels[0]!.child.kill('SIGKILL');
    await new Promise((r) => (panels[0]!.child.exitCode !== null || panels[0]!.child.signalCode !== null ? r(null) : panels[0]!.child.once('exit', r)));
    const done = await waitUntil('the backup made while a panel died', 90_000, async () => (await backupsOf(servers.s3.id)).find((b) => b.uuid === uuid && b.completed_at !== null));
    assert.equal(done.is_successful, true, logs());
    // The balancer keeps serving: a new backup goes through the surviving panel.
    const next = await viaBalancer('POST', `/api/client/servers/${servers.s3.id}/backups`, { body: { name: 'after the crash' } });
    assert.equal(next.status, 200, JSON.stringify(next.body));
    await waitUntil('the backup made after the crash', 60_000, async () => (await backupsOf(servers.s3.id)).find((b) => b.uuid === next.body.attributes.uuid && b.completed_at !== null && b.is_successful));
  });
});
