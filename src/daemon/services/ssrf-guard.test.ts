import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isBlockedAddress, HostAllowlist, mediaType, guardedGet } from './ssrf-guard.ts';

test('blocked address table (Wings later-upstream cases plus metadata, CGNAT, mapped IPv6)', () => {
  for (const ip of ['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.1.1', '169.254.169.254', '100.64.0.1', '198.18.0.1', '198.19.255.255', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fd00::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:10.1.2.3']) {
    assert.equal(isBlockedAddress(ip), true, ip);
  }
  for (const ip of ['8.8.8.8', '1.1.1.1', '100.128.0.1', '198.20.0.1', '2606:4700::11', '::ffff:8.8.8.8']) {
    assert.equal(isBlockedAddress(ip), false, ip);
  }
});

test('allow-list by hostname, IP and CIDR', () => {
  const allow = new HostAllowlist(['minio.internal', '127.0.0.1', '10.0.0.0/8', 'fd00::/8']);
  assert.ok(allow.allowsHost('MINIO.internal'));
  assert.ok(!allow.allowsHost('other.internal'));
  assert.ok(allow.allowsIp('127.0.0.1'));
  assert.ok(allow.allowsIp('::ffff:127.0.0.1'));
  assert.ok(!allow.allowsIp('127.0.0.2'));
  assert.ok(allow.allowsIp('10.200.1.1'));
  assert.ok(allow.allowsIp('fd12::1'));
  assert.ok(!allow.allowsIp('192.168.0.1'));
});

test('content type is parsed as a media type', () => {
  assert.equal(mediaType('application/gzip'), 'application/gzip');
  assert.equal(mediaType('Application/X-Gzip; charset=binary'), 'application/x-gzip');
  assert.equal(mediaType(''), '');
});

test('guardedGet checks DNS answers at connect time: a name resolving to loopback is refused before connecting', async () => {
  let connections = 0;
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/gzip' }).end('x'));
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    await assert.rejects(guardedGet(`http://localhost:${port}/`, { allowlist: new HostAllowlist([]) }), /resolves to a blocked address/);
    await assert.rejects(guardedGet(`http://127.0.0.1:${port}/`, { allowlist: new HostAllowlist([]) }), /resolves to a blocked address/);
    assert.equal(connections, 0, 'no connection was made');
    // Allow-listing the IP admits the DNS answer; allow-listing the name admits the host.
    for (const allow of [['127.0.0.1'], ['localhost'], ['127.0.0.0/8']]) {
      const res = await guardedGet(`http://localhost:${port}/`, { allowlist: new HostAllowlist(allow) });
      assert.equal(res.status, 200);
      res.body.resume();
    }
    await assert.rejects(guardedGet('gopher://localhost/', { allowlist: new HostAllowlist([]) }), /must use HTTP or HTTPS/);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('hex-form mapped and IPv4-compatible IPv6, and URL spellings of IPv4 (decimal, octal, hex) are judged as the address they reach', async () => {
  // The WHATWG URL parser rewrites [::ffff:127.0.0.1] to [::ffff:7f00:1]: the hex form must be caught too.
  for (const ip of ['::ffff:7f00:1', '::ffff:a00:1', '::ffff:a9fe:a9fe', '::7f00:1', '::a00:1', '100::1', 'fec0::1']) {
    assert.equal(isBlockedAddress(ip), true, ip);
  }
  const allow = new HostAllowlist([]);
  for (const url of ['http://2130706433/x', 'http://0177.0.0.1/x', 'http://0x7f.1/x', 'http://127.1/x', 'http://[::ffff:127.0.0.1]/x', 'http://[::]/x', 'http://0.0.0.0/x', 'http://[::ffff:169.254.169.254]/x', 'http://169.254.169.254./x']) {
    await assert.rejects(guardedGet(url, { allowlist: allow }), (err: Error) => err.message === 'The provided backup link resolves to a blocked address.', url);
  }
});

test('checkUrl refuses non-http schemes, relative and host-less links', async () => {
  const { checkUrl } = await import('./ssrf-guard.ts');
  for (const bad of ['ftp://example.com/x', 'file:///etc/passwd', '/relative', 'http://', 'gopher://x', 'javascript:alert(1)']) {
    assert.throws(() => checkUrl(bad), bad);
  }
  assert.equal(checkUrl('https://example.com/a?b=c').hostname, 'example.com');
});

test('DNS answers mixing public and private addresses are refused; all-public passes; allow-listed private passes', async () => {
  const { answersAllowed } = await import('./ssrf-guard.ts');
  const none = new HostAllowlist([]);
  const a = (address: string) => ({ address, family: address.includes(':') ? 6 : 4 });
  assert.equal(answersAllowed([a('8.8.8.8'), a('10.0.0.5')], none), false);
  assert.equal(answersAllowed([a('2606:4700::11'), a('::ffff:7f00:1')], none), false);
  assert.equal(answersAllowed([a('8.8.8.8'), a('1.1.1.1')], none), true);
  assert.equal(answersAllowed([], none), false);
  assert.equal(answersAllowed([a('8.8.8.8'), a('10.0.0.5')], new HostAllowlist(['10.0.0.0/8'])), true);
});
