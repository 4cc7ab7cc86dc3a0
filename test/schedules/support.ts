/**
 * Shared set-up for the schedule tests: a real panel context (real database, real services) with
 * a manual clock, and a loopback HTTP endpoint standing in for the node's daemon. The daemon's
 * side of a backup (building the archive) is not what these tests are about; they complete
 * backups through the panel's remote-status service, the same code the daemon's report reaches.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadPanelConfig } from '../../src/panel/config.ts';
import { openPanelContext, type PanelContext } from '../../src/panel/context.ts';
import type { BackupRow, NodeRow, ServerRow } from '../../src/panel/db/schema.ts';
import { ManualClock } from '../../src/panel/scheduler/clock.ts';
import { scheduleModuleFor, type ScheduleModule } from '../../src/panel/scheduler/schedule-module.ts';
import { TEST_APP_KEY } from '../support/app-key.ts';

export interface DaemonCall {
  method: string;
  path: string;
  body: unknown;
}

export interface RecordingDaemon {
  url: string;
  calls: DaemonCall[];
  creates(): string[];
  deletes(): string[];
  close(): Promise<void>;
}

/** Answers the panel's daemon calls with 204 and remembers them. */
export async function startRecordingDaemon(): Promise<RecordingDaemon> {
  const calls: DaemonCall[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c: Buffer) => { raw += c.toString(); });
    req.on('end', () => {
      let body: unknown = null;
      try { body = raw ? JSON.parse(raw) : null; } catch { body = raw; }
      calls.push({ method: req.method ?? '', path: req.url ?? '', body });
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    creates: () => calls.filter((c) => c.method === 'POST' && /\/backup$/.test(c.path)).map((c) => (c.body as { uuid: string }).uuid),
    deletes: () => calls.filter((c) => c.method === 'DELETE').map((c) => c.path.split('/').pop()!),
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

export interface Fixture {
  ctx: PanelContext;
  clock: ManualClock;
  module: ScheduleModule;
  node: NodeRow;
  server: ServerRow;
  ownerId: number;
  daemon: RecordingDaemon;
  close(): Promise<void>;
}

export async function openFixture(databaseUrl: string, opts: { start: string; backupLimit: number; throttlePeriodSeconds?: number; daemon?: RecordingDaemon }): Promise<Fixture> {
  const clock = new ManualClock(opts.start);
  const daemon = opts.daemon ?? (await startRecordingDaemon());
  const config = loadPanelConfig({ APP_KEY: TEST_APP_KEY }, { databaseUrl, throttle: { limit: 2, periodSeconds: opts.throttlePeriodSeconds ?? 0 }, pruneAgeMinutes: 0 });
  const ctx = await openPanelContext(config, { clock: () => clock.now() });
  const module = scheduleModuleFor(ctx, { sleep: clock.sleep });
  const owner = await ctx.services.users.create({ email: `owner-${Math.random().toString(36).slice(2)}@example.test`, password: 'correct horse battery staple' });
  const createdNode = await ctx.services.nodes.create({ name: 'node-1', url: daemon.url });
  const created = await ctx.services.servers.create({ name: 'survival', ownerId: owner.id, nodeId: createdNode.id, backupLimit: opts.backupLimit });
  const node = (await ctx.repos.nodes.findById(createdNode.id))!;
  const server = (await ctx.repos.servers.findById(created.id))!;
  return {
    ctx, clock, module, node, server, ownerId: owner.id, daemon,
    async close() {
      await module.scheduler.stop();
      await ctx.close();
      if (!opts.daemon) await daemon.close();
    },
  };
}

/** Reports a backup's result the way the daemon does. */
export async function completeBackup(f: Fixture, uuid: string, successful = true): Promise<void> {
  await f.ctx.services.remote.reportBackup(f.node, uuid, successful
    ? { successful: true, checksum: 'ab'.repeat(32), checksum_type: 'sha256', size: 1024 }
    : { successful: false });
}

export async function liveBackups(f: Fixture): Promise<BackupRow[]> {
  return f.ctx.repos.backups.listAllForServer(f.server.id);
}

export async function events(f: Fixture, event: string): Promise<Array<{ properties: Record<string, unknown>; actor_id: number | null }>> {
  const rows = await f.ctx.repos.activity.listByEvent(event);
  return rows.map((r) => ({ properties: JSON.parse(r.properties) as Record<string, unknown>, actor_id: r.actor_id }));
}

/** A schedule with one backup task, created through the service as the API would. */
export async function backupSchedule(f: Fixture, cron: { minute: string; hour: string; day_of_month?: string; month?: string; day_of_week?: string }, task: Record<string, unknown> = {}) {
  const { row } = await f.module.schedules.create(f.server, {
    name: 'auto', minute: cron.minute, hour: cron.hour, day_of_month: cron.day_of_month ?? '*', month: cron.month ?? '*', day_of_week: cron.day_of_week ?? '*', is_active: true,
  });
  await f.module.schedules.createTask(f.server, row.id, { action: 'backup', time_offset: 0, ...task });
  return row;
}
