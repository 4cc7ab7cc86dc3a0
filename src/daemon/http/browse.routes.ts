/**
 * backwing extensions (issue 14): browse a local backup through its index. Listing and search are
 * node-token routes the panel calls; the file download is a panel-signed one-time link like the
 * backup download (`/download/backup/file?token=`, scope `backup-file`).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { BackupComparison, BackupFileEntry, BackupFileList, DaemonErrorBody } from '../../wire/daemon-api.ts';
import { daemonErrors } from '../errors.ts';
import { verifiedLink } from './download.routes.ts';
import { openSealedRepo } from '../restic/restic-request.ts';
import type { BackupRef } from '../services/browse.service.ts';
import type { DaemonHttpDeps } from './deps.ts';

const BackupParams = Type.Object({ server: Type.String(), backup: Type.String() });
const Paging = { page: Type.Optional(Type.Integer({ minimum: 1, default: 1 })), per_page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })) };
const errors = { 400: DaemonErrorBody, 401: DaemonErrorBody, 403: DaemonErrorBody, 404: DaemonErrorBody, 409: DaemonErrorBody, 422: DaemonErrorBody };
/** S3 backups: the panel passes presigned URLs of the archive and its index object in these headers. */
const S3_HEADERS = Type.Object({
  'x-backwing-archive-url': Type.Optional(Type.String({ description: 'S3 backups: presigned GET of the archive (read with Range requests)' })),
  'x-backwing-index-url': Type.Optional(Type.String({ description: 'S3 backups: presigned GET of the index object' })),
  'x-backwing-index-put-url': Type.Optional(Type.String({ description: 'S3 backups: presigned PUT where an index built from the archive is kept' })),
  'x-backwing-restic': Type.Optional(Type.String({ description: 'restic backups: the repository, sealed by the panel for this node (as the `restic` claim of a download link); the listing comes from `restic ls` of the backup\'s snapshot' })),
});

/** `prefix` '' for the backup in the path, 'other-' for the one `compare` compares it with. */
function refOf(req: FastifyRequest, deps: DaemonHttpDeps, serverUuid: string, backup: string, prefix = ''): BackupRef {
  const h = req.headers;
  const restic = h[`x-backwing-${prefix}restic`];
  if (typeof restic === 'string') return { serverUuid, backup, restic: openSealedRepo(deps.config.token.reveal(), restic) };
  const archive = h[`x-backwing-${prefix}archive-url`];
  const index = h[`x-backwing-${prefix}index-url`];
  const put = h[`x-backwing-${prefix}index-put-url`];
  if (typeof archive !== 'string' || typeof index !== 'string') return { serverUuid, backup };
  return { serverUuid, backup, s3: { archive, index, ...(typeof put === 'string' ? { indexPut: put } : {}) } };
}

const EXT = 'backwing extension, not in Wings. Read from the backup index; while the index of an archive that had none is built (one streaming pass, kept), the answer is 202 with status "building". A restic backup (X-Backwing-Restic) is read from `restic ls` of its snapshot.';

