import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { RconSession, RconError, PacketDecoder, encodePacket } from '../../src/daemon/control/rcon-client.ts';
import { startRconServer, type RconStandIn } from './support/rcon-server.ts';

const servers: RconStandIn[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

const long = 'x'.repeat(9000) + 'é'.repeat(3000) + '<end>';

for (const protocol of ['minecraft', 'source'] as const) {
  test(`${protocol}: login, a reply split over several packets is joined, ids keep replies apart`, async () => {
    const srv = await startRconServer({
      password: 'hunter2-secret',
      protocol,
      reply: (c) => (c === 'long' ? long : c === 'save-all flush' ? 'Saving the game (this may take a moment!)Saved the game' : `echo:${c}`),
      maxBody: 4096,
      chunk: 5,
    });
    servers.push(srv);
    const s = await RconSession.connect({ host: '127.0.0.1', port: srv.port, password: 'hunter2-secret', timeoutMs: 5000 });
    try {
      assert.equal(await s.command('list'), 'echo:list');
      // 9000 + 6000 bytes over 4 packets; the UTF-8 'é' (2 bytes) is cut across a packet boundary.
      assert.equal(await s.command('long'), long);
      assert.match(await s.command('save-all flush'), /Saved the game/);
      assert.equal(await s.command('seed'), 'echo:seed');
    } finally {
      s.close();
    }
    assert.deepEqual(srv.commands, ['list', 'long', 'save-all flush', 'seed']);
  });

  test(`${protocol}: a wrong password is refused with a clear error that does not contain it`, async () => {
    const srv = await startRconServer({ password: 'right', protocol, reply: () => '' });
    servers.push(srv);
    await assert.rejects(RconSession.connect({ host: '127.0.0.1', port: srv.port, password: 'wrong-pass-123', timeoutMs: 5000 }), (err: unknown) => {
      assert.ok(err instanceof RconError);
      assert.equal(err.reason, 'auth');
      assert.equal(err.message, 'RCON password was refused');
      assert.ok(!err.message.includes('wrong-pass-123'));
      return true;
    });
    assert.equal(srv.refusedLogins, 1);
  });
}

test('a server that never answers times out; a closed port is "refused"', async () => {
  // Reads (so it sees the client hang up) but never answers.
  const silent = net.createServer((sock) => sock.resume());
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  const port = (silent.address() as net.AddressInfo).port;
  await assert.rejects(RconSession.connect({ host: '127.0.0.1', port, password: 'p', timeoutMs: 300 }), (err: unknown) => err instanceof RconError && err.reason === 'timeout');
  silent.close();
  await new Promise((r) => silent.once('close', r));
  await assert.rejects(RconSession.connect({ host: '127.0.0.1', port, password: 'p', timeoutMs: 300 }), (err: unknown) => err instanceof RconError && err.reason === 'refused');
});

test('decoder: packets across chunks and several in one chunk; bad sizes are refused', () => {
  const a = encodePacket(1, 0, 'hello');
  const b = encodePacket(2, 0, 'world');
  const all = Buffer.concat([a, b]);
  const d = new PacketDecoder();
  const got = [...d.push(all.subarray(0, 3)), ...d.push(all.subarray(3, a.length + 2)), ...d.push(all.subarray(a.length + 2))];
  assert.deepEqual(got.map((p) => [p.id, p.body.toString()]), [[1, 'hello'], [2, 'world']]);
  const bad = Buffer.alloc(12);
  bad.writeInt32LE(3, 0);
  assert.throws(() => new PacketDecoder().push(bad), /invalid packet size/);
});
