/**
 * A small stand-in for the panel's remote API, on loopback, for black-box daemon tests. It serves
 * the server list, records every report, signs tokens like the panel does, and — with `s3` —
 * presigns UploadPart URLs against an in-process fauxqs and completes the upload on success.
 * An optional proxy in front of fauxqs can fail a chosen part once.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { SignJWT } from 'jose';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import {
  S3Client,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  CompleteMultipartUploadCommand,
  AbortMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { WaitableList } from './helpers.ts';

export interface Report {
  path: string;
  body: any;
  at: number;
}

export interface Blob {
  status: number;
  contentType: string;
  body: Buffer;
  /** Bytes per second; when set the body is trickled out. */
  rate?: number;
  /** Send this many bytes, then go silent without closing. */
  stallAfter?: number;
}

export interface FakePanelOptions {
  servers: string[];
  token?: string;
  tokenId?: string;
  /** S3 via fauxqs; `extendable: false` behaves like an upstream panel. */
  s3?: { extendable: boolean; partSize?: number; failPartOnce?: number; failStatus?: number };
}

export interface FakePanel {
  url: string;
  token: string;
  tokenId: string;
  servers: string[];
  reports: Report[];
  remoteCalls: string[];
  /** Headers of the most recent remote API call. */
  lastRemoteHeaders: Record<string, unknown>;
  blobs: Map<string, Blob>;
  /** Answer the next N report POSTs with this status (then behave). */
  failReports(n: number, status: number): void;
  /** Answer GET /api/remote/servers with 503 while true. */
  serversDown: boolean;
  waitForReport(pred: (r: Report) => boolean, timeoutMs?: number): Promise<Report>;
  signDownload(claims: Record<string, unknown>, expSeconds?: number): Promise<string>;
  signWs(claims: Record<string, unknown>, expSeconds?: number): Promise<string>;
  s3Object(backupUuid: string): Promise<Buffer>;
  s3PresignGet(backupUuid: string): Promise<string>;
  /** Replaces a backup's object (tests that damage what S3 holds). */
  s3Put(backupUuid: string, body: Buffer): Promise<void>;
  partRequests: { part: number; status: number; bytes: number }[];
  close(): Promise<void>;
}

const BUCKET = 'backwing-test';

