/**
 * A restic backup as a `.tar.gz` download: `restic dump --archive tar <snapshot> /` piped through
 * gzip, streamed as it is produced. The size is unknown up front, so there is no Content-Length
 * and no Range (a resumed download starts over); the link is burned by its first GET as usual.
 * zlib's gzip stream (one core): at level 1 it outruns restic's dump here (the bench's restore
 * figures), so the parallel compressor the archive writer uses would only add memory.
 */
import { resticDetail } from '../restic/restic-cli.ts';
import { createGzip } from 'node:zlib';
import { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorMessage } from '../../core/app-error.ts';
import type { BackupDownloadClaims } from '../../wire/tokens.ts';
import { daemonErrors } from '../errors.ts';
import { openSealedRepo } from '../restic/restic-request.ts';
import type { DaemonHttpDeps } from './deps.ts';

export async function sendResticDownload(req: FastifyRequest, reply: FastifyReply, deps: DaemonHttpDeps, claims: BackupDownloadClaims, serverUuid: string, backupUuid: string, fileName: string): Promise<FastifyReply> {
  const repo = openSealedRepo(deps.config.token.reveal(), claims.restic!);
  const found = await deps.restic.findSnapshot(repo, serverUuid, backupUuid);
  if (!found) throw daemonErrors.backupNotFound();
  if (req.method !== 'HEAD' && !deps.downloadIds.claim(claims.unique_id, claims.exp)) throw daemonErrors.resourceNotFound();
  reply.headers({
    'content-type': 'application/gzip',
    'content-disposition': `attachment; filename="${fileName}"`,
    'accept-ranges': 'none',
    'cache-control': 'no-store',
  });
  if (req.method === 'HEAD') {
    reply.hijack();
    reply.raw.writeHead(200, reply.getHeaders() as Record<string, string>);
    reply.raw.end();
    return reply;
  }
  const stop = new AbortController();
  const gzip = createGzip({ level: deps.config.system.backups.compressionLevel });
  const out = new PassThrough();
  gzip.pipe(out);
  // The browser going away stops restic. (The response's 'close', not the request's: a GET's
  // request emits 'close' as soon as it has been read.)
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) stop.abort(new Error('download closed'));
  });
  deps.restic.dumpTar(repo, found.id, stop.signal, (child) => child.stdout!.pipe(gzip)).catch((err: unknown) => {
    // Headers are gone already: all that can be done is to cut the stream, so the browser
    // reports a failed download instead of saving a truncated archive as good.
    if (!stop.signal.aborted) deps.logger.warn({ backup_uuid: backupUuid, err: errorMessage(err), detail: resticDetail(err) }, 'restic dump failed during a download');
    out.destroy(err instanceof Error ? err : new Error(String(err)));
    gzip.destroy();
    // Make sure the client sees the cut (a chunked response that just stops would hang it).
    reply.raw.destroy();
  });
  return reply.code(200).send(out);
}
