import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { DaemonArchiveStat, DaemonCopyRequest, DaemonCopyResult, DaemonBackupRequest, DaemonRestoreRequest, DaemonErrorBody, DaemonIgnoreFile, DaemonVerifyRequest, DaemonVerifyResult, type DaemonDeleteRequest } from '../../wire/daemon-api.ts';
import { readPteroignoreFile } from '../services/pteroignore.ts';
import type { DaemonHttpDeps } from './deps.ts';

const ServerParams = Type.Object({ server: Type.String() });
const BackupParams = Type.Object({ server: Type.String(), backup: Type.String() });
const errors = { 400: DaemonErrorBody, 401: DaemonErrorBody, 403: DaemonErrorBody, 404: DaemonErrorBody, 409: DaemonErrorBody };
const Empty = Type.Null({ description: 'No content' });

export async function backupRoutes(app: FastifyInstance, deps: DaemonHttpDeps): Promise<void> {
  app.post<{ Params: { server: string }; Body: DaemonBackupRequest }>(
    '/api/servers/:server/backup',
    { schema: { summary: 'Start a backup', tags: ['backups'], params: ServerParams, body: DaemonBackupRequest, response: { 202: Empty, ...errors } } },
    async (req, reply) => {
      const server = await deps.registry.resolve(req.params.server);
      await deps.backups.start(server.uuid, server.dir, req.body);
      return reply.code(202).send();
    },
  );

  app.post<{ Params: { server: string; backup: string }; Body: DaemonRestoreRequest }>(
    '/api/servers/:server/backup/:backup/restore',
    { schema: { summary: 'Restore a backup', tags: ['backups'], params: BackupParams, body: DaemonRestoreRequest, response: { 202: Empty, ...errors } } },
    async (req, reply) => {
      const server = await deps.registry.resolve(req.params.server);
      await deps.restores.start(server.uuid, server.dir, req.params.backup, req.body);
      return reply.code(202).send();
    },
  );

  app.get<{ Params: { server: string } }>(
    '/api/servers/:server/ignore-file',
    {
      schema: {
        summary: "Read the server's .pteroignore (backwing extension)",
        description: 'backwing extension, not in Wings. The file is opened without following a symbolic link and read up to 32 KiB, so the panel can show which files every backup leaves out.',
        tags: ['backups'], params: ServerParams, response: { 200: DaemonIgnoreFile, ...errors },
      },
    },
    async (req): Promise<DaemonIgnoreFile> => {
      const server = await deps.registry.resolve(req.params.server);
      const file = await readPteroignoreFile(server.dir);
      return { state: file.state, content: file.text, size: file.size };
    },
  );

  app.post<{ Params: { server: string; backup: string }; Body: DaemonVerifyRequest }>(
    '/api/servers/:server/backup/:backup/verify',
    {
      schema: {
        summary: 'Verify a stored backup (backwing extension)',
        description: 'backwing extension, not in Wings. Reads the archive back from where it is stored (this node\'s disk, or the S3 object through `download_url`), recomputes its checksum and walks its tar stream to the end; nothing is written. Verifications run one at a time per node and answer when done. A damaged archive is a 200 with `result: "damaged"` and the reason.',
        tags: ['backups'], params: BackupParams, body: DaemonVerifyRequest, response: { 200: DaemonVerifyResult, ...errors },
      },
    },
    async (req): Promise<DaemonVerifyResult> => {
      const server = await deps.registry.resolve(req.params.server);
      return deps.verifications.verify(server.uuid, req.params.backup, req.body);
    },
  );

  app.get<{ Params: { server: string; backup: string } }>(
    '/api/servers/:server/backup/:backup',
    {
      schema: {
        summary: 'Is a local archive on this node (backwing extension)',
        description: 'backwing extension, not in Wings. 200 with the archive\'s size, 404 when this node does not hold it: the panel asks before it sends a download or restore to a copy instead.',
        tags: ['backups'], params: BackupParams, response: { 200: DaemonArchiveStat, ...errors },
      },
    },
    async (req): Promise<DaemonArchiveStat> => {
      const server = await deps.registry.resolve(req.params.server);
      return deps.copies.stat(server.uuid, req.params.backup);
    },
  );

  app.post<{ Params: { server: string; backup: string }; Body: DaemonCopyRequest }>(
    '/api/servers/:server/backup/:backup/copy',
    {
      schema: {
        summary: 'Upload a local archive to presigned part URLs (backwing extension)',
        description: 'backwing extension, not in Wings. For a copy at a second destination: the node PUTs its local archive in `part_size` parts to the panel-presigned URLs and answers with each part\'s ETag when done. The panel completes the upload and checks the copy\'s checksum.',
        tags: ['backups'], params: BackupParams, body: DaemonCopyRequest, response: { 200: DaemonCopyResult, ...errors },
      },
    },
    async (req): Promise<DaemonCopyResult> => {
      const server = await deps.registry.resolve(req.params.server);
      return deps.copies.upload(server.uuid, req.params.backup, req.body);
    },
  );

  app.post<{ Params: { server: string; backup: string } }>(
    '/api/servers/:server/backup/:backup/cancel',
    {
      schema: {
        summary: 'Cancel a running backup (backwing extension)',
        description: 'backwing extension, not in Wings. Stops the backup, removes its temporary files and reports it failed ("cancelled") to the panel. 404 when no such backup is running.',
        tags: ['backups'], params: BackupParams, response: { 204: Empty, ...errors },
      },
    },
    async (req, reply) => {
      const server = deps.registry.require(req.params.server);
      await deps.backups.cancel(server.uuid, req.params.backup);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: { server: string } }>(
    '/api/servers/:server/restore/cancel',
    {
      schema: {
        summary: 'Cancel the running restore (backwing extension)',
        description: 'backwing extension, not in Wings. Stops the restore; files already written stay. The panel gets a failed restore report saying how far it got. 404 when no restore is running.',
        tags: ['backups'], params: ServerParams, response: { 204: Empty, ...errors },
      },
    },
    async (req, reply) => {
      const server = deps.registry.require(req.params.server);
      await deps.restores.cancel(server.uuid);
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: { server: string } }>(
    '/api/servers/:server/backup/delete-all',
    { schema: { summary: "Delete every local backup of a server", tags: ['backups'], params: ServerParams, response: { 204: Empty, ...errors } } },
    async (req, reply) => {
      const server = await deps.registry.resolve(req.params.server);
      await deps.backups.deleteAll(server.uuid);
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: { server: string; backup: string }; Body: DaemonDeleteRequest | undefined }>(
    '/api/servers/:server/backup/:backup',
    {
      schema: {
        summary: 'Delete a local backup (aborts it if running)',
        // The body is optional (Wings sends none), so it is checked by hand (parseResticRepo), not by a schema.
        description: 'backwing extension: with a JSON body `{"adapter":"restic","restic":{"repository","password","s3"?}}` (DaemonDeleteRequest) the backup\'s restic snapshot is forgotten (its data is freed by the next prune). Without a body, as Wings.',
        tags: ['backups'], params: BackupParams, response: { 204: Empty, ...errors },
      },
    },
    async (req, reply) => {
      const server = await deps.registry.resolve(req.params.server);
      await deps.backups.delete(server.uuid, req.params.backup, typeof req.body === 'object' ? req.body : null);
      return reply.code(204).send();
    },
  );
}
