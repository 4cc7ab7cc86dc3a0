import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { BackupList, BackupObject, SignedUrl, Nullable, type BackupObject as BackupObjectT } from '../../wire/client-api.ts';
import { DaemonIgnoreFile } from '../../wire/daemon-api.ts';
import type { PanelContext } from '../context.ts';
import type { BackupRow } from '../db/schema.ts';
import { PanelErrors } from '../errors.ts';
import { can } from '../services/access.ts';
import { toBackupAttributes } from '../services/backup-view.ts';
import { DEFAULT_PER_PAGE, MAX_PER_PAGE } from '../services/backups.service.ts';
import { paginationMeta, readPage } from './pagination.ts';
import { backupOf, scopeOf, serverScopeHook } from './server-scope.ts';

const ServerParams = Type.Object({ server: Type.String() });
const BackupParams = Type.Object({ server: Type.String(), backup: Type.String() });

/** Route-level body: the wire shape plus upstream's length rule. */
const CreateBody = Type.Object({
  name: Type.Optional(Nullable(Type.String({ maxLength: 191 }))),
  is_locked: Type.Optional(Nullable(Type.Union([Type.Boolean(), Type.String(), Type.Integer()]))),
  ignored: Type.Optional(Nullable(Type.String())),
});

const RestoreBody = Type.Object({ truncate: Type.Boolean() });

const IgnoreFileObject = Type.Object({
  object: Type.Literal('ignore_file'),
  attributes: Type.Object({
    ...DaemonIgnoreFile.properties,
    node_defaults: Type.Array(Type.String(), { description: "backwing (issue 17): the node's default patterns, set by the admin; they apply below the .pteroignore and the request's own" }),
  }),
});

export function backupObject(b: BackupRow): BackupObjectT {
  return { object: 'backup', attributes: toBackupAttributes(b) };
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

  app.get(base, {
    schema: { tags: ['backups'], params: ServerParams, response: { 200: BackupList } },
    preValidation: serverScopeHook(ctx, { permission: 'backup.read' }),
  }, async (request) => {
    const { server } = scopeOf(request);
    const { page, perPage } = readPage(request, DEFAULT_PER_PAGE, MAX_PER_PAGE);
    const r = await svc.list(server, page, perPage);
    return {
      object: 'list',
      data: r.rows.map(backupObject),
      meta: { backup_count: r.backupCount, backup_bytes: r.backupBytes, pagination: paginationMeta(ctx.config.appUrl, request.url, page, perPage, r.total, r.rows.length) },
    };
  });

  app.post(base, {
    schema: { tags: ['backups'], params: ServerParams, body: CreateBody, response: { 200: BackupObject } },
    preValidation: serverScopeHook(ctx, { permission: 'backup.create' }),
  }, async (request) => {
    const scope = scopeOf(request);
    const body = (request.body ?? {}) as { name?: string; is_locked?: unknown; ignored?: string };
    const requestedLock = parseBooleanField('is_locked', body.is_locked) === true;
    const row = await svc.create(scope, {
      name: body.name,
      ignored: body.ignored,
      // Locking is a delete-protection, so only someone who may delete may set it.
      isLocked: requestedLock && can(scope.access, 'backup.delete'),
    }, scope.auth.actor);
    return backupObject(row);
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
  }, async (request) => backupObject(backupOf(request)));

  app.get(`${base}/:backup/download`, {
    schema: { tags: ['backups'], params: BackupParams, response: { 200: SignedUrl } },
    preValidation: serverScopeHook(ctx, { permission: 'backup.download' }),
  }, async (request) => {
    const scope = scopeOf(request);
    const url = await svc.downloadUrl(scope, backupOf(request), scope.auth.actor);
    return { object: 'signed_url', attributes: { url } };
  });

  app.post(`${base}/:backup/lock`, {
    schema: { tags: ['backups'], params: BackupParams, response: { 200: BackupObject } },
    preValidation: serverScopeHook(ctx, { permission: 'backup.delete' }),
  }, async (request) => {
    const scope = scopeOf(request);
    return backupObject(await svc.toggleLock(scope, backupOf(request), scope.auth.actor));
  });

  app.post(`${base}/:backup/restore`, {
    schema: { tags: ['backups'], params: BackupParams, body: RestoreBody, response: { 204: Type.Null() } },
    preValidation: serverScopeHook(ctx, { permission: 'backup.restore' }),
  }, async (request, reply) => {
    const scope = scopeOf(request);
    const { truncate } = request.body as { truncate: boolean };
    await svc.restore(scope, backupOf(request), truncate, scope.auth.actor);
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
