/**
 * A stand-in for an upstream Pterodactyl panel, both directions, as the reference describes them:
 * - its remote API for the node (`/api/remote/...`, `Bearer <token_id>.<token>`): the paginated
 *   server list, the backup and restore status reports validated like `ReportBackupCompleteRequest`
 *   (422 when a successful report lacks checksum or size, 400 for a backup already completed, 404
 *   for an unknown one), `/servers/reset`;
 * - its calls to the node (`Bearer <token>`), as `DaemonBackupRepository` makes them, and the
 *   download links it signs.
 * Upstream ignores fields it does not know; this stand-in accepts them too but records them in
 * `unknownFields`, so a test can prove the daemon sent Wings' fields and nothing else.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { SignJWT } from 'jose';
import { httpRequest } from './http-request.ts';
import { WaitableList } from './helpers.ts';

export interface UpstreamBackup {
  uuid: string;
  server: string;
  disk: 'wings' | 's3';
  is_successful: boolean;
  checksum: string | null;
  bytes: number;
  completed_at: string | null;
}

export interface UpstreamReport {
  path: string;
  body: any;
  status: number;
  /** When it arrived (Date.now()), to order it against other stand-ins' calls. */
  at: number;
}

export interface UpstreamPanel {
  url: string;
  token: string;
  tokenId: string;
  servers: string[];
  /** Server uuid → status (`restoring_backup` or null), as the panel's servers table. */
  status: Map<string, string | null>;
  backups: Map<string, UpstreamBackup>;
  reports: UpstreamReport[];
  remoteCalls: string[];
  /** `path: field` for every field a report carried that Wings does not send. */
  unknownFields: string[];
  /** A backup row the panel already has (e.g. one Wings made earlier). */
  addBackup(server: string, uuid?: string, completed?: boolean): string;
  waitForReport(pred: (r: UpstreamReport) => boolean, timeoutMs?: number): Promise<UpstreamReport>;
  /** The panel → node calls, to `nodeUrl` (the proxy). */
  node(nodeUrl: string, ca?: Buffer): {
    backup(server: string): Promise<{ status: number; uuid: string }>;
    restore(server: string, backup: string, truncate: boolean): Promise<{ status: number; text: string }>;
    remove(server: string, backup: string): Promise<{ status: number; text: string }>;
    downloadUrl(server: string, backup: string): Promise<string>;
  };
  close(): Promise<void>;
}

const WINGS_FIELDS: Record<string, string[]> = {
  backup: ['successful', 'checksum', 'checksum_type', 'size', 'parts'],
  restore: ['successful'],
};

const laravelBool = (v: unknown) => v === true || v === false || v === 0 || v === 1 || v === '0' || v === '1';

