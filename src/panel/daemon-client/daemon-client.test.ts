import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError } from '../../core/app-error.ts';
import { createDaemonClient, DaemonConnectionError, DAEMON_UNREACHABLE_MESSAGE, deliveryUncertain, type NodeConnection } from './daemon-client.ts';

interface Seen { method: string; url: string; headers: IncomingMessage['headers']; body: string }
let seen: Seen[] = [];
let respond: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => { res.writeHead(204).end(); };
let server: Server;
let node: NodeConnection;

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => { body += c; });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      respond(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  node = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, token: 'node-secret-token' };
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
beforeEach(() => {
  seen = [];
  respond = (_req, res) => { res.writeHead(204).end(); };
});

function daemonError(err: unknown): DaemonConnectionError {
  assert.ok(err instanceof DaemonConnectionError, `expected DaemonConnectionError, got ${String(err)}`);
  assert.ok(err instanceof AppError);
  assert.equal(err.code, 'DaemonConnectionException');
  return err;
}

test('sends each call to the Wings path with bearer token and JSON headers', async () => {
  const client = createDaemonClient();
  await client.createServer(node, 'srv-1');
  await client.createBackup(node, 'srv-1', { adapter: 'wings', uuid: 'b-1', ignore: 'logs\n*.tmp' });
  await client.restoreBackup(node, 'srv-1', 'b-1', { adapter: 's3', truncate_directory: true, download_url: 'http://s3/x' });
  await client.deleteBackup(node, 'srv-1', 'b-1');

  assert.deepEqual(seen.map((s) => `${s.method} ${s.url}`), [
    'POST /api/servers',
    'POST /api/servers/srv-1/backup',
    'POST /api/servers/srv-1/backup/b-1/restore',
    'DELETE /api/servers/srv-1/backup/b-1',
  ]);
  for (const s of seen) {
    assert.equal(s.headers.authorization, 'Bearer node-secret-token');
    assert.equal(s.headers.accept, 'application/json');
    assert.equal(s.headers['content-type'], 'application/json');
  }
  assert.deepEqual(JSON.parse(seen[0]!.body), { uuid: 'srv-1', start_on_completion: false });
  assert.deepEqual(JSON.parse(seen[1]!.body), { adapter: 'wings', uuid: 'b-1', ignore: 'logs\n*.tmp' });
  assert.deepEqual(JSON.parse(seen[2]!.body), { adapter: 's3', truncate_directory: true, download_url: 'http://s3/x' });
  assert.equal(seen[3]!.body, '');
});

test('any 2xx is success (Wings answers 202 or 204)', async () => {
  const client = createDaemonClient();
  respond = (_req, res) => { res.writeHead(202, { 'content-type': 'application/json' }).end('{}'); };
  await client.createServer(node, 'srv-1');
  respond = (_req, res) => { res.writeHead(200).end(); };
  await client.createBackup(node, 'srv-1', { adapter: 'wings', uuid: 'b' });
});

test('daemon 4xx keeps its status and quotes the daemon error with the request id', async () => {
  const client = createDaemonClient();
  respond = (_req, res) => {
    res.writeHead(409, { 'content-type': 'application/json', 'x-request-id': 'hdr-id' })
      .end(JSON.stringify({ error: 'A backup with that uuid is already running', request_id: 'req-123' }));
  };
  await assert.rejects(client.createBackup(node, 's', { adapter: 'wings', uuid: 'b' }), (err) => {
    const e = daemonError(err);
    assert.equal(e.status, 409);
    assert.equal(e.daemonStatus, 409);
    assert.equal(e.requestId, 'req-123');
    assert.equal(e.message, 'An error occurred on the remote host: A backup with that uuid is already running. (request id: req-123)');
    assert.equal(e.retryable, false);
    return true;
  });
});

test('daemon 404 on delete is reported with daemonStatus 404 so the service can treat it as gone', async () => {
  const client = createDaemonClient();
  respond = (_req, res) => { res.writeHead(404, { 'x-request-id': 'r-404' }).end('{"error":"The requested resource does not exist on this instance."}'); };
  await assert.rejects(client.deleteBackup(node, 's', 'b'), (err) => {
    const e = daemonError(err);
    assert.equal(e.status, 404);
    assert.equal(e.daemonStatus, 404);
    assert.equal(e.message, 'An error occurred on the remote host: The requested resource does not exist on this instance. (request id: r-404)');
    return true;
  });
});

