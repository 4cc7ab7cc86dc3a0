import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { AppError } from '../../core/app-error.ts';
import { createS3BackupStore, effectivePartSize, partCount, contentDisposition, DEFAULT_MAX_PART_SIZE, type PanelS3Config } from './s3-backup-store.ts';

const MiB = 1024 * 1024;
let s3: FauxqsServer;
let cfg: PanelS3Config;

before(async () => {
  s3 = await startFauxqs({ port: 0, logger: false, host: '127.0.0.1' });
  s3.createBucket('backups');
  cfg = {
    bucket: 'backups',
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${s3.port}`,
    accessKeyId: 'test',
    secretAccessKey: 'test',
    forcePathStyle: true,
    maxPartSize: 5 * MiB,
    presignedUrlLifespanMinutes: 60,
  };
});
after(async () => {
  await s3.stop();
});

async function putPart(url: string, body: Buffer): Promise<string> {
  const res = await fetch(url, { method: 'PUT', body: new Uint8Array(body) });
  assert.equal(res.status, 200, `part upload answered ${res.status}: ${await res.text()}`);
  const etag = res.headers.get('etag');
  assert.ok(etag, 'part upload returned an etag');
  return etag;
}

test('part arithmetic follows upstream: fallback 5 GiB, at least one part', () => {
  assert.equal(effectivePartSize(0), DEFAULT_MAX_PART_SIZE);
  assert.equal(effectivePartSize(-3), DEFAULT_MAX_PART_SIZE);
  assert.equal(effectivePartSize(Number.NaN), DEFAULT_MAX_PART_SIZE);
  assert.equal(effectivePartSize(100), 100);
  assert.equal(partCount(1, 100), 1);
  assert.equal(partCount(100, 100), 1);
  assert.equal(partCount(101, 100), 2);
  assert.equal(partCount(0, 100), 1);
});

test('content disposition keeps the exact name and an ASCII fallback', () => {
  assert.equal(contentDisposition('a "b".tar.gz'), `attachment; filename="a _b_.tar.gz"; filename*=UTF-8''a%20%22b%22.tar.gz`);
});

test('presigned URLs carry no x-amz-checksum parameter (strict stores reject them)', async () => {
  const store = createS3BackupStore(cfg);
  const key = store.objectKey(randomUUID(), randomUUID());
  const { uploadId, parts } = await store.presignUpload(key, null, 12 * MiB);
  assert.equal(parts.length, 3);
  const get = await store.presignedGetUrl(key, 300, 'x.tar.gz');
  for (const url of [...parts, get]) {
    const lower = url.toLowerCase();
    assert.ok(!lower.includes('x-amz-checksum'), `checksum parameter in ${url}`);
    assert.ok(!lower.includes('x-amz-sdk-checksum-algorithm'), `checksum algorithm in ${url}`);
    assert.ok(lower.includes('x-amz-signature='), 'URL is signed');
  }
  for (const [i, url] of parts.entries()) {
    const q = new URL(url).searchParams;
    assert.equal(q.get('partNumber'), String(i + 1));
    assert.equal(q.get('uploadId'), uploadId);
    assert.equal(q.get('X-Amz-Expires'), '3600');
  }
  assert.equal(new URL(get).searchParams.get('X-Amz-Expires'), '300');
  await store.abortUpload(key, uploadId);
});

test('multipart round trip: presign, extend the same upload, complete, download, delete', async () => {
  const store = createS3BackupStore(cfg);
  const server = randomUUID();
  const backup = randomUUID();
  const key = store.objectKey(server, backup);
  assert.equal(key, `${server}/${backup}.tar.gz`);

  const part1 = randomBytes(5 * MiB);
  const part2 = randomBytes(MiB + 123);

  const first = await store.presignUpload(key, null, 5 * MiB);
  assert.equal(first.partSize, 5 * MiB);
  assert.equal(first.parts.length, 1);
  const etag1 = await putPart(first.parts[0]!, part1);

  // The archive turned out larger: ask again for the same upload and get more parts.
  const second = await store.presignUpload(key, first.uploadId, part1.length + part2.length);
  assert.equal(second.uploadId, first.uploadId);
  assert.equal(second.parts.length, 2);
  const etag2 = await putPart(second.parts[1]!, part2);

  // Unordered parts are accepted: S3 needs ascending order, the daemon need not care.
  await store.completeUpload(key, first.uploadId, [{ etag: etag2, part_number: 2 }, { etag: etag1, part_number: 1 }]);
  // A report repeated after a panel died between completing and recording: already done, not an error.
  await store.completeUpload(key, first.uploadId, [{ etag: etag1, part_number: 1 }, { etag: etag2, part_number: 2 }]);
  // …but an upload that never became an object still fails.
  await assert.rejects(store.completeUpload(store.objectKey(server, randomUUID()), first.uploadId, [{ etag: etag1, part_number: 1 }]), AppError);

  const url = await store.presignedGetUrl(key, 300, 'backup.tar.gz');
  const res = await fetch(url);
  assert.equal(res.status, 200);
  const body = Buffer.from(await res.arrayBuffer());
  assert.equal(body.length, part1.length + part2.length);
  assert.ok(body.equals(Buffer.concat([part1, part2])), 'downloaded bytes equal the uploaded parts');

  await store.deleteObject(key);
  const gone = await fetch(await store.presignedGetUrl(key, 300));
  assert.equal(gone.status, 404);
  await gone.arrayBuffer();
  // Deleting a missing object is not an error (S3 semantics), so a retried delete succeeds.
  await store.deleteObject(key);
});

test('abort ends the upload: later parts are refused, a second abort is harmless', async () => {
  const store = createS3BackupStore(cfg);
  const key = store.objectKey(randomUUID(), randomUUID());
  const { uploadId, parts } = await store.presignUpload(key, null, 10);
  await store.abortUpload(key, uploadId);
  const res = await fetch(parts[0]!, { method: 'PUT', body: 'late' });
  assert.equal(res.status, 404);
  assert.match(await res.text(), /NoSuchUpload/);
  await store.abortUpload(key, uploadId);
});

test('S3 failures become AppError S3StorageException 502, refusals a 424', async () => {
  const store = createS3BackupStore(cfg);
  const key = store.objectKey(randomUUID(), randomUUID());
  const { uploadId, parts } = await store.presignUpload(key, null, 10);
  await putPart(parts[0]!, Buffer.from('0123456789'));
  await assert.rejects(store.completeUpload(key, uploadId, [{ etag: '"not-the-etag"', part_number: 1 }]), (err: unknown) => {
    assert.ok(err instanceof AppError);
    assert.equal(err.code, 'S3StorageException');
    assert.equal(err.status, 502);
    assert.match(err.message, /complete upload/);
    return true;
  });
  await store.abortUpload(key, uploadId);

  const missing = createS3BackupStore({ ...cfg, bucket: 'no-such-bucket' });
  // A missing bucket is a refusal no retry fixes: 424 with a user-safe reason (issue 12).
  await assert.rejects(missing.presignUpload('a/b.tar.gz', null, 10), (err: unknown) => err instanceof AppError && err.code === 'S3RefusedException' && err.status === 424 && err.message === 'the S3 bucket does not exist (NoSuchBucket)' && !err.retryable);
});

test('a size of zero or over 5 TiB is refused before touching S3', async () => {
  const store = createS3BackupStore({ ...cfg, maxPartSize: 1 });
  await assert.rejects(store.presignUpload('k', null, 0), (err: unknown) => err instanceof AppError && err.status === 400);
  // Beyond 10,000 parts the part size grows (src/wire/part-sizes.ts); only S3's 5 TiB object limit is final.
  await assert.rejects(store.presignUpload('k', null, 5 * 1024 ** 4 + 1), (err: unknown) => err instanceof AppError && err.status === 400 && /5 TiB/.test(err.message));
  await assert.rejects(store.presignUpload('k', null, 5 * 1024 ** 4 + 1, { growing: true }), (err: unknown) => err instanceof AppError && err.status === 400);
});
