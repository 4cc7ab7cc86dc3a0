import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { downloadWithResume, parseContentRange, partPath } from './download.ts';
import { CliError } from '../../core/cli-error.ts';

const BODY = randomBytes(3 * 1024 * 1024 + 17);
const SHA = createHash('sha256').update(BODY).digest('hex');

interface Behaviour {
  /** Per request index: cut the connection after this many body bytes. */
  cutAfter?: Record<number, number>;
  ignoreRange?: boolean;
  status?: number;
}

async function serve(b: Behaviour): Promise<{ url: string; server: Server; requests: Array<{ range?: string; token: string | null }> }> {
  const requests: Array<{ range?: string; token: string | null }> = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const idx = requests.length;
    const u = new URL(req.url ?? '/', 'http://x');
    requests.push({ range: req.headers.range, token: u.searchParams.get('token') });
    if (b.status) {
      res.writeHead(b.status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'The requested backup was not found on this server.' }));
      return;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m && !b.ignoreRange) {
      start = Number(m[1]);
      if (start >= BODY.length) {
        res.writeHead(416, { 'content-range': `bytes */${BODY.length}` }).end();
        return;
      }
      res.writeHead(206, { 'content-length': BODY.length - start, 'content-range': `bytes ${start}-${BODY.length - 1}/${BODY.length}` });
    } else {
      res.writeHead(200, { 'content-length': BODY.length });
    }
    const cut = b.cutAfter?.[idx];
    if (cut !== undefined) {
      res.write(BODY.subarray(start, start + cut), () => {
        res.socket?.destroy();
      });
      return;
    }
    res.end(BODY.subarray(start));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/download/backup`, server, requests };
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'bw-dl-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((r) => server.close(() => r()));
}

test('a connection dropped mid-way is resumed with Range and a fresh URL', async () => {
  const { url, server, requests } = await serve({ cutAfter: { 0: 1024 * 1024 } });
  let n = 0;
  await withDir(async (dir) => {
    const dest = join(dir, 'b.tar.gz');
    const seen: number[] = [];
    const res = await downloadWithResume({ getUrl: async () => `${url}?token=t${n++}`, dest, retryDelayMs: 0, onProgress: (d) => seen.push(d) });
    assert.equal(res.sha256, SHA);
    assert.equal(res.bytes, BODY.length);
    assert.equal(res.attempts, 2);
    assert.deepEqual((await readFile(dest)).equals(BODY), true);
    assert.equal(requests.length, 2);
    assert.equal(requests[0]!.range, undefined);
    assert.match(requests[1]!.range ?? '', /^bytes=\d+-$/);
    assert.notEqual(requests[0]!.token, requests[1]!.token, 'each attempt uses a new single-use URL');
    assert.equal(seen.at(-1), BODY.length);
    await assert.rejects(stat(partPath(dest)), 'the part file is renamed away');
  });
  await close(server);
});

test('an existing .part file from an earlier run is continued, not restarted', async () => {
  const { url, server, requests } = await serve({});
  await withDir(async (dir) => {
    const dest = join(dir, 'b.tar.gz');
    await writeFile(partPath(dest), BODY.subarray(0, 777_777));
    const res = await downloadWithResume({ getUrl: async () => url, dest, retryDelayMs: 0 });
    assert.equal(res.resumedFrom, 777_777);
    assert.equal(res.sha256, SHA);
    assert.equal(requests[0]!.range, 'bytes=777777-');
  });
  await close(server);
});

test('a server that ignores Range gets the whole file rewritten, not appended', async () => {
  const { url, server } = await serve({ ignoreRange: true });
  await withDir(async (dir) => {
    const dest = join(dir, 'b.tar.gz');
    await writeFile(partPath(dest), Buffer.from('garbage that must not stay'));
    const res = await downloadWithResume({ getUrl: async () => url, dest, retryDelayMs: 0 });
    assert.equal(res.sha256, SHA);
    assert.equal((await stat(dest)).size, BODY.length);
  });
  await close(server);
});

test('a part file that is already whole completes through 416', async () => {
  const { url, server } = await serve({});
  await withDir(async (dir) => {
    const dest = join(dir, 'b.tar.gz');
    await writeFile(partPath(dest), BODY);
    const res = await downloadWithResume({ getUrl: async () => url, dest, retryDelayMs: 0 });
    assert.equal(res.sha256, SHA);
  });
  await close(server);
});

test('repeated failures keep the part file and say how to resume', async () => {
  const { url, server } = await serve({ cutAfter: { 0: 1000, 1: 1000, 2: 1000 } });
  await withDir(async (dir) => {
    const dest = join(dir, 'b.tar.gz');
    await assert.rejects(downloadWithResume({ getUrl: async () => url, dest, retries: 2, retryDelayMs: 0 }), (err: unknown) => {
      assert.ok(err instanceof CliError);
      assert.match(err.message, /run the same command again to resume/);
      assert.doesNotMatch(err.message, /\n/);
      return true;
    });
    // Each attempt got at most 1000 bytes through before the cut (a reset can swallow some of
    // them); the part file stays for the next run.
    const kept = (await stat(partPath(dest))).size;
    assert.ok(kept <= 3000, `kept ${kept}`);
  });
  await close(server);
});

test('an HTTP refusal is one line and leaves no empty part file', async () => {
  const { url, server } = await serve({ status: 404 });
  await withDir(async (dir) => {
    const dest = join(dir, 'b.tar.gz');
    await assert.rejects(downloadWithResume({ getUrl: async () => url, dest, retryDelayMs: 0 }), /HTTP 404 \(The requested backup was not found/);
    assert.deepEqual(await readdir(dir), []);
  });
  await close(server);
});

test('Content-Range parsing', () => {
  assert.deepEqual(parseContentRange('bytes 10-19/20'), { start: 10, end: 19, total: 20 });
  assert.deepEqual(parseContentRange('bytes */20'), { start: -1, end: null, total: 20 });
  assert.equal(parseContentRange('nonsense'), null);
});

test('an abort (Ctrl-C) stops at once and keeps the part file for the next run', async () => {
  // The server sends a first chunk and then stalls, like a slow link.
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-length': BODY.length });
    res.write(BODY.subarray(0, 64 * 1024));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  await withDir(async (dir) => {
    const dest = join(dir, 'b.tar.gz');
    const ac = new AbortController();
    const p = downloadWithResume({
      getUrl: async () => url,
      dest,
      retryDelayMs: 0,
      signal: ac.signal,
      onProgress: (done) => {
        // Ctrl-C a moment later, once the chunk has reached the disk.
        if (done >= 64 * 1024) setTimeout(() => ac.abort(new Error('interrupted')), 200);
      },
    });
    await assert.rejects(p);
    assert.ok((await stat(partPath(dest))).size > 0, 'what arrived is kept');
    await assert.rejects(stat(dest), 'no final file for an incomplete download');
  });
  await close(server);
});
