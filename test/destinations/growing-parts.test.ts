/**
 * Growing part sizes on a real multipart upload (fauxqs: this is about part arithmetic, not
 * signatures): the daemon's streaming uploader cuts an archive into 920 parts of a 1 KiB base
 * that double after PART_GROWTH_EVERY parts, the panel's store signs as many URLs under the same
 * rule, and S3's ETag of every part (the MD5 of what it received) is that of the archive's slice
 * at the size the rule gives. S3 refuses to *complete* parts under 5 MiB, so the upload is aborted
 * rather than completed (test/destinations/radosgw.test.ts completes real ones).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { createS3BackupStore, type S3BackupStore } from '../../src/panel/storage/s3-backup-store.ts';
import { uploadArchiveToS3 } from '../../src/daemon/services/s3-upload.ts';
import type { PanelClient } from '../../src/daemon/panel-client/panel-client.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { bytesInParts, grownPartSize, PART_GROWTH_EVERY } from '../../src/wire/part-sizes.ts';

const BASE = 1024;
let fx: FauxqsServer;
let store: S3BackupStore;
let spool: string;
before(async () => {
  fx = await startFauxqs({ port: 0, logger: false, host: '127.0.0.1' });
  fx.createBucket('grow');
  store = createS3BackupStore({
    bucket: 'grow', region: 'us-east-1', endpoint: `http://127.0.0.1:${fx.port}`, accessKeyId: 'test', secretAccessKey: 'test',
    forcePathStyle: true, maxPartSize: BASE, presignedUrlLifespanMinutes: 60,
  });
  spool = mkdtempSync(join(tmpdir(), 'backwing-grow-'));
});
after(async () => {
  await fx?.stop();
  if (spool) rmSync(spool, { recursive: true, force: true });
});

test('920 growing parts from a 1 KiB base (900 at 1 KiB, then 2 KiB): signed and cut alike; S3 holds each slice at the grown size', async () => {
  const parts = 920;
  const size = bytesInParts(BASE, parts) - 100;
  const data = randomBytes(size);
  const key = store.objectKey(randomUUID(), randomUUID());
  let uploadId: string | null = null;
  const asked: Array<{ size: number; growing: boolean }> = [];
  // The panel's remote route, in process: the same store call RemoteService.uploadUrls makes.
  const panel: PanelClient = {
    async getUploadUrls(_uuid, want, growing) {
      asked.push({ size: want, growing: growing === true });
      const r = await store.presignUpload(key, uploadId, want, { growing });
      uploadId = r.uploadId;
      return { parts: r.parts, part_size: r.partSize, extendable: true, ...(growing ? { growing_parts: true } : {}) };
    },
    listServers: () => Promise.reject(new Error('unused')),
    getServer: () => Promise.reject(new Error('unused')),
    post: () => Promise.reject(new Error('unused')),
  };
  const produce = async (out: Writable) => {
    for (let off = 0; off < data.length; off += 64 * 1024) {
      if (!out.write(data.subarray(off, off + 64 * 1024))) await once(out, 'drain');
    }
    out.end();
    await finished(out);
  };
  const outcome = await uploadArchiveToS3(produce, {
    panel, backupUuid: randomUUID(), spoolDir: spool, concurrency: 16, signal: new AbortController().signal, logger: silentLogger(), minPartSize: BASE,
  });
  assert.equal(outcome.mode, 'streaming');
  assert.equal(outcome.size, size);
  assert.equal(outcome.parts.length, parts, 'parts grew: a fixed 1 KiB would need 940');
  assert.ok(asked.every((a) => a.growing), 'the daemon asked for growing parts every time');
  assert.ok(asked.length < 40, `URLs were asked for ahead (${asked.length} calls for ${parts} parts)`);

  // S3's ETag of each part is the MD5 of the bytes it received: every slice arrived whole, cut where the rule says.
  let offset = 0;
  for (const p of [...outcome.parts].sort((a, b) => a.part_number - b.part_number)) {
    const expected = Math.min(grownPartSize(BASE, p.part_number), size - offset);
    assert.equal(p.etag.replace(/"/g, ''), createHash('md5').update(data.subarray(offset, offset + expected)).digest('hex'), `bytes of part ${p.part_number}`);
    offset += expected;
  }
  assert.equal(offset, size);
  assert.equal(grownPartSize(BASE, PART_GROWTH_EVERY + 1), 2 * BASE);
  await store.abortUpload(key, uploadId!);
});