export async function startUpstreamPanel(opts: { servers: string[] }): Promise<UpstreamPanel> {
  const token = randomBytes(32).toString('hex');
  const tokenId = randomBytes(8).toString('hex');
  const key = new TextEncoder().encode(token);
  const log = new WaitableList<UpstreamReport>();
  const reports = log.items;
  const app = Fastify({ logger: false });
  const error = (status: number, code: string, detail: string) => ({ errors: [{ code, status: String(status), detail }] });

  const panel: UpstreamPanel = {
    url: '',
    token,
    tokenId,
    servers: [...opts.servers],
    status: new Map(opts.servers.map((s) => [s, null])),
    backups: new Map(),
    reports,
    remoteCalls: [],
    unknownFields: [],
    addBackup(server, uuid = randomUUID(), completed = false) {
      panel.backups.set(uuid, { uuid, server, disk: 'wings', is_successful: completed, checksum: null, bytes: 0, completed_at: completed ? new Date().toISOString() : null });
      return uuid;
    },
    waitForReport: (pred, timeoutMs) => log.waitFor(pred, timeoutMs),
    node(nodeUrl, ca) {
      const call = async (method: string, path: string, body?: unknown) => {
        const res = await httpRequest(nodeUrl + path, {
          method,
          headers: { authorization: `Bearer ${token}`, accept: 'application/json', 'content-type': 'application/json', 'user-agent': 'Pterodactyl Panel/v1.11.11' },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          ...(ca ? { ca } : {}),
        });
        return { status: res.status, text: res.text };
      };
      return {
        async backup(server) {
          const uuid = panel.addBackup(server);
          const res = await call('POST', `/api/servers/${server}/backup`, { adapter: 'wings', uuid, ignore: '' });
          return { status: res.status, uuid };
        },
        async restore(server, backup, truncate) {
          panel.status.set(server, 'restoring_backup');
          const res = await call('POST', `/api/servers/${server}/backup/${backup}/restore`, { adapter: 'wings', truncate_directory: truncate, download_url: '' });
          if (res.status >= 300) panel.status.set(server, null);
          return res;
        },
        remove: (server, backup) => call('DELETE', `/api/servers/${server}/backup/${backup}`),
        async downloadUrl(server, backup) {
          const now = Math.floor(Date.now() / 1000);
          const jwt = await new SignJWT({ backup_uuid: backup, server_uuid: server, unique_id: randomBytes(8).toString('hex'), user_uuid: randomUUID(), user_id: 1 })
            .setProtectedHeader({ alg: 'HS256', jti: 'x' })
            .setIssuer(panel.url)
            .setAudience(nodeUrl)
            .setJti(randomBytes(16).toString('hex'))
            .setIssuedAt(now)
            .setNotBefore(now - 300)
            .setExpirationTime(now + 900)
            .sign(key);
          return `${nodeUrl}/download/backup?token=${jwt}`;
        },
      };
    },
    async close() {
      app.server.closeAllConnections();
      await app.close();
    },
  };

  app.addHook('onRequest', async (req, reply) => {
    panel.remoteCalls.push(`${req.method} ${req.url.split('?')[0]}`);
    if (req.headers.authorization !== `Bearer ${tokenId}.${token}`) return reply.code(403).send(error(403, 'AccessDeniedHttpException', 'You are not authorized to access this resource.'));
  });

  const record = (path: string, body: unknown, status: number) => {
    log.push({ path, body, status, at: Date.now() });
  };
  const noteUnknown = (kind: string, path: string, body: unknown) => {
    if (body && typeof body === 'object') for (const k of Object.keys(body)) if (!WINGS_FIELDS[kind]!.includes(k)) panel.unknownFields.push(`${path}: ${k}`);
  };

  app.get<{ Querystring: { page?: string; per_page?: string } }>('/api/remote/servers', async (req) => {
    const page = Math.max(1, Number(req.query.page ?? 1));
    const per = Math.max(1, Number(req.query.per_page ?? 50));
    const all = panel.servers.map((uuid) => ({ uuid, settings: { uuid, meta: { name: 'server' }, suspended: false, environment: {}, invocation: '', skip_egg_scripts: false, build: {}, container: {}, allocations: {}, mounts: [], egg: {} }, process_configuration: { startup: {}, stop: { type: 'command', value: 'stop' }, configs: [] } }));
    const last = Math.max(1, Math.ceil(all.length / per));
    const data = all.slice((page - 1) * per, page * per);
    return { data, links: { first: null, last: null, prev: null, next: null }, meta: { current_page: page, from: data.length ? (page - 1) * per + 1 : null, last_page: last, links: [], path: `${panel.url}/api/remote/servers`, per_page: per, to: data.length ? (page - 1) * per + data.length : null, total: all.length } };
  });
  app.get<{ Params: { uuid: string } }>('/api/remote/servers/:uuid', async (req, reply) => {
    if (!panel.servers.includes(req.params.uuid)) return reply.code(404).send(error(404, 'NotFoundHttpException', 'The requested resource could not be found on the server.'));
    return { settings: { uuid: req.params.uuid, suspended: false }, process_configuration: {} };
  });
  app.post('/api/remote/servers/reset', async (req, reply) => {
    record('/servers/reset', req.body, 204);
    return reply.code(204).send();
  });
  app.post<{ Params: { uuid: string } }>('/api/remote/backups/:uuid', async (req, reply) => {
    const path = `/backups/${req.params.uuid}`;
    const body = (req.body ?? {}) as Record<string, unknown>;
    noteUnknown('backup', path, body);
    const backup = panel.backups.get(req.params.uuid);
    const fail = (status: number, code: string, detail: string) => {
      record(path, body, status);
      return reply.code(status).send(error(status, code, detail));
    };
    if (!backup) return fail(404, 'NotFoundHttpException', 'No query results for model [Backup].');
    if (body.successful !== undefined && !laravelBool(body.successful)) return fail(422, 'ValidationException', 'The successful field must be true or false.');
    const ok = body.successful === true || body.successful === 1 || body.successful === '1';
    if (body.checksum !== undefined && body.checksum !== null && typeof body.checksum !== 'string') return fail(422, 'ValidationException', 'The checksum must be a string.');
    if (ok && (body.checksum === undefined || body.checksum === null || body.checksum === '')) return fail(422, 'ValidationException', 'The checksum field is required when successful is true.');
    if (body.size !== undefined && body.size !== null && typeof body.size !== 'number') return fail(422, 'ValidationException', 'The size must be a number.');
    if (ok && (body.size === undefined || body.size === null)) return fail(422, 'ValidationException', 'The size field is required when successful is true.');
    if (backup.completed_at !== null) return fail(400, 'BadRequestHttpException', 'Cannot update the status of a backup that is already marked as completed.');
    backup.is_successful = ok;
    backup.checksum = ok ? `${String(body.checksum_type)}:${String(body.checksum)}` : null;
    backup.bytes = ok ? Number(body.size) : 0;
    backup.completed_at = new Date().toISOString();
    record(path, body, 204);
    return reply.code(204).send();
  });
  app.post<{ Params: { uuid: string } }>('/api/remote/backups/:uuid/restore', async (req, reply) => {
    const path = `/backups/${req.params.uuid}/restore`;
    const body = (req.body ?? {}) as Record<string, unknown>;
    noteUnknown('restore', path, body);
    const backup = panel.backups.get(req.params.uuid);
    if (!backup) {
      record(path, body, 404);
      return reply.code(404).send(error(404, 'NotFoundHttpException', 'No query results for model [Backup].'));
    }
    panel.status.set(backup.server, null);
    record(path, body, 204);
    return reply.code(204).send();
  });
  app.get<{ Params: { uuid: string } }>('/api/remote/backups/:uuid', async (_req, reply) =>
    reply.code(400).send(error(400, 'BadRequestHttpException', 'The configured backup adapter is not an S3 compatible adapter.')),
  );

  await app.listen({ port: 0, host: '127.0.0.1' });
  panel.url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return panel;
}
