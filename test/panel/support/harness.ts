/**
 * A panel on 127.0.0.1:0 (real HTTP) over a real database, with either the real daemon (in this
 * process, real HTTP both ways, real files) or a stub daemon for failure cases, and fauxqs for S3.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import type { FastifyInstance } from 'fastify';
import { silentLogger } from '../../../src/core/logger.ts';
import { startDaemon, type DaemonHandle } from '../../../src/daemon/main.ts';
import { parseDaemonConfig, renderDaemonConfig } from '../../../src/daemon/config.ts';
import { loadPanelConfig, type PanelConfig } from '../../../src/panel/config.ts';
import { openPanelContext, type PanelContext } from '../../../src/panel/context.ts';
import type { BackupRow, NodeRow, ServerRow } from '../../../src/panel/db/schema.ts';
import { buildPanelApp } from '../../../src/panel/http/app.ts';
import { createDaemonClient } from '../../../src/panel/daemon-client/daemon-client.ts';
import type { PublicUser } from '../../../src/panel/services/users.service.ts';
import { startStubDaemon, type StubDaemon } from './stub-daemon.ts';
import { TEST_APP_KEY } from '../../support/app-key.ts';

export interface HarnessOptions {
  databaseUrl: string;
  driver?: 'wings' | 's3';
  daemon?: 'real' | 'stub';
  env?: Record<string, string>;
  clock?: () => Date;
  /** The panel's timeout on daemon calls (default: the client's own). */
  daemonTimeoutMs?: number;
  /** YAML appended to the real daemon's config (e.g. a `control:` section). */
  daemonYaml?: string;
  /** The real daemon's write limit (MiB/s), to keep a backup running long enough to interfere with. */
  daemonWriteLimitMiB?: number;
  /** Sees every route of the real daemon as it is registered. */
  onDaemonRoute?: (route: import('fastify').RouteOptions) => void;
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
  text: string;
}

export interface Harness {
  url: string;
  ctx: PanelContext;
  app: FastifyInstance;
  config: PanelConfig;
  node: NodeRow;
  owner: PublicUser;
  ownerKey: string;
  stub?: StubDaemon;
  daemon?: DaemonHandle;
  daemonRoot?: string;
  s3?: FauxqsServer;
  api<T = any>(method: string, path: string, opts?: { key?: string | null; body?: unknown; rawBody?: string; headers?: Record<string, string> }): Promise<ApiResponse<T>>;
  user(email: string, opts?: { rootAdmin?: boolean; type?: 'client' | 'application' }): Promise<{ user: PublicUser; key: string }>;
  server(ownerId: number, opts?: { backupLimit?: number; status?: string | null }): Promise<ServerRow>;
  fixtureBackup(server: ServerRow, opts?: { successful?: boolean; completed?: boolean; locked?: boolean; disk?: string; createdAt?: string; checksum?: string; bytes?: number; name?: string }): Promise<BackupRow>;
  backup(uuid: string): Promise<BackupRow | undefined>;
  nodeAuth(): string;
  close(): Promise<void>;
}

export const BUCKET = 'backwing-test';
const MiB = 1024 * 1024;

