/**
 * A signature-checking S3 server for tests: Ceph's radosgw from Debian on loopback, backed by a
 * one-monitor, one-OSD cluster keeping its data in RAM (memstore), everything inside a temp
 * directory (see /work/shared/reference/s3-servers.md). Start-up takes about 13 s, so a test file
 * starts one and shares it. Unlike fauxqs it verifies SigV4 on header and presigned requests.
 * Needs the Debian packages radosgw, ceph-mon and ceph-osd (scripts/preflight.mjs installs them).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { S3Client, CreateBucketCommand } from '@aws-sdk/client-s3';

const run = promisify(execFile);

export interface Radosgw {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: 'us-east-1';
  /** A path-style client with the right credentials. */
  client(): S3Client;
  createBucket(name: string): Promise<void>;
  /** Another account on the same server (its own keys; it owns the buckets it creates). */
  createUser(uid: string): Promise<{ accessKeyId: string; secretAccessKey: string; client(): S3Client }>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function until(what: string, timeoutMs: number, probe: () => Promise<boolean>, died: () => string | null): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const gone = died();
    if (gone) throw new Error(`radosgw test cluster: ${gone} while waiting for ${what}`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`radosgw test cluster: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function startRadosgw(): Promise<Radosgw> {
  const dir = mkdtempSync(join(tmpdir(), 'backwing-rgw-'));
  const [monPort, rgwPort] = [await freePort(), await freePort()];
  const fsid = randomUUID();
  const accessKeyId = `AK${randomBytes(8).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(20).toString('base64url');
  for (const d of ['mon', 'osd', 'rgw', 'run', 'log', 'crash']) mkdirSync(join(dir, d));
  const conf = join(dir, 'ceph.conf');
  writeFileSync(conf, `[global]
fsid = ${fsid}
mon host = v2:127.0.0.1:${monPort}
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
run dir = ${dir}/run
admin socket = ${dir}/run/$name.asok
log file = ${dir}/log/$name.log
pid file = ${dir}/run/$name.pid
keyring = ${dir}/keyring
crash dir = ${dir}/crash
mon cluster log file = ${dir}/log/cluster.log
osd objectstore = memstore
memstore device bytes = 2147483648
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
osd crush chooseleaf type = 0

[mon.a]
mon data = ${dir}/mon

[osd.0]
osd data = ${dir}/osd

[client.rgw.a]
auth client required = none
ms mon client mode = crc
rgw data = ${dir}/rgw
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
`);
  const C = ['-c', conf];
  const children: ChildProcess[] = [];
  const exited = new Map<string, number | null>();
  // A test process that dies without calling stop() must not leave the cluster running.
  const killAll = () => { for (const c of children) if (c.exitCode === null) c.kill('SIGKILL'); };
  process.once('exit', killAll);
  const daemon = (name: string, cmd: string, args: string[]) => {
    const child = spawn(cmd, [...C, ...args], { stdio: 'ignore' });
    child.on('exit', (code) => exited.set(name, code));
    children.push(child);
  };
  const died = () => {
    const [name, code] = [...exited.entries()][0] ?? [];
    return name ? `${name} exited (code ${code})` : null;
  };
  const stop = async () => {
    process.removeListener('exit', killAll);
    for (const c of [...children].reverse()) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGTERM');
        await new Promise((r) => { const t = setTimeout(() => { c.kill('SIGKILL'); r(null); }, 3000); c.once('exit', () => { clearTimeout(t); r(null); }); });
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const keyring = join(dir, 'keyring');
    await run('ceph-authtool', ['--create-keyring', keyring, '--gen-key', '-n', 'mon.', '--cap', 'mon', 'allow *']);
    await run('ceph-authtool', [keyring, '--gen-key', '-n', 'client.admin', '--cap', 'mon', 'allow *', '--cap', 'osd', 'allow *', '--cap', 'mgr', 'allow *']);
    await run('monmaptool', ['--create', '--addv', 'a', `[v2:127.0.0.1:${monPort}]`, '--fsid', fsid, join(dir, 'monmap')]);
    await run('ceph-mon', [...C, '--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap'), '--keyring', keyring]);
    daemon('ceph-mon', 'ceph-mon', ['-f', '-i', 'a']);
    await until('the monitor', 30_000, async () => { await run('ceph', [...C, '--connect-timeout', '2', 'mon', 'stat']); return true; }, died);
    const osdUuid = randomUUID();
    await run('ceph', [...C, 'osd', 'new', osdUuid]);
    await run('ceph-osd', [...C, '-i', '0', '--mkfs', '--osd-uuid', osdUuid]);
    daemon('ceph-osd', 'ceph-osd', ['-f', '-i', '0']);
    await until('the OSD', 30_000, async () => {
      const { stdout } = await run('ceph', [...C, 'osd', 'stat', '-f', 'json']);
      return (JSON.parse(stdout) as { num_up_osds?: number }).num_up_osds === 1;
    }, died);
    await run('radosgw-admin', [...C, '-n', 'client.rgw.a', 'user', 'create', '--uid', 'test', '--display-name', 'test', '--access-key', accessKeyId, '--secret-key', secretAccessKey]);
    daemon('radosgw', 'radosgw', ['-n', 'client.rgw.a', '-f']);
    const endpoint = `http://127.0.0.1:${rgwPort}`;
    await until('radosgw', 30_000, async () => [200, 403].includes((await fetch(`${endpoint}/`)).status), died);
    const clientOf = (keys: { accessKeyId: string; secretAccessKey: string }) => () => new S3Client({
      endpoint, region: 'us-east-1', forcePathStyle: true, credentials: keys,
      requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
    });
    const client = clientOf({ accessKeyId, secretAccessKey });
    return {
      endpoint, accessKeyId, secretAccessKey, region: 'us-east-1', client,
      async createUser(uid) {
        const keys = { accessKeyId: `AK${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(20).toString('base64url') };
        await run('radosgw-admin', [...C, '-n', 'client.rgw.a', 'user', 'create', '--uid', uid, '--display-name', uid, '--access-key', keys.accessKeyId, '--secret-key', keys.secretAccessKey]);
        return { ...keys, client: clientOf(keys) };
      },
      async createBucket(name) {
        const c = client();
        try {
          await c.send(new CreateBucketCommand({ Bucket: name }));
        } finally {
          c.destroy();
        }
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
