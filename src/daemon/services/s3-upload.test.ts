import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { uploadArchiveToS3 } from './s3-upload.ts';
import type { PanelClient } from '../panel-client/panel-client.ts';
import { silentLogger } from '../../core/logger.ts';

const MiB = 1024 * 1024;

async function partSink() {
  const parts = new Map<number, { body: Buffer; sig: string }>();
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const n = Number(u.searchParams.get('n'));
      parts.set(n, { body: Buffer.concat(chunks), sig: u.searchParams.get('sig') ?? '' });
      res.writeHead(200, { etag: `"etag-${n}"` }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { parts, base, close: () => new Promise((r) => server.close(r)) };
}

function fakePanel(base: string, partSize: number, extendable: boolean) {
  const sizes: number[] = [];
  const panel: PanelClient = {
    async getUploadUrls(_uuid, size) {
      sizes.push(size);
      const count = Math.max(1, Math.ceil(size / partSize));
      const call = sizes.length;
      return { parts: Array.from({ length: count }, (_, i) => `${base}/?n=${i + 1}&sig=${call}`), part_size: partSize, ...(extendable ? { extendable: true } : {}) };
    },
    listServers: () => Promise.reject(new Error('unused')),
    getServer: () => Promise.reject(new Error('unused')),
    post: () => Promise.reject(new Error('unused')),
  };
  return { panel, sizes };
}

function producer(data: Buffer, failAfter?: number) {
  return async (out: Writable): Promise<string> => {
    try {
      for (let off = 0; off < data.length; off += 256 * 1024) {
        if (failAfter !== undefined && off >= failAfter) throw new Error('archive broke');
        if (!out.write(data.subarray(off, off + 256 * 1024))) await once(out, 'drain');
      }
      out.end();
      await finished(out);
      return 'produced';
    } catch (err) {
      out.destroy(err as Error);
      throw err;
    }
  };
}

test('streaming upload: parts cut at the capped size, bytes intact, stale URLs refreshed before use', async () => {
  const sink = await partSink();
  const spool = mkdtempSync(join(tmpdir(), 'bw-s3-'));
  try {
    const data = randomBytes(12 * MiB + 123);
    const { panel, sizes } = fakePanel(sink.base, 64 * MiB, true);
    const out = await uploadArchiveToS3(producer(data), {
      panel, backupUuid: 'b', spoolDir: spool, concurrency: 2, signal: new AbortController().signal, logger: silentLogger(),
      maxPartSize: 5 * MiB, urlMaxAgeMs: 0,
    });
    assert.equal(out.mode, 'streaming');
    assert.equal(out.result, 'produced');
    assert.equal(out.size, data.length);
    assert.deepEqual(out.parts, [1, 2, 3].map((n) => ({ etag: `"etag-${n}"`, part_number: n })));
    assert.ok(Buffer.concat([1, 2, 3].map((n) => sink.parts.get(n)!.body)).equals(data));
    assert.equal(sink.parts.get(1)!.body.length, 5 * MiB);
    // urlMaxAgeMs 0: every part asked the panel again, so no part used the first (size=1) answer.
    assert.equal(sizes[0], 1);
    assert.ok(sizes.length >= 4, `asked ${sizes.length} times`);
    for (const n of [1, 2, 3]) assert.notEqual(sink.parts.get(n)!.sig, '1');
    assert.deepEqual(readdirSync(spool), []);
  } finally {
    await sink.close();
    rmSync(spool, { recursive: true, force: true });
  }
});

test('a failing producer leaves no spooled parts behind', async () => {
  const sink = await partSink();
  const spool = mkdtempSync(join(tmpdir(), 'bw-s3-'));
  try {
    const { panel } = fakePanel(sink.base, 5 * MiB, true);
    await assert.rejects(
      uploadArchiveToS3(producer(randomBytes(12 * MiB), 7 * MiB), {
        panel, backupUuid: 'b', spoolDir: spool, concurrency: 2, signal: new AbortController().signal, logger: silentLogger(),
      }),
      /archive broke/,
    );
    assert.deepEqual(readdirSync(spool), []);
  } finally {
    await sink.close();
    rmSync(spool, { recursive: true, force: true });
  }
});

test('non-extendable panel: temp file, exact size asked, temp file removed', async () => {
  const sink = await partSink();
  const spool = mkdtempSync(join(tmpdir(), 'bw-s3-'));
  try {
    const data = randomBytes(11 * MiB);
    const { panel, sizes } = fakePanel(sink.base, 5 * MiB, false);
    const out = await uploadArchiveToS3(producer(data), {
      panel, backupUuid: 'b', spoolDir: spool, concurrency: 3, signal: new AbortController().signal, logger: silentLogger(),
    });
    assert.equal(out.mode, 'tempfile');
    assert.deepEqual(sizes, [1, data.length]);
    assert.equal(out.parts.length, 3);
    assert.ok(Buffer.concat([1, 2, 3].map((n) => sink.parts.get(n)!.body)).equals(data));
    assert.deepEqual(readdirSync(spool), []);
  } finally {
    await sink.close();
    rmSync(spool, { recursive: true, force: true });
  }
});

test('a known upstream panel (sidecar beside Wings) is asked once, with the final size, as Wings asks', async () => {
  const sink = await partSink();
  const spool = mkdtempSync(join(tmpdir(), 'bw-s3-'));
  try {
    const data = randomBytes(6 * MiB + 7);
    const { panel, sizes } = fakePanel(sink.base, 5 * MiB, false);
    const out = await uploadArchiveToS3(producer(data), {
      panel, backupUuid: 'b', spoolDir: spool, concurrency: 2, signal: new AbortController().signal, logger: silentLogger(), upstreamPanel: true,
    });
    assert.equal(out.mode, 'tempfile');
    assert.deepEqual(sizes, [data.length], 'no ?size=1 probe');
    assert.deepEqual(Buffer.concat([sink.parts.get(1)!.body, sink.parts.get(2)!.body]), data);
  } finally {
    await sink.close();
    rmSync(spool, { recursive: true, force: true });
  }
});
