import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { BackupComparisonObject, BackupFileListResponse, BackupList, BackupObject, SignedUrl, Nullable, type BackupObject as BackupObjectT } from '../../wire/client-api.ts';
import { DaemonIgnoreFile, type BackupFileList } from '../../wire/daemon-api.ts';
import { FILES_MAX_PER_PAGE, FILES_PER_PAGE } from '../services/backup-files.service.ts';
import type { PanelContext } from '../context.ts';
import type { BackupRow } from '../db/schema.ts';
import type { BackupViewRow } from '../repositories/backups.repository.ts';
import { PanelErrors } from '../errors.ts';
import { can } from '../services/access.ts';
import { toBackupAttributes, type BackupPlacement } from '../services/backup-view.ts';
import { DEFAULT_PER_PAGE, MAX_PER_PAGE } from '../services/backups.service.ts';
import { paginationMeta, readPage } from './pagination.ts';
import { backupOf, scopeOf, serverScopeHook } from './server-scope.ts';
import { BackupListCache } from './backup-list-cache.ts';

const JSON_TYPE = 'application/json; charset=utf-8';
/** The list's data, written by the serializer Fastify builds from the schema (compiled once per route). */
const BackupListData = Type.Array(BackupObject) as unknown as Record<string, unknown>;
type SerializeData = (data: BackupObjectT[]) => string;

const ServerParams = Type.Object({ server: Type.String() });
const BackupParams = Type.Object({ server: Type.String(), backup: Type.String() });

/** Route-level body: the wire shape plus upstream's length rule. */
const CreateBody = Type.Object({
  name: Type.Optional(Nullable(Type.String({ maxLength: 191 }))),
  is_locked: Type.Optional(Nullable(Type.Union([Type.Boolean(), Type.String(), Type.Integer()]))),
  ignored: Type.Optional(Nullable(Type.String())),
});

const RestoreBody = Type.Object({
  truncate: Type.Boolean(),
  paths: Type.Optional(Type.Array(Type.String(), { minItems: 1, maxItems: 1000, description: 'backwing extension: restore only these files and folders of a local backup (read through its index). `truncate` is then ignored: nothing else on the server is touched. 422 for a path with "..", NUL or a leading "/", 404 naming a path the backup does not have.' })),
  keep_newer: Type.Optional(Type.Boolean({ description: 'backwing extension, with paths: keep a file on the server that is newer than its copy in the backup (default: overwrite).' })),
});

const IgnoreFileObject = Type.Object({
  object: Type.Literal('ignore_file'),
  attributes: Type.Object({
    ...DaemonIgnoreFile.properties,
    node_defaults: Type.Array(Type.String(), { description: "backwing (issue 17): the node's default patterns, set by the admin; they apply below the .pteroignore and the request's own" }),
    egg_defaults: Type.Array(Type.String(), { description: "backwing (issue 17): the default patterns of the server's game type (egg), set by the admin; above the node's, below the .pteroignore and the request's own" }),
  }),
});

export function backupObject(b: BackupViewRow, placement?: BackupPlacement): BackupObjectT {
  return { object: 'backup', attributes: toBackupAttributes(b, placement) };
}

/** Laravel's boolean rule: true, false, 1, 0, "1", "0" (plus "true"/"false", which forms send). */
function parseBooleanField(field: string, v: unknown): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (v === true || v === 1 || v === '1' || v === 'true') return true;
  if (v === false || v === 0 || v === '0' || v === 'false') return false;
  throw PanelErrors.validation(field, 'boolean', `The ${field.replace(/_/g, ' ')} field must be true or false.`);
}