test('daemon 5xx keeps its status with the generic message, code and request id (from the header when the body lacks it)', async () => {
  const client = createDaemonClient();
  respond = (_req, res) => { res.writeHead(500, { 'content-type': 'text/plain', 'x-request-id': 'hdr-500' }).end('{"error":"boom"}'); };
  await assert.rejects(client.restoreBackup(node, 's', 'b', { adapter: 'wings', truncate_directory: false, download_url: '' }), (err) => {
    const e = daemonError(err);
    assert.equal(e.status, 500);
    assert.equal(e.daemonStatus, 500);
    assert.equal(e.message, 'There was an error while communicating with the machine running this server. This error has been logged, please try again. (code: 500) (request_id: hdr-500)');
    assert.equal(e.retryable, true);
    return true;
  });
});

test('a redirect is not followed (the token must not travel) and maps to 502', async () => {
  const client = createDaemonClient();
  respond = (_req, res) => { res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }).end(); };
  await assert.rejects(client.createBackup(node, 's', { adapter: 'wings', uuid: 'b' }), (err) => {
    const e = daemonError(err);
    assert.equal(e.status, 502);
    assert.equal(e.daemonStatus, 302);
    return true;
  });
  assert.equal(seen.length, 1);
});

test('a non-JSON 4xx body is quoted as text', async () => {
  const client = createDaemonClient();
  respond = (_req, res) => { res.writeHead(400).end('bad things'); };
  await assert.rejects(client.createBackup(node, 's', { adapter: 'wings', uuid: 'b' }), (err) => {
    assert.equal(daemonError(err).message, 'An error occurred on the remote host: bad things. (request id: <empty>)');
    return true;
  });
});

test('unreachable daemon → 504 with no daemonStatus', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const client = createDaemonClient({ timeoutMs: 2000 });
  await assert.rejects(client.createServer({ url: `http://127.0.0.1:${port}`, token: 't' }, 'x'), (err) => {
    const e = daemonError(err);
    assert.equal(e.status, 504);
    assert.equal(e.daemonStatus, undefined);
    assert.equal(e.message, DAEMON_UNREACHABLE_MESSAGE);
    return true;
  });
});

test('a daemon that never answers times out → 504, and the call is made once (no retry)', async () => {
  const client = createDaemonClient({ timeoutMs: 200 });
  const pending: ServerResponse[] = [];
  respond = (_req, res) => { pending.push(res); };
  await assert.rejects(client.createBackup(node, 's', { adapter: 'wings', uuid: 'b' }), (err) => {
    const e = daemonError(err);
    assert.equal(e.status, 504);
    assert.equal(e.daemonStatus, undefined);
    return true;
  });
  assert.equal(seen.length, 1);
  for (const res of pending) res.destroy();
});

test('deliveryUncertain: only a call that may have reached the daemon without an answer', async () => {
  const client = createDaemonClient({ timeoutMs: 2_000 });
  const body = { adapter: 'wings' as const, truncate_directory: false, download_url: '' };
  // fetch refuses port 1 before connecting: provably not delivered.
  const blocked = await client.restoreBackup({ url: 'http://127.0.0.1:1', token: 't' }, 's', 'b', body).catch((e: unknown) => e);
  assert.ok(blocked instanceof DaemonConnectionError);
  assert.equal(deliveryUncertain(blocked), false);
  assert.equal(deliveryUncertain(new DaemonConnectionError(500, 'x', { daemonStatus: 500 })), false, 'an answer is certain');
  assert.equal(deliveryUncertain(new DaemonConnectionError(504, 'x', { cause: new DOMException('timed out', 'TimeoutError') })), true);
  assert.equal(deliveryUncertain(new DaemonConnectionError(504, 'x', { cause: Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }) })), false);
  assert.equal(deliveryUncertain(new Error('other')), false);
});
