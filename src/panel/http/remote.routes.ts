import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { RemoteBackupStatus, RemoteIndexUploadUrl, RemoteServer, RemoteServerList, RemoteUploadUrls } from '../../wire/remote-api.ts';
import type { PanelContext } from '../context.ts';
import type { NodeRow } from '../db/schema.ts';
import { PanelErrors } from '../errors.ts';
import { readPage } from './pagination.ts';

declare module 'fastify' {
  interface FastifyRequest {
    daemonNode?: NodeRow;
  }
}

function nodeOf(request: FastifyRequest): NodeRow {
  if (!request.daemonNode) throw PanelErrors.remoteBadToken();
  return request.daemonNode;
}

const UuidParams = Type.Object({ uuid: Type.String() });
const RestoreStatusBody = Type.Object({
  successful: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  failure_reason: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'backwing: why the restore failed' })),
});

/** `/api/remote/*`: what daemons call, authenticated with `Bearer <token_id>.<token>` of their node. */
export async function remoteRoutes(app: FastifyInstance, opts: { ctx: PanelContext }): Promise<void> {
  const { ctx } = opts;
  const remote = ctx.services.remote;

  // Before validation, so an unauthenticated caller learns nothing about the body rules.
  app.addHook('preValidation', async (request) => {
    request.daemonNode = await ctx.services.nodes.authenticateDaemon(request.headers.authorization);
  });

  app.get('/api/remote/servers', { schema: { tags: ['remote'], response: { 200: RemoteServerList } } }, async (request) => {
    const { page, perPage } = readPage(request, 50, 500);
    return remote.listServers(nodeOf(request), page, perPage);
  });

  app.get('/api/remote/servers/:uuid', { schema: { tags: ['remote'], params: UuidParams, response: { 200: RemoteServer } } }, async (request) => {
    return remote.getServer(nodeOf(request), (request.params as { uuid: string }).uuid);
  });

  app.post('/api/remote/servers/reset', { schema: { tags: ['remote'], response: { 204: Type.Null() } } }, async (request, reply) => {
    await remote.resetServers(nodeOf(request));
    return reply.code(204).send();
  });

  app.get('/api/remote/backups/:uuid', { schema: { tags: ['remote'], params: UuidParams, response: { 200: RemoteUploadUrls } } }, async (request) => {
    const q = request.query as Record<string, unknown> | undefined;
    return remote.uploadUrls(nodeOf(request), (request.params as { uuid: string }).uuid, q?.size, q?.growing === '1' || q?.growing === 'true');
  });

  app.get('/api/remote/backups/:uuid/index', {
    schema: {
      tags: ['remote'], params: UuidParams, response: { 200: RemoteIndexUploadUrl },
      summary: 'Where to upload the backup index of an S3 backup (backwing extension)',
      description: 'backwing extension. A presigned PutObject URL for `<server>/<uuid>.idx`, beside the archive, while the backup runs.',
    },
  }, async (request) => remote.indexUploadUrl(nodeOf(request), (request.params as { uuid: string }).uuid));

  app.post('/api/remote/backups/:uuid', { schema: { tags: ['remote'], params: UuidParams, body: RemoteBackupStatus, response: { 204: Type.Null() } } }, async (request, reply) => {
    await remote.reportBackup(nodeOf(request), (request.params as { uuid: string }).uuid, request.body as RemoteBackupStatus);
    return reply.code(204).send();
  });

  app.post('/api/remote/backups/:uuid/restore', { schema: { tags: ['remote'], params: UuidParams, body: RestoreStatusBody, response: { 204: Type.Null() } } }, async (request, reply) => {
    const body = (request.body ?? {}) as { successful?: boolean | null; failure_reason?: string | null };
    await remote.reportRestore(nodeOf(request), (request.params as { uuid: string }).uuid, body.successful === true, body.failure_reason);
    return reply.code(204).send();
  });
}
