import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { silentLogger } from '../../core/logger.ts';
import { isAppError } from '../../core/app-error.ts';
import type { BackupStore } from './backup-store.ts';
import { BackupCopyService } from './backup-copy.ts';

const SERVER = '0b7c9a52-3b1e-4d8e-9a36-1f5c2d9e8a11';
const BACKUP = 'a3e1f0c4-5d6b-4c7a-8e9f-0a1b2c3d4e5f';

test('a copy in rounds: each round uploads its parts\' byte ranges under their part numbers; a range outside the archive is a 400', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bw-copy-'));
  const file = join(dir, 'archive.tar.gz');
  const archive = randomBytes(25);
  writeFileSync(file, archive);
  // A loopback stand-in for S3's UploadPart: keeps each part's body by the URL's part number.
  const got = new Map<number, Buffer>();
  const s3 = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const n = Number(new URL(req.url!, 'http://x').searchParams.get('partNumber'));
      got.set(n, Buffer.concat(chunks));
      res.setHeader('etag', `"etag-${n}"`);
      res.end();
    });
  });
  await new Promise<void>((r) => s3.listen(0, '127.0.0.1', r));
  const url = (n: number) => `http://127.0.0.1:${(s3.address() as { port: number }).port}/b/k?partNumber=${n}`;
  const store = { claim: async () => ({ path: file, sidecarPath: `${file}.json`, size: archive.length, sidecar: null }) } as unknown as BackupStore;
  const copies = new BackupCopyService({ store, logger: silentLogger() });
  try {
    // 25 bytes in parts of 10: parts 1-2, then part 3 (5 bytes).
    const a = await copies.upload(SERVER, BACKUP, { part_size: 10, parts: [url(1), url(2)], first_part: 1 });
    const b = await copies.upload(SERVER, BACKUP, { part_size: 10, parts: [url(3)], first_part: 3 });
    assert.deepEqual([...a.parts, ...b.parts], [1, 2, 3].map((n) => ({ part_number: n, etag: `"etag-${n}"` })));
    assert.deepEqual(Buffer.concat([got.get(1)!, got.get(2)!, got.get(3)!]), archive);
    assert.equal(got.get(3)!.length, 5);
    // Without first_part, every part at once, as before rounds.
    const whole = await copies.upload(SERVER, BACKUP, { part_size: 10, parts: [url(1), url(2), url(3)] });
    assert.equal(whole.parts.length, 3);

    const refused = (req: Parameters<BackupCopyService['upload']>[2], message: RegExp) =>
      assert.rejects(copies.upload(SERVER, BACKUP, req), (err: unknown) => isAppError(err) && err.status === 400 && message.test(err.message));
    await refused({ part_size: 10, parts: [url(3), url(4)], first_part: 3 }, /3 parts of 10 bytes, not parts 3-4/);
    await refused({ part_size: 10, parts: [url(1), url(2)] }, /3 parts of 10 bytes, not 2/);
  } finally {
    copies.close();
    s3.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
