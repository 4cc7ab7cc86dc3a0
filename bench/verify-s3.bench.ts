/**
 * What the S3 read-back (`BACKUP_VERIFY_S3_READ_BACK=true`) adds to a backup (issue 17), against a
 * real signature-checking S3 server: Ceph radosgw on loopback (test/support/radosgw.ts, data in
 * RAM). `node --import tsx bench/verify-s3.bench.ts [--shape mixed] [--dir PATH] [--rounds 3]`.
 *
 * Per round: `createArchiveFile` of the tree (what the daemon compresses), a PUT of the archive to
 * the bucket (what its part uploads send), then the read-back exactly as the node runs it: a
 * presigned GET through the daemon's guarded HTTP client, hashed, every member inflated and the tar
 * walked to the end (`checkArchive`). The daemon streams the archive while it is made, so create +
 * upload is an upper bound of the backup's time and the share shown a lower bound; the share of the
 * create alone is shown as well. Median of the rounds. Loopback: no network cost, only the store's.
 */
import * as fs from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { checkArchive, createArchiveFile } from '../src/archive/index.ts';
import { checkLocalArchive } from '../src/daemon/services/verify.service.ts';
import { guardedGet, HostAllowlist } from '../src/daemon/services/ssrf-guard.ts';
import { startRadosgw } from '../test/support/radosgw.ts';
import { ensureTree } from './generate-tree.ts';
import { fsType, median, subBenchArgs } from './measure.ts';

const argv = process.argv.slice(2);
const { base, rounds } = subBenchArgs(argv);
const shapes = argv.includes('--shape') ? subBenchArgs(argv).shapes : ['mixed' as const];
const MiB = 1024 * 1024;
const s2 = (ms: number) => (ms / 1000).toFixed(2);
const pct = (a: number, b: number) => `${((a / b) * 100).toFixed(1)} %`;
/** This process's CPU time, every thread (radosgw is other processes: the node's side only). */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const work = join(base, 'work');
fs.mkdirSync(work, { recursive: true });
const rgw = await startRadosgw();
const s3 = rgw.client();
const bucket = 'verify-bench';
await rgw.createBucket(bucket);
const allowlist = new HostAllowlist(['127.0.0.1']);
const load0 = loadavg();
const lines: string[] = [];
try {
  for (const shape of shapes) {
    const tree = ensureTree(base, shape);
    const file = join(work, 'verify-s3.tar.gz');
    const create: number[] = [];
    const upload: number[] = [];
    const readBack: number[] = [];
    const readBackCpu: number[] = [];
    const local: number[] = [];
    const localCpu: number[] = [];
    let size = 0;
    for (let r = 0; r < rounds; r++) {
      fs.rmSync(file, { force: true });
      let t0 = performance.now();
      const made = await createArchiveFile(tree.dir, file, { level: 'best_speed' });
      create.push(performance.now() - t0);
      size = made.size;
      const key = `bench/${shape}-${r}.tar.gz`;
      t0 = performance.now();
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: fs.createReadStream(file), ContentLength: made.size }));
      upload.push(performance.now() - t0);
      const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 600 });
      t0 = performance.now();
      let c0 = cpuMs();
      const res = await guardedGet(url, { allowlist });
      if (res.status !== 200) throw new Error(`GET answered ${res.status}`);
      const check = await checkArchive(res.body, { size: made.size, checksumType: made.checksumType, checksum: made.checksum });
      readBack.push(performance.now() - t0);
      readBackCpu.push(cpuMs() - c0);
      if (!check.good) throw new Error(`read-back failed on a fresh object: ${check.reason}`);
      // The same archive verified on local disk, for what the S3 path adds over it.
      t0 = performance.now();
      c0 = cpuMs();
      const onDisk = await checkLocalArchive(file, { size: made.size, checksumType: made.checksumType, checksum: made.checksum });
      local.push(performance.now() - t0);
      localCpu.push(cpuMs() - c0);
      if (!onDisk.good) throw new Error(`local verification failed: ${onDisk.reason}`);
    }
    fs.rmSync(file, { force: true });
    const c = median(create);
    const u = median(upload);
    const v = median(readBack);
    const l = median(local);
    lines.push(`| ${`${shape}: ${tree.files} files, ${(tree.bytes / MiB).toFixed(0)} MiB`.padEnd(34)} | ${s2(c)} s + ${s2(u)} s | ${s2(v).padStart(6)} s (CPU ${s2(median(readBackCpu))} s) | ${s2(l)} s (CPU ${s2(median(localCpu))} s) | ${pct(v, c + u).padStart(7)} | ${pct(v, c).padStart(7)} | ${(size / MiB).toFixed(1)} MiB; read-back rounds ${readBack.map(s2).join(' / ')}, local ${local.map(s2).join(' / ')}`);
  }
} finally {
  s3.destroy();
  await rgw.stop();
}
const load1 = loadavg();
console.log(`\nS3 read-back bench: ${availableParallelism()} cores; radosgw (memstore) on loopback; trees in ${base} (${fsType(base)}); median of ${rounds} rounds; load avg ${load0.map((x) => x.toFixed(2)).join(' ')} → ${load1.map((x) => x.toFixed(2)).join(' ')}\n`);
console.log(`| ${'tree'.padEnd(34)} | create + upload | S3 read-back | same archive on disk | S3 read-back / (create+upload) | / create | notes`);
console.log(`|${'-'.repeat(36)}|-----------------|--------------|----------------------|--------------------------------|----------|------`);
for (const l of lines) console.log(l);
