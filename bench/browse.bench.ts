/**
 * `npm run bench:browse [-- --size 1G] [--dir PATH] [--rounds 3] [--s3] [--keep]`
 *
 * Restoring one 1 MiB file from a ~1 GiB archive through the backup index (issue 14), beside the
 * full path (read the whole archive and extract it). Both run in-process through the same
 * library calls the daemon uses: the index path decodes `<archive>.idx`, reads only the gzip
 * members that hold the file and extracts them with the same safe extractor; the full path
 * streams the whole archive into the extractor. Reported per path: bytes read from storage and
 * wall time (median of the rounds), and the ratio. `--s3` repeats both against the test S3 server
 * (fauxqs on loopback) through presigned GETs, the index path with HTTP Range requests.
 * The tree lives on disk under --dir (default $TMPDIR/backwing-bench-browse): 1 MiB files of
 * incompressible data, the target in the middle, so every member is about 1 MiB compressed.
 */
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { createArchiveFile, decodeIndex, extractArchive, fileSource, IndexView, readIndexedTar, type ArchiveSource } from '../src/archive/index.ts';
import { fsType, median } from './measure.ts';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1]! : def;
};
const MiB = 1 << 20;
const size = Math.round(Number(/^(\d+(?:\.\d+)?)G/i.exec(opt('--size', '1G'))?.[1] ?? 1) * 1024) * MiB;
const base = opt('--dir', join(tmpdir(), 'backwing-bench-browse'));
const rounds = Math.max(1, Number(opt('--rounds', '3')));
const withS3 = args.includes('--s3');
/** In the middle of the archive (part-008 holds files 512–575; `target` sorts after their `r.*`). */
const TARGET = 'world/part-008/target.mca';

