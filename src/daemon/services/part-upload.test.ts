import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { putPart } from './part-upload.ts';
import { AppError } from '../../core/app-error.ts';

async function withServer(handler: (attempt: number, req: http.IncomingMessage, res: http.ServerResponse) => void, fn: (url: string) => Promise<void>) {
  let attempt = 0;
  const server = http.createServer((req, res) => handler(++attempt, req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}/part`);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

test('a dropped connection is retried and the retry carries exactly the part bytes (range of the file)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-part-'));
  const file = join(dir, 'archive');
  const data = randomBytes(300_000);
  writeFileSync(file, data);
  const received: Buffer[] = [];
  try {
    await withServer(
      (attempt, req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => {
          chunks.push(c);
          // First attempt: hang up mid-body.
          if (attempt === 1) req.socket.destroy();
        });
        req.on('end', () => {
          received.push(Buffer.concat(chunks));
          assert.equal(req.headers['content-type'], 'application/x-gzip');
          res.writeHead(200, { etag: '"abc"' }).end();
        });
      },
      async (url) => {
        const etag = await putPart(url, { file, start: 100_000, length: 150_000 }, { signal: new AbortController().signal });
        assert.equal(etag, '"abc"');
      },
    );
    assert.equal(received.length, 1);
    assert.ok(received[0]!.equals(data.subarray(100_000, 250_000)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('4xx is final (one attempt); 5xx is retried until it succeeds', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-part-'));
  const file = join(dir, 'archive');
  writeFileSync(file, randomBytes(1000));
  try {
    let attempts = 0;
    await withServer(
      (_a, req, res) => {
        attempts++;
        req.resume();
        req.on('end', () => res.writeHead(403).end());
      },
      async (url) => {
        await assert.rejects(putPart(url, { file, start: 0, length: 1000 }, { signal: new AbortController().signal }), /HTTP 403/);
      },
    );
    assert.equal(attempts, 1);
    await withServer(
      (attempt, req, res) => {
        req.resume();
        req.on('end', () => (attempt < 3 ? res.writeHead(503).end() : res.writeHead(200, { etag: '"ok"' }).end()));
      },
      async (url) => {
        assert.equal(await putPart(url, { file, start: 0, length: 1000 }, { signal: new AbortController().signal }), '"ok"');
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a URL the panel refuses (backup deleted: 404) is final: one fetch, no PUT, no retry loop', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-part-'));
  const file = join(dir, 'archive');
  writeFileSync(file, randomBytes(1000));
  try {
    let fetches = 0;
    let retries = 0;
    const refused = new AppError('E_PANEL', 502, 'Error response from Panel: NotFoundHttpException: gone (HTTP/404)', { retryable: false, meta: { status: 404 } });
    await assert.rejects(
      putPart(async () => { fetches++; throw refused; }, { file, start: 0, length: 1000 }, { signal: new AbortController().signal, onRetry: () => retries++ }),
      (err) => err === refused,
    );
    assert.equal(fetches, 1);
    assert.equal(retries, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