export async function backupRoutes(app: FastifyInstance, opts: { ctx: PanelContext }): Promise<void> {
  const { ctx } = opts;
  const svc = ctx.services.backups;
  const base = '/api/client/servers/:server/backups';
  const listCache = new BackupListCache(ctx.config.backupListCacheEntries);
  const placed = async (b: BackupRow) => backupObject(b, (await svc.placements([b])).get(b.id));

  app.get(base, {
    schema: { tags: ['backups'], params: ServerParams, response: { 200: BackupList } },
    preValidation: serverScopeHook(ctx, { permission: 'backup.read', kept: true }),
  }, async (request, reply) => {
    const { server, backupListVersion } = scopeOf(request);
    const { page, perPage } = readPage(request, DEFAULT_PER_PAGE, MAX_PER_PAGE);
    let r = listCache.get(server.uuid, page, perPage, backupListVersion);
    if (!r) {
      const p = await svc.list(server, page, perPage);
      r = {
        version: backupListVersion, count: p.rows.length, total: p.total, backupCount: p.backupCount, backupBytes: p.backupBytes,
        dataJson: (reply.compileSerializationSchema(BackupListData) as unknown as SerializeData)(p.rows.map((b) => backupObject(b.backup, { destination: b.destination, copies: b.copies }))),
      };
      listCache.set(server.uuid, page, perPage, r);
    }
    // The BackupList shape, with the page's data as rendered once (the schema above documents it);
    // the whole answer is kept for the path it was asked on (the links name it), so a repeated
    // request writes the same bytes again.
    const path = request.url.split('?')[0]!;
    if (r.body?.path !== path) {
      const meta = JSON.stringify(paginationMeta(ctx.config.appUrl, path, page, perPage, r.total, r.count));
      r.body = { path, bytes: Buffer.from(`{"object":"list","data":${r.dataJson},"meta":{"backup_count":${r.backupCount},"backup_bytes":${r.backupBytes},"pagination":${meta}}}`) };
    }
    return reply.type(JSON_TYPE).send(r.body.bytes);
  });

  app.post(base, {
    schema: { tags: ['backups'], params: ServerParams, body: CreateBody, response: { 200: BackupObject } },
    preValidation: serverScopeHook(ctx, { permission: 'backup.create' }),
  }, async (request) => {
    const scope = scopeOf(request);
    const body = (request.body ?? {}) as { name?: string; is_locked?: unknown; ignored?: string };
    const requestedLock = parseBooleanField('is_locked', body.is_locked) === true;
    const { row, placement } = await svc.createPlaced(scope, {
      name: body.name,
      ignored: body.ignored,
      // Locking is a delete-protection, so only someone who may delete may set it.
      isLocked: requestedLock && can(scope.access, 'backup.delete'),
    }, scope.auth.actor);
    return backupObject(row, placement);
  });

  app.get(`${base}/ignore-file`, {
    schema: {
      tags: ['backups'], params: ServerParams,
      summary: "The server's .pteroignore (backwing extension)",
      description: "backwing extension. Needs backup.create. What the node's .pteroignore says, so the create dialog can show what every backup leaves out besides the request's own patterns. The node reads it without following a symbolic link, up to 32 KiB; `state` says why `content` may be empty (absent, symlink, not_a_file, too_large, unreadable).",
      response: { 200: IgnoreFileObject },
    },
    preValidation: serverScopeHook(ctx, { permission: 'backup.create' }),
  }, async (request) => {
    const scope = scopeOf(request);
    return { object: 'ignore_file' as const, attributes: await svc.ignoreFile(scope) };
  });

  app.get(`${base}/:backup`, {
    schema: { tags: ['backups'], params: BackupParams, response: { 200: BackupObject } },
    preValidation: serverScopeHook(ctx, { permission: 'backup.read' }),
  }, async (request) => placed(backupOf(request)));

  app.get(`${base}/:backup/download`, {
    schema: { tags: ['backups'], params: BackupParams, response: { 200: SignedUrl } },
    preValidation: serverScopeHook(ctx, { permission: 'backup.download' }),
  }, async (request) => {
    const scope = scopeOf(request);
    const url = await svc.downloadUrl(scope, backupOf(request), scope.auth.actor);
    return { object: 'signed_url', attributes: { url } };
  });

  const files = ctx.services.backupFiles;
  const FILES_DOC = 'backwing extension. Needs backup.download. Read from the backup index on the node (local backups): only the index and the gzip members that hold a path are read. While the index of an archive that had none (Wings, GNU tar) is built, the answer is 202 with meta.status "building" and no entries. 422 for a path with "..", NUL or a leading "/"; 404 naming a path the backup does not have.';
  const filesPage = (request: Parameters<typeof readPage>[0]) => readPage(request, FILES_PER_PAGE, FILES_MAX_PER_PAGE);
  const fileList = (request: { url: string }, r: BackupFileList, page: number, perPage: number): BackupFileListResponse => ({
    object: 'list',
    data: r.entries.map((attributes) => ({ object: 'backup_file' as const, attributes })),
    meta: { status: r.status, path: r.path, pagination: paginationMeta(ctx.config.appUrl, request.url, page, perPage, r.total, r.entries.length) },
  });

  app.get(`${base}/:backup/files`, {
    schema: {
      tags: ['backups'], params: BackupParams, summary: 'List a folder of a backup (backwing extension)', description: FILES_DOC,
      querystring: Type.Object({ path: Type.Optional(Type.String()), page: Type.Optional(Type.Integer({ minimum: 1 })), per_page: Type.Optional(Type.Integer({ minimum: 1 })) }),
      response: { 200: BackupFileListResponse, 202: BackupFileListResponse },
    },
    preValidation: serverScopeHook(ctx, { permission: 'backup.download' }),
  }, async (request, reply) => {
    const scope = scopeOf(request);
    const { page, perPage } = filesPage(request);
    const r = await files.list(scope, backupOf(request), { path: (request.query as { path?: string }).path ?? '', page, perPage });
    return reply.code(r.status === 'building' ? 202 : 200).send(fileList(request, r, page, perPage));
  });

  app.get(`${base}/:backup/files/search`, {
    schema: {
      tags: ['backups'], params: BackupParams, summary: 'Search a backup by file name (backwing extension)',
      description: `${FILES_DOC} \`pattern\` matches names (not folders) case-insensitively; * and ? are wildcards, otherwise it is a substring.`,
      querystring: Type.Object({ pattern: Type.String({ minLength: 1, maxLength: 200 }), page: Type.Optional(Type.Integer({ minimum: 1 })), per_page: Type.Optional(Type.Integer({ minimum: 1 })) }),
      response: { 200: BackupFileListResponse, 202: BackupFileListResponse },
    },
    preValidation: serverScopeHook(ctx, { permission: 'backup.download' }),
  }, async (request, reply) => {
    const scope = scopeOf(request);
    const { page, perPage } = filesPage(request);
    const r = await files.list(scope, backupOf(request), { pattern: (request.query as { pattern: string }).pattern, page, perPage });
    return reply.code(r.status === 'building' ? 202 : 200).send(fileList(request, r, page, perPage));
  });

  app.get(`${base}/:backup/files/download`, {
    schema: {
      tags: ['backups'], params: BackupParams, summary: 'A one-time link to one file (raw) or folder (.tar.gz) of a backup (backwing extension)',
      description: `${FILES_DOC} The link (15 minutes, usable once) points at the node's /download/backup/file.`,
      querystring: Type.Object({ path: Type.String({ minLength: 1 }) }),
      response: { 200: SignedUrl },
    },
    preValidation: serverScopeHook(ctx, { permission: 'backup.download' }),
  }, async (request) => {
    const scope = scopeOf(request);
    const url = await files.downloadUrl(scope, backupOf(request), (request.query as { path: string }).path, scope.auth.actor);
    return { object: 'signed_url', attributes: { url } };
  });

  app.get(`${base}/:backup/compare`, {
    schema: {
      tags: ['backups'], params: BackupParams, summary: 'What changed between two backups (backwing extension)',
      description: `${FILES_DOC} Added, removed and changed files (type, size or modification time differ) from this backup to \`with\` (another backup of the same server), with sizes, from the two indexes alone; sorted by path, paged.`,
      querystring: Type.Object({ with: Type.String({ minLength: 1 }), page: Type.Optional(Type.Integer({ minimum: 1 })), per_page: Type.Optional(Type.Integer({ minimum: 1 })) }),
      response: { 200: BackupComparisonObject, 202: BackupComparisonObject },
    },
    preValidation: serverScopeHook(ctx, { permission: 'backup.download' }),
  }, async (request, reply) => {
    const scope = scopeOf(request);
    const { page, perPage } = filesPage(request);
    const r = await files.compare(scope, backupOf(request), (request.query as { with: string }).with, { page, perPage });
    return reply.code(r.status === 'building' ? 202 : 200).send({ object: 'backup_comparison' as const, attributes: r });
  });

  app.post(`${base}/:backup/lock`, {
    schema: { tags: ['backups'], params: BackupParams, response: { 200: BackupObject } },
    preValidation: serverScopeHook(ctx, { permission: 'backup.delete' }),
  }, async (request) => {
    const scope = scopeOf(request);
    return placed(await svc.toggleLock(scope, backupOf(request), scope.auth.actor));
  });

  app.post(`${base}/:backup/restore`, {
    schema: { tags: ['backups'], params: BackupParams, body: RestoreBody, response: { 204: Type.Null() } },
    preValidation: serverScopeHook(ctx, { permission: 'backup.restore' }),
  }, async (request, reply) => {
    const scope = scopeOf(request);
    const { truncate, paths, keep_newer } = request.body as { truncate: boolean; paths?: string[]; keep_newer?: boolean };
    await svc.restore(scope, backupOf(request), truncate, scope.auth.actor, paths ? { paths, keepNewer: keep_newer === true } : undefined);
    return reply.code(204).send();
  });

  app.post(`${base}/:backup/verify`, {
    schema: {
      tags: ['backups'], params: BackupParams, response: { 200: BackupObject },
      summary: 'Verify a backup now (backwing extension)',
      description: 'backwing extension. Needs backup.read (checking a backup changes nothing; reading it is what a reader may do). The node that holds the archive (or, for S3, the node through a presigned GET) reads it back, recomputes its checksum and walks its tar stream to the end; the answer is the backup with `verified_at`, `verification` (good | damaged) and `damage_reason`. A damaged backup keeps its row and lock, gets a `server:backup.damaged` activity entry and notifies like a failed backup. Answers when the node is done (one verification at a time per node). 409 when the backup has not completed successfully.',
    },
    preValidation: serverScopeHook(ctx, { permission: 'backup.read' }),
  }, async (request) => {
    const scope = scopeOf(request);
    return backupObject(await ctx.services.verification.verify(scope, backupOf(request), scope.auth.actor));
  });

  app.post(`${base}/:backup/cancel`, {
    schema: {
      tags: ['backups'], params: BackupParams, response: { 204: Type.Null() },
      summary: 'Cancel a running backup (backwing extension)',
      description: 'backwing extension. Needs backup.delete. The daemon stops the backup and removes its temporary files; the backup then completes as failed with failure_reason "cancelled". 409 when it is not running.',
    },
    preValidation: serverScopeHook(ctx, { permission: 'backup.delete' }),
  }, async (request, reply) => {
    const scope = scopeOf(request);
    await svc.cancelBackup(scope, backupOf(request), scope.auth.actor);
    return reply.code(204).send();
  });

  app.post('/api/client/servers/:server/restore/cancel', {
    schema: {
      tags: ['backups'], params: ServerParams, response: { 204: Type.Null() },
      summary: 'Cancel the running restore (backwing extension)',
      description: 'backwing extension. Needs backup.restore. The daemon stops the restore; files already written stay, the server leaves the restoring state when the daemon reports, and the restore-failed activity entry says how far it got. 409 when no restore is running.',
    },
    // The server is restoring, which every other route refuses with 409.
    preValidation: serverScopeHook(ctx, { permission: 'backup.restore', allowAnyState: true }),
  }, async (request, reply) => {
    const scope = scopeOf(request);
    await svc.cancelRestore(scope, scope.auth.actor);
    return reply.code(204).send();
  });

  app.delete(`${base}/:backup`, {
    schema: { tags: ['backups'], params: BackupParams, response: { 204: Type.Null() } },
    preValidation: serverScopeHook(ctx, { permission: 'backup.delete' }),
  }, async (request, reply) => {
    const scope = scopeOf(request);
    await svc.delete(scope, backupOf(request), scope.auth.actor);
    return reply.code(204).send();
  });
}
