/**
 * `GET /download/backup?token=<jwt>` — a user's browser fetches a local backup with a token the
 * panel signed with the node token.
 *
 * One-time use vs. resumable downloads: a plain (non-Range) request claims the token's
 * `unique_id`, so replaying the link for a second full download answers 404. Requests WITH a Range
 * header are allowed with an already claimed id until the token's `exp` (15 minutes), because a
 * browser resuming an interrupted download sends the same URL with `Range`. Without this a
 * dropped connection would force the user back to the panel; with it the token still cannot be
 * used after it expires, and the first plain request still burns it.
 */
import { open } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { DaemonErrorBody } from '../../wire/daemon-api.ts';
import { daemonErrors } from '../errors.ts';
import { canonicalUuid } from '../uuid.ts';
import { isSafeBackupFileName } from '../../core/file-name.ts';
import { TokenInvalid } from '../services/token-verifier.ts';
import type { DaemonHttpDeps } from './deps.ts';
import { sendResticDownload } from './restic-download.ts';

/** A single byte range, or 'unsatisfiable', or null when the header is absent or not understood. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)(?:,.*)?$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return null;
  }
  if (start >= size || size === 0) return 'unsatisfiable';
  return { start, end };
}

/**
 * A link's token checked (401 without one, 403 when it does not verify) and its server known to
 * this node (404 otherwise): what every one-time download link starts with.
 */
export async function verifiedLink<C extends { server_uuid: string }>(token: string | undefined, verify: (t: string) => Promise<C>, deps: DaemonHttpDeps): Promise<{ claims: C; serverUuid: string }> {
  if (!token) throw daemonErrors.missingAuth();
  let claims: C;
  try {
    claims = await verify(token);
  } catch (err) {
    if (err instanceof TokenInvalid) throw daemonErrors.forbidden();
    throw err;
  }
  const serverUuid = canonicalUuid(claims.server_uuid);
  if (!serverUuid || !(await deps.registry.knows(serverUuid))) throw daemonErrors.resourceNotFound();
  return { claims, serverUuid };
}

export async function downloadRoutes(app: FastifyInstance, deps: DaemonHttpDeps): Promise<void> {
  app.get<{ Querystring: { token?: string } }>(
    '/download/backup',
    {
      schema: {
        summary: 'Download a local backup with a panel-signed one-time token',
        tags: ['backups'],
        querystring: Type.Object({ token: Type.Optional(Type.String()) }),
        response: { 401: DaemonErrorBody, 403: DaemonErrorBody, 404: DaemonErrorBody, 416: DaemonErrorBody },
      },
    },
    async (req, reply) => {
      const { claims, serverUuid } = await verifiedLink(req.query.token, (t) => deps.verifier.download(t), deps);
      const backupUuid = canonicalUuid(claims.backup_uuid);
      const fileName = isSafeBackupFileName(claims.file_name) ? claims.file_name : `${backupUuid}.tar.gz`;
      // backwing: a restic backup (the panel sealed its repository into the token).
      if (typeof claims.restic === 'string' && backupUuid) return sendResticDownload(req, reply, deps, claims, serverUuid, backupUuid, fileName);
      const found = backupUuid ? await deps.store.claim(serverUuid, backupUuid) : null;
      if (!found || !backupUuid) throw daemonErrors.backupNotFound();
      // Open before answering: a DELETE racing in can then only make this a clean 404, never a
      // 500 from a stream that fails to open after the headers were decided. Size from the handle.
      const fh = await open(found.path, 'r').catch(() => null);
      if (!fh) throw daemonErrors.backupNotFound();
      let owned: { size: number };
      try {
        owned = { size: (await fh.stat()).size };
      } catch (err) {
        await fh.close();
        throw err;
      }

      const rangeHeader = req.headers.range;
      const range = parseRange(rangeHeader, owned.size);
      // HEAD (download managers probe first) transfers nothing, so it must not burn the token.
      const burnsToken = range === null && req.method !== 'HEAD';
      const refusal =
        range === 'unsatisfiable' ? daemonErrors.rangeNotSatisfiable(owned.size)
        : burnsToken && !deps.downloadIds.claim(claims.unique_id, claims.exp) ? daemonErrors.resourceNotFound()
        : null;
      if (refusal || req.method === 'HEAD') await fh.close();
      if (refusal || range === 'unsatisfiable') throw refusal;
      reply.headers({
        'content-type': 'application/gzip',
        // The panel's name for it when it sent one (backwing), else Wings' `<uuid>.tar.gz`.
        'content-disposition': `attachment; filename="${fileName}"`,
        'accept-ranges': 'bytes',
        'cache-control': 'no-store',
      });
      let status = 200;
      if (range === null) {
        reply.header('content-length', String(owned.size));
      } else {
        status = 206;
        reply.header('content-range', `bytes ${range.start}-${range.end}/${owned.size}`);
        reply.header('content-length', String(range.end - range.start + 1));
      }
      if (req.method === 'HEAD') {
        // Fastify's automatic HEAD would read a stream to the end and discard it: a full read of
        // the archive for a probe. Answer the headers ourselves.
        reply.hijack();
        reply.raw.writeHead(status, reply.getHeaders() as Record<string, string>);
        reply.raw.end();
        return reply;
      }
      const stream = range === null ? fh.createReadStream() : fh.createReadStream({ start: range.start, end: range.end });
      return reply.code(status).send(stream);
    },
  );
}
