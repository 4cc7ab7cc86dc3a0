/**
 * Runs Debian's real nginx with the shipped sidecar config (deploy/nginx/backwing-sidecar.conf),
 * rendered with only its marked values replaced, under a temporary prefix on loopback. Each
 * replacement must match exactly once, so a change to the shipped file that the test no longer
 * covers fails here instead of passing untested.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

export const SHIPPED_NGINX_CONF = fileURLToPath(new URL('../../../deploy/nginx/backwing-sidecar.conf', import.meta.url));

export interface NginxProcess {
  url: string;
  port: number;
  rendered: string;
  errorLog(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

function nginxBinary(): string {
  for (const p of ['/usr/sbin/nginx', '/usr/bin/nginx']) {
    try {
      execFileSync(p, ['-v'], { stdio: 'ignore' });
      return p;
    } catch {
      // next
    }
  }
  throw new Error('nginx is not installed (Debian: apt-get install nginx-light); the sidecar proxy test needs it');
}

export function renderShippedConf(values: { wings: string; backwing: string; listen: string; cert: string; key: string }): string {
  let text = readFileSync(SHIPPED_NGINX_CONF, 'utf8');
  const swap = (from: string, to: string) => {
    const n = text.split(from).length - 1;
    if (n !== 1) throw new Error(`shipped nginx config: expected "${from}" once, found ${n} times`);
    text = text.replace(from, to);
  };
  swap('server 127.0.0.1:8080;', `server ${values.wings};`);
  swap('server 127.0.0.1:8081;', `server ${values.backwing};`);
  swap('listen 8443 ssl;', `listen ${values.listen} ssl;`);
  swap('/etc/letsencrypt/live/node.example.com/fullchain.pem', values.cert);
  swap('/etc/letsencrypt/live/node.example.com/privkey.pem', values.key);
  return text;
}

export async function startNginx(prefix: string, site: string): Promise<NginxProcess> {
  const bin = nginxBinary();
  mkdirSync(join(prefix, 'logs'), { recursive: true });
  writeFileSync(join(prefix, 'backwing-sidecar.conf'), site);
  const port = Number(/listen 127\.0\.0\.1:(\d+) ssl;/.exec(site)?.[1]);
  const conf = `daemon off;
master_process on;
worker_processes 1;
${process.getuid?.() === 0 ? 'user root root;' : ''}
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'logs/error.log')} warn;
events { worker_connections 128; }
http {
  access_log ${join(prefix, 'logs/access.log')};
  client_body_temp_path ${join(prefix, 'body')};
  proxy_temp_path ${join(prefix, 'proxy')};
  fastcgi_temp_path ${join(prefix, 'fastcgi')};
  uwsgi_temp_path ${join(prefix, 'uwsgi')};
  scgi_temp_path ${join(prefix, 'scgi')};
  include ${join(prefix, 'backwing-sidecar.conf')};
}
`;
  writeFileSync(join(prefix, 'nginx.conf'), conf);
  const check = spawn(bin, ['-t', '-p', prefix, '-c', join(prefix, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let checkOut = '';
  check.stderr!.on('data', (c: Buffer) => (checkOut += c.toString()));
  const ok = await new Promise<number | null>((r) => check.once('exit', r));
  if (ok !== 0) throw new Error(`nginx -t refused the rendered shipped config:\n${checkOut}`);

  const proc: ChildProcess = spawn(bin, ['-p', prefix, '-c', join(prefix, 'nginx.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const end = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    const up = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (up) break;
    if (Date.now() > end) throw new Error(`nginx did not listen on ${port}: ${stderr}`);
    await sleep(50);
  }
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    rendered: site,
    errorLog: () => {
      try {
        return readFileSync(join(prefix, 'logs/error.log'), 'utf8');
      } catch {
        return '';
      }
    },
    async stop() {
      if (proc.exitCode !== null) return;
      proc.kill('SIGQUIT');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** A self-signed certificate for 127.0.0.1 / localhost, made by openssl. */
export function makeCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'node.crt');
  const key = join(dir, 'node.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}