export async function startFakePanel(opts: FakePanelOptions): Promise<FakePanel> {
  const token = opts.token ?? randomBytes(24).toString('hex');
  const tokenId = opts.tokenId ?? randomBytes(8).toString('hex');
  const key = new TextEncoder().encode(token);
  const log = new WaitableList<Report>();
  const reports = log.items;
  const remoteCalls: string[] = [];
  const blobs = new Map<string, Blob>();
  const partRequests: { part: number; status: number; bytes: number }[] = [];
  let failing = { n: 0, status: 500 };

  let fauxqs: FauxqsServer | null = null;
  let s3: S3Client | null = null;
  let proxy: http.Server | null = null;
  let proxyBase = '';
  const uploads = new Map<string, string>();
  const partSize = opts.s3?.partSize ?? 5 * 1024 * 1024;
  if (opts.s3) {
    fauxqs = await startFauxqs({ port: 0, logger: false, host: '127.0.0.1' });
    s3 = new S3Client({
      endpoint: `http://127.0.0.1:${fauxqs.port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    let failedOnce = false;
    const target = fauxqs.port;
    proxy = http.createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      const part = Number(u.searchParams.get('partNumber') ?? 0);
      let bytes = 0;
      if (opts.s3?.failPartOnce && part === opts.s3.failPartOnce && !failedOnce) {
        failedOnce = true;
        req.on('data', (c: Buffer) => (bytes += c.length));
        req.on('end', () => {
          const status = opts.s3?.failStatus ?? 500;
          partRequests.push({ part, status, bytes });
          res.writeHead(status, { 'content-type': 'application/xml' }).end('<Error><Code>Injected</Code></Error>');
        });
        return;
      }
      const up = http.request({ host: '127.0.0.1', port: target, method: req.method, path: req.url, headers: req.headers }, (r) => {
        if (part) partRequests.push({ part, status: r.statusCode ?? 0, bytes });
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.on('data', (c: Buffer) => (bytes += c.length));
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy!.listen(0, '127.0.0.1', r));
    proxyBase = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  }

  const app: FastifyInstance = Fastify({ logger: false });
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_r, body, done) => {
    try {
      done(null, body === '' ? undefined : JSON.parse(body as string));
    } catch (e) {
      done(e as Error, undefined);
    }
  });

  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/api/remote')) return;
    remoteCalls.push(`${req.method} ${req.url}`);
    panel.lastRemoteHeaders = { ...req.headers };
    if (req.headers.authorization !== `Bearer ${tokenId}.${token}`) {
      return reply.code(403).send({ errors: [{ code: 'AccessDenied', status: '403', detail: 'bad node token' }] });
    }
  });

  const panel: FakePanel = {
    url: '',
    token,
    tokenId,
    servers: [...opts.servers],
    reports,
    remoteCalls,
    lastRemoteHeaders: {},
    blobs,
    partRequests,
    serversDown: false,
    failReports(n, status) {
      failing = { n, status };
    },
    waitForReport: (pred, timeoutMs) => log.waitFor(pred, timeoutMs),
    async signDownload(claims, expSeconds = 900) {
      return new SignJWT({ unique_id: randomBytes(8).toString('hex'), ...claims })
        .setProtectedHeader({ alg: 'HS256' })
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + expSeconds)
        .sign(key);
    },
    async signWs(claims, expSeconds = 600) {
      return new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime(Math.floor(Date.now() / 1000) + expSeconds).sign(key);
    },
    async s3Object(backupUuid) {
      const out = await s3!.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${backupUuid}.tar.gz` }));
      return Buffer.from(await out.Body!.transformToByteArray());
    },
    async s3Put(backupUuid, body) {
      await s3!.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${backupUuid}.tar.gz`, Body: body, ContentType: 'application/x-gzip' }));
    },
    async s3PresignGet(backupUuid) {
      return getSignedUrl(s3!, new GetObjectCommand({ Bucket: BUCKET, Key: `${backupUuid}.tar.gz` }), { expiresIn: 300 });
    },
    async close() {
      app.server.closeAllConnections();
      await app.close();
      if (proxy) await new Promise<void>((r) => proxy!.close(() => r()));
      proxy?.closeAllConnections();
      s3?.destroy();
      if (fauxqs) await fauxqs.stop();
    },
  };

  app.get<{ Querystring: { page?: string; per_page?: string } }>('/api/remote/servers', async (req, reply) => {
    if (panel.serversDown) return reply.code(503).send({ errors: [{ code: 'Down', status: '503', detail: 'maintenance' }] });
    const page = Number(req.query.page ?? 1);
    const per = Number(req.query.per_page ?? 50);
    const all = panel.servers.map((uuid) => ({ uuid, settings: { uuid, suspended: false } }));
    const lastPage = Math.max(1, Math.ceil(all.length / per));
    return { data: all.slice((page - 1) * per, page * per), meta: { current_page: page, last_page: lastPage, per_page: per, total: all.length } };
  });
  app.get<{ Params: { uuid: string } }>('/api/remote/servers/:uuid', async (req, reply) => {
    if (!panel.servers.includes(req.params.uuid)) return reply.code(404).send({ errors: [{ code: 'NotFound', status: '404', detail: 'no server' }] });
    return { uuid: req.params.uuid, settings: { uuid: req.params.uuid, suspended: false } };
  });

  const record = (path: string, body: unknown, reply: import('fastify').FastifyReply) => {
    if (failing.n > 0) {
      failing.n--;
      return reply.code(failing.status).send({ errors: [{ code: 'Fail', status: String(failing.status), detail: 'injected' }] });
    }
    log.push({ path, body, at: Date.now() });
    return reply.code(204).send();
  };
  app.post('/api/remote/servers/reset', async (req, reply) => record('/servers/reset', req.body, reply));
  app.post<{ Params: { uuid: string } }>('/api/remote/backups/:uuid/restore', async (req, reply) => record(`/backups/${req.params.uuid}/restore`, req.body, reply));
  app.post<{ Params: { uuid: string }; Body: any }>('/api/remote/backups/:uuid', async (req, reply) => {
    const uuid = req.params.uuid;
    const body = req.body as any;
    if (failing.n > 0) return record(`/backups/${uuid}`, body, reply);
    const uploadId = uploads.get(uuid);
    if (s3 && uploadId) {
      if (body?.successful && Array.isArray(body.parts) && body.parts.length > 0) {
        await s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: BUCKET,
            Key: `${uuid}.tar.gz`,
            UploadId: uploadId,
            MultipartUpload: { Parts: body.parts.map((p: any) => ({ ETag: p.etag, PartNumber: p.part_number })) },
          }),
        );
      } else {
        await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKET, Key: `${uuid}.tar.gz`, UploadId: uploadId })).catch(() => undefined);
      }
      uploads.delete(uuid);
    }
    return record(`/backups/${uuid}`, body, reply);
  });
  app.get<{ Params: { uuid: string }; Querystring: { size?: string } }>('/api/remote/backups/:uuid', async (req, reply) => {
    if (!s3) return reply.code(400).send({ errors: [{ code: 'BadRequest', status: '400', detail: 'not an s3 backup' }] });
    const size = Number(req.query.size);
    if (!Number.isFinite(size) || size <= 0) return reply.code(400).send({ errors: [{ code: 'BadRequest', status: '400', detail: 'size required' }] });
    const key = `${req.params.uuid}.tar.gz`;
    let uploadId = uploads.get(req.params.uuid);
    if (!uploadId || !opts.s3!.extendable) {
      const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key, ContentType: 'application/x-gzip' }));
      uploadId = created.UploadId!;
      uploads.set(req.params.uuid, uploadId);
    }
    const count = Math.ceil(size / partSize);
    const parts: string[] = [];
    for (let i = 1; i <= count; i++) {
      const signed = await getSignedUrl(s3, new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId: uploadId, PartNumber: i }), { expiresIn: 3600 });
      const u = new URL(signed);
      parts.push(proxyBase + u.pathname + u.search);
    }
    return opts.s3!.extendable ? { parts, part_size: partSize, extendable: true } : { parts, part_size: partSize };
  });

  app.get<{ Params: { name: string } }>('/blob/:name', (req, reply) => {
    const blob = blobs.get(req.params.name);
    if (!blob) return reply.code(404).send('nope');
    if (blob.stallAfter !== undefined) {
      reply.hijack();
      reply.raw.writeHead(blob.status, { 'content-type': blob.contentType, 'content-length': blob.body.length });
      reply.raw.write(blob.body.subarray(0, blob.stallAfter));
      return;
    }
    if (!blob.rate) return reply.code(blob.status).header('content-type', blob.contentType).send(blob.body);
    // Trickle the body so a restore stays in progress long enough to be interrupted.
    reply.hijack();
    const res = reply.raw;
    res.writeHead(blob.status, { 'content-type': blob.contentType, 'content-length': blob.body.length });
    let off = 0;
    const chunk = Math.max(1, Math.floor(blob.rate / 10));
    const timer = setInterval(() => {
      if (res.destroyed || off >= blob.body.length) {
        clearInterval(timer);
        if (!res.destroyed) res.end();
        return;
      }
      res.write(blob.body.subarray(off, off + chunk));
      off += chunk;
    }, 100);
    res.on('close', () => clearInterval(timer));
  });
  app.get<{ Querystring: { to: string } }>('/redirect-abs', (req, reply) => reply.redirect(req.query.to, 302));
  app.get('/redirect/:n', (req, reply) => {
    const n = Number((req.params as { n: string }).n);
    return reply.redirect(n > 0 ? `/redirect/${n - 1}` : '/blob/redirect-target', 302);
  });

  await app.listen({ port: 0, host: '127.0.0.1' });
  panel.url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return panel;
}