export async function startHarness(o: HarnessOptions): Promise<Harness> {
  const driver = o.driver ?? 'wings';
  let s3: FauxqsServer | undefined;
  const env: Record<string, string> = {
    DATABASE_URL: o.databaseUrl,
    APP_BACKUP_DRIVER: driver,
    PANEL_HOST: '127.0.0.1',
    PANEL_PORT: '0',
    APP_URL: 'http://127.0.0.1:1',
    PANEL_WEB_DIST: '/nonexistent-web-dist',
    APP_KEY: TEST_APP_KEY,
    ...o.env,
  };
  if (driver === 's3' || o.env?.AWS_BACKUPS_BUCKET) {
    s3 = await startFauxqs({ port: 0, logger: false, host: '127.0.0.1' });
    s3.createBucket(BUCKET);
    Object.assign(env, {
      AWS_BACKUPS_BUCKET: BUCKET, AWS_DEFAULT_REGION: 'us-east-1', AWS_ENDPOINT: `http://127.0.0.1:${s3.port}`,
      AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_USE_PATH_STYLE_ENDPOINT: 'true', BACKUP_MAX_PART_SIZE: String(5 * MiB),
    }, o.env);
  }
  // The daemon must know the panel URL before it starts, so listen first and fix APP_URL after.
  let config = loadPanelConfig(env);
  const ctx = await openPanelContext(config, {
    logger: silentLogger(), clock: o.clock,
    daemonClient: o.daemonTimeoutMs === undefined ? undefined : createDaemonClient({ timeoutMs: o.daemonTimeoutMs }),
  });
  const app = await buildPanelApp(ctx, { docs: false });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const url = `http://127.0.0.1:${port}`;
  config = loadPanelConfig({ ...env, APP_URL: url, PANEL_PORT: String(port) });
  (ctx as { config: PanelConfig }).config = config;
  (ctx.deps as { config: PanelConfig }).config = config;

  const created = await ctx.services.nodes.create({ name: 'node-1', url: 'http://127.0.0.1:1' });
  let stub: StubDaemon | undefined;
  let daemon: DaemonHandle | undefined;
  let daemonRoot: string | undefined;
  if ((o.daemon ?? 'real') === 'stub') {
    stub = await startStubDaemon();
    await ctx.services.nodes.update(created.id, { url: stub.url });
  } else {
    daemonRoot = mkdtempSync(join(tmpdir(), 'backwing-panel-daemon-'));
    const yaml = renderDaemonConfig({
      uuid: created.uuid, tokenId: created.tokenId, token: created.token, remote: url,
      apiHost: '127.0.0.1', apiPort: 0, rootDirectory: daemonRoot, dataDirectory: join(daemonRoot, 'volumes'),
      backupDirectory: join(daemonRoot, 'backups'), restoreHostAllowlist: ['127.0.0.1'], remoteQueryTimeout: 5,
      writeLimitMiB: o.daemonWriteLimitMiB,
    });
    daemon = await startDaemon(parseDaemonConfig(yaml + (o.daemonYaml ?? ''), 'test'), { logger: silentLogger(), onRoute: o.onDaemonRoute });
    await ctx.services.nodes.update(created.id, { url: daemon.url });
  }
  const node = (await ctx.repos.nodes.findById(created.id))!;
  const owner = await ctx.services.users.create({ email: 'owner@example.com', password: 'owner-password' });
  const ownerKey = (await ctx.services.apiKeys.create(owner.id)).key;

  const h: Harness = {
    url, ctx, app, config, node, owner, ownerKey, stub, daemon, daemonRoot, s3,
    async api(method, path, opts = {}) {
      const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
      const key = opts.key === undefined ? ownerKey : opts.key;
      if (key) headers.authorization = `Bearer ${key}`;
      let body: string | undefined;
      if (opts.rawBody !== undefined) {
        body = opts.rawBody;
        headers['content-type'] ??= 'application/json';
      } else if (opts.body !== undefined) {
        body = JSON.stringify(opts.body);
        headers['content-type'] = 'application/json';
      }
      const res = await fetch(url + path, { method, headers, body, signal: AbortSignal.timeout(20_000) });
      const text = await res.text();
      let parsed: unknown = text;
      try { parsed = text === '' ? null : JSON.parse(text); } catch { /* keep text */ }
      return { status: res.status, body: parsed as any, headers: res.headers, text };
    },
    async user(email, uo = {}) {
      const user = await ctx.services.users.create({ email, password: 'user-password', rootAdmin: uo.rootAdmin });
      const key = (await ctx.services.apiKeys.create(user.id, { type: uo.type ?? 'client' })).key;
      return { user, key };
    },
    async server(ownerId, so = {}) {
      const s = await ctx.services.servers.create({ name: 'srv', ownerId, nodeId: node.id, backupLimit: so.backupLimit ?? 10 });
      if (so.status !== undefined) await ctx.services.servers.setStatus(s.id, so.status);
      return (await ctx.repos.servers.findById(s.id))!;
    },
    async fixtureBackup(server, fo = {}) {
      const completed = fo.completed ?? true;
      const successful = fo.successful ?? completed;
      const at = fo.createdAt ?? new Date().toISOString();
      const row = await ctx.repos.backups.insert({
        server_id: server.id, uuid: crypto.randomUUID(), name: fo.name ?? `fixture ${Math.random().toString(36).slice(2, 8)}`,
        ignored_files: [], disk: fo.disk ?? 'wings', is_locked: fo.locked ?? false, at,
      });
      if (completed) {
        await ctx.repos.backups.update(row.id, {
          is_successful: successful, completed_at: at,
          checksum: successful ? (fo.checksum ?? `sha256:${'ab'.repeat(32)}`) : null, bytes: successful ? (fo.bytes ?? 1234) : 0,
        }, at);
      }
      return (await ctx.repos.backups.findById(row.id))!;
    },
    backup: (uuid) => ctx.repos.backups.findAnyByUuid(uuid),
    nodeAuth: () => `Bearer ${created.tokenId}.${created.token}`,
    async close() {
      await daemon?.close().catch(() => {});
      await stub?.close().catch(() => {});
      await app.close().catch(() => {});
      await ctx.close().catch(() => {});
      await s3?.stop().catch(() => {});
      if (daemonRoot) rmSync(daemonRoot, { recursive: true, force: true });
    },
  };
  return h;
}

/** Polls until `fn` returns a truthy value or the timeout passes (then fails loudly). */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