function makeTree(root: string): void {
  if (fs.existsSync(join(root, TARGET))) return;
  const files = Math.floor(size / MiB);
  for (let i = 0; i < files; i++) {
    const dir = join(root, 'world', `part-${String(Math.floor(i / 64)).padStart(3, '0')}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(join(dir, `r.${i}.mca`), randomBytes(MiB));
    if (i === Math.floor(files / 2)) fs.writeFileSync(join(root, TARGET), randomBytes(MiB));
  }
}

function counting(src: ArchiveSource, counter: { bytes: number }): ArchiveSource {
  return {
    async open(start, end) {
      const s = await src.open(start, end);
      s.on('data', (b: Buffer) => (counter.bytes += b.length));
      return s;
    },
  };
}

interface Run { ms: number; bytes: number }

async function indexPath(src: ArchiveSource, readIndex: () => Promise<Buffer>, out: string): Promise<Run> {
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out);
  const counter = { bytes: 0 };
  const t0 = performance.now();
  const idx = await readIndex();
  counter.bytes += idx.length;
  const ix = decodeIndex(idx);
  const view = new IndexView(ix);
  const { picks } = view.select([TARGET]);
  const tar = Readable.from(readIndexedTar(counting(src, counter), ix, picks));
  await extractArchive(tar.pipe(createGzip({ level: 1 })), out);
  const ms = performance.now() - t0;
  if (fs.statSync(join(out, TARGET)).size !== MiB) throw new Error('the file did not come back whole');
  return { ms, bytes: counter.bytes };
}

async function fullPath(open: () => Promise<Readable>, out: string): Promise<Run> {
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out);
  let bytes = 0;
  const t0 = performance.now();
  const input = await open();
  input.on('data', (b: Buffer) => (bytes += b.length));
  await extractArchive(input, out);
  const ms = performance.now() - t0;
  return { ms, bytes };
}

function report(where: string, idx: Run[], full: Run[]): void {
  const im = median(idx.map((r) => r.ms));
  const fm = median(full.map((r) => r.ms));
  const ib = idx[0]!.bytes;
  const fb = full[0]!.bytes;
  console.log(`${where}: index path ${im.toFixed(0)} ms, ${(ib / MiB).toFixed(2)} MiB read (bar: ≤ ${(2 + 1).toFixed(0)} MiB = 2 MiB + the file)`);
  console.log(`${where}: full path  ${fm.toFixed(0)} ms, ${(fb / MiB).toFixed(1)} MiB read`);
  console.log(`${where}: ratio ${(fm / im).toFixed(0)}x faster, ${(fb / ib).toFixed(0)}x fewer bytes (bar: ≥ 50x faster)`);
}

async function main(): Promise<void> {
  const tree = join(base, 'tree');
  const archive = join(base, 'a.tar.gz');
  const index = join(base, 'a.idx');
  fs.mkdirSync(base, { recursive: true });
  console.log(`tree ${tree} (${fsType(base)}), ${(size / MiB).toFixed(0)} MiB of 1 MiB incompressible files; ${rounds} rounds; the machine is shared: figures are noisy`);
  makeTree(tree);
  if (!fs.existsSync(index)) {
    const t0 = performance.now();
    const r = await createArchiveFile(tree, archive, { index: true });
    fs.writeFileSync(index, r.index!);
    console.log(`archive ${(r.size / MiB).toFixed(1)} MiB, index ${r.index!.length} bytes, created in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const out = join(base, 'out');
  const idx: Run[] = [];
  const full: Run[] = [];
  for (let i = 0; i < rounds; i++) {
    idx.push(await indexPath(fileSource(archive), async () => fs.readFileSync(index), out));
    full.push(await fullPath(async () => fs.createReadStream(archive, { highWaterMark: MiB }), out));
  }
  report('local disk', idx, full);

  if (withS3) {
    const { startFauxqs } = await import('fauxqs');
    const { S3Client, PutObjectCommand, GetObjectCommand, CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand } = await import('@aws-sdk/client-s3');
    const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
    const { HostAllowlist } = await import('../src/daemon/services/ssrf-guard.ts');
    const { httpSource } = await import('../src/daemon/services/backup-indexes.ts');
    const { guardedGet } = await import('../src/daemon/services/ssrf-guard.ts');
    const server = await startFauxqs({ port: 0, logger: false, host: '127.0.0.1' });
    server.createBucket('bench');
    const s3 = new S3Client({ endpoint: `http://127.0.0.1:${server.port}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    try {
      // In 5 MiB parts (S3's minimum; fauxqs refuses large bodies).
      const total = fs.statSync(archive).size;
      const PART = 5 * MiB;
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'bench', Key: 'a.tar.gz' }));
      const parts: Array<{ ETag: string; PartNumber: number }> = [];
      const fd = fs.openSync(archive, 'r');
      for (let off = 0, n = 1; off < total; off += PART, n++) {
        const buf = Buffer.allocUnsafe(Math.min(PART, total - off));
        fs.readSync(fd, buf, 0, buf.length, off);
        const r = await s3.send(new UploadPartCommand({ Bucket: 'bench', Key: 'a.tar.gz', UploadId, PartNumber: n, Body: buf }));
        parts.push({ ETag: r.ETag!, PartNumber: n });
      }
      fs.closeSync(fd);
      await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'bench', Key: 'a.tar.gz', UploadId, MultipartUpload: { Parts: parts } }));
      await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: 'a.idx', Body: fs.readFileSync(index) }));
      const aUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'bench', Key: 'a.tar.gz' }), { expiresIn: 3600 });
      const iUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'bench', Key: 'a.idx' }), { expiresIn: 3600 });
      const allow = new HostAllowlist(['127.0.0.1']);
      const getAll = async (url: string) => (await guardedGet(url, { allowlist: allow })).body;
      const sIdx: Run[] = [];
      const sFull: Run[] = [];
      for (let i = 0; i < rounds; i++) {
        sIdx.push(await indexPath(httpSource(aUrl, allow), async () => {
          const parts: Buffer[] = [];
          for await (const b of await getAll(iUrl)) parts.push(b as Buffer);
          return Buffer.concat(parts);
        }, out));
        sFull.push(await fullPath(() => getAll(aUrl), out));
      }
      report('S3 (fauxqs, loopback)', sIdx, sFull);
    } finally {
      s3.destroy();
      await server.stop?.();
    }
  }
  fs.rmSync(out, { recursive: true, force: true });
  if (!args.includes('--keep')) fs.rmSync(base, { recursive: true, force: true });
}

await main();
