import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, symlinkSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { BackupStore } from './backup-store.ts';

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'bw-store-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('a flat Wings archive belongs to the first server the panel names it for, and then to it only', async () => {
  const { dir, cleanup } = setup();
  try {
    const store = new BackupStore(dir, 'flat');
    const [s1, s2, b] = [randomUUID(), randomUUID(), randomUUID()];
    writeFileSync(join(dir, `${b}.tar.gz`), 'wings');
    const [x, y] = await Promise.all([store.claim(s1, b), store.claim(s2, b)]);
    assert.ok(x, 'the first naming adopts it');
    assert.equal(y, null, 'the concurrent second naming is refused');
    assert.equal(JSON.parse(readFileSync(join(dir, `${b}.json`), 'utf8')).server_uuid, s1);
    assert.equal((await store.claim(s1, b))?.path, join(dir, `${b}.tar.gz`));
    assert.deepEqual((await store.listOwnedBy(s1)).map((f) => f.path), [join(dir, `${b}.tar.gz`)]);
    assert.deepEqual(await store.listOwnedBy(s2), []);
  } finally {
    cleanup();
  }
});

test("an archive adopted unbound by `adopt` is bound by the panel's first naming", async () => {
  const { dir, cleanup } = setup();
  try {
    const store = new BackupStore(dir, 'flat');
    const [s1, s2, b] = [randomUUID(), randomUUID(), randomUUID()];
    writeFileSync(join(dir, `${b}.tar.gz`), 'wings');
    writeFileSync(join(dir, `${b}.json`), JSON.stringify({ server_uuid: null, checksum: 'abc', checksum_type: 'sha1', size: 5, created_at: 'x', adopted_at: 'y' }));
    const found = await store.claim(s2, b);
    assert.equal(found?.sidecar.server_uuid, s2);
    assert.equal(found?.sidecar.checksum, 'abc', 'what adopt recorded is kept');
    assert.equal(await store.claim(s1, b), null);
  } finally {
    cleanup();
  }
});

test("per-server layout: the directory names the owner; links are never followed", async () => {
  const { dir, cleanup } = setup();
  try {
    const store = new BackupStore(dir, 'per-server');
    const [s1, s2, b1, b2, link] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    mkdirSync(join(dir, s1));
    mkdirSync(join(dir, s2));
    writeFileSync(join(dir, s1, `${b1}.tar.gz`), 'one');
    writeFileSync(join(dir, s2, `${b2}.tar.gz`), 'two');
    symlinkSync(join(dir, s2, `${b2}.tar.gz`), join(dir, s1, `${link}.tar.gz`));
    assert.equal(await store.claim(s1, b2), null, "S2's archive is not S1's to name");
    assert.ok(!existsSync(join(dir, s2, `${b2}.json`)));
    assert.equal(await store.claim(s1, link), null, 'a symlinked archive is refused');
    assert.equal((await store.claim(s1, b1))?.sidecar.server_uuid, s1);
    assert.deepEqual((await store.listOwnedBy(s2)).map((f) => f.path), [join(dir, s2, `${b2}.tar.gz`)], 'its own directory, sidecar or not');
    const fresh = randomUUID();
    const s3 = randomUUID();
    assert.equal(await store.prepareArchive(fresh, s3), join(dir, s3, `${fresh}.tar.gz`));
    assert.ok(existsSync(join(dir, s3)));
    writeFileSync(join(dir, s3, `${fresh}.tar.gz.tmp-1`), 'partial');
    assert.deepEqual(await store.removeTemporaryFiles(), [`${s3}/${fresh}.tar.gz.tmp-1`]);
  } finally {
    cleanup();
  }
});