export async function browseRoutes(app: FastifyInstance, deps: DaemonHttpDeps): Promise<void> {
  app.get<{ Params: { server: string; backup: string }; Querystring: { path?: string; page?: number; per_page?: number } }>(
    '/api/servers/:server/backup/:backup/files',
    {
      schema: {
        summary: 'List a folder of a local backup (backwing extension)', description: EXT, tags: ['backups'], params: BackupParams, headers: S3_HEADERS,
        querystring: Type.Object({ path: Type.Optional(Type.String()), ...Paging }),
        response: { 200: BackupFileList, 202: BackupFileList, ...errors },
      },
    },
    async (req, reply) => {
      const server = await deps.registry.resolve(req.params.server);
      const list = await deps.browse.list(refOf(req, deps, server.uuid, req.params.backup), req.query.path, req.query.page ?? 1, req.query.per_page ?? 100);
      return reply.code(list.status === 'building' ? 202 : 200).send(list);
    },
  );

  app.get<{ Params: { server: string; backup: string }; Querystring: { pattern?: string; page?: number; per_page?: number } }>(
    '/api/servers/:server/backup/:backup/files/search',
    {
      schema: {
        summary: 'Search a local backup by name (backwing extension)',
        description: `${EXT} The pattern matches file and folder names (not their folders), case-insensitively; * and ? are wildcards, otherwise it is a substring.`,
        tags: ['backups'], params: BackupParams, headers: S3_HEADERS,
        querystring: Type.Object({ pattern: Type.Optional(Type.String()), ...Paging }),
        response: { 200: BackupFileList, 202: BackupFileList, ...errors },
      },
    },
    async (req, reply) => {
      const server = await deps.registry.resolve(req.params.server);
      const list = await deps.browse.search(refOf(req, deps, server.uuid, req.params.backup), req.query.pattern, req.query.page ?? 1, req.query.per_page ?? 100);
      return reply.code(list.status === 'building' ? 202 : 200).send(list);
    },
  );


  app.get<{ Params: { server: string; backup: string }; Querystring: { path?: string } }>(
    '/api/servers/:server/backup/:backup/files/stat',
    {
      schema: {
        summary: 'One entry of a local backup (backwing extension)', description: `${EXT} 404 names a path the backup does not have.`, tags: ['backups'], params: BackupParams, headers: S3_HEADERS,
        querystring: Type.Object({ path: Type.Optional(Type.String()) }),
        response: { 200: BackupFileEntry, 202: Type.Object({ status: Type.Literal('building') }), ...errors },
      },
    },
    async (req, reply) => {
      const server = await deps.registry.resolve(req.params.server);
      const entry = await deps.browse.stat(refOf(req, deps, server.uuid, req.params.backup), req.query.path);
      return 'building' in entry ? reply.code(202).send({ status: 'building' }) : reply.send(entry);
    },
  );

  app.get<{ Params: { server: string; backup: string }; Querystring: { with: string; page?: number; per_page?: number } }>(
    '/api/servers/:server/backup/:backup/compare',
    {
      schema: {
        summary: 'What changed between two backups of a server (backwing extension)',
        description: `${EXT} Added, removed and changed entries from \`backup\` to \`with\`, from the two indexes alone. For S3 backups the second one's URLs come in X-Backwing-Other-Archive-Url / X-Backwing-Other-Index-Url (/ -Index-Put-Url); for a restic one its sealed repository in X-Backwing-Other-Restic.`,
        tags: ['backups'], params: BackupParams, headers: S3_HEADERS,
        querystring: Type.Object({ with: Type.String(), ...Paging }),
        response: { 200: BackupComparison, 202: BackupComparison, ...errors },
      },
    },
    async (req, reply) => {
      const server = await deps.registry.resolve(req.params.server);
      const r = await deps.browse.compare(refOf(req, deps, server.uuid, req.params.backup), refOf(req, deps, server.uuid, req.query.with, 'other-'), req.query.page ?? 1, req.query.per_page ?? 100);
      return reply.code(r.status === 'building' ? 202 : 200).send(r);
    },
  );
}

/** The one-time file link; registered outside the node-token scope (the token is the credential). */
export async function browseDownloadRoutes(app: FastifyInstance, deps: DaemonHttpDeps): Promise<void> {
  app.get<{ Querystring: { token?: string } }>(
    '/download/backup/file',
    {
      schema: {
        summary: 'Download one file (raw) or folder (.tar.gz) of a local backup with a panel-signed one-time token (backwing extension)',
        description: 'backwing extension. The token has scope "backup-file" and a `path` claim. Only the index and the gzip members holding the path are read.',
        tags: ['backups'],
        querystring: Type.Object({ token: Type.Optional(Type.String()) }),
        response: { 401: DaemonErrorBody, 403: DaemonErrorBody, 404: DaemonErrorBody, 409: DaemonErrorBody, 422: DaemonErrorBody },
      },
    },
    async (req, reply) => {
      const { claims, serverUuid } = await verifiedLink(req.query.token, (t) => deps.verifier.downloadFile(t), deps);
      const s3 = typeof claims.archive_url === 'string' && typeof claims.index_url === 'string' ? { archive: claims.archive_url, index: claims.index_url } : undefined;
      // A restic backup's repository travels sealed in the link, as for the whole-backup download.
      const restic = typeof claims.restic === 'string' ? openSealedRepo(deps.config.token.reveal(), claims.restic) : undefined;
      const opened = await deps.browse.open({ serverUuid, backup: claims.backup_uuid, ...(s3 ? { s3 } : {}), ...(restic ? { restic } : {}) }, claims.path);
      if (!deps.downloadIds.claim(claims.unique_id, claims.exp)) {
        opened.stream.destroy();
        throw daemonErrors.resourceNotFound();
      }
      const ascii = opened.name.replace(/[^\x20-\x7e]|["\\]/g, '_');
      reply.headers({
        'content-type': opened.kind === 'dir' ? 'application/gzip' : 'application/octet-stream',
        'content-disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(opened.name)}`,
        'cache-control': 'no-store',
      });
      if (opened.size !== null) reply.header('content-length', String(opened.size));
      return reply.code(200).send(opened.stream);
    },
  );
}
