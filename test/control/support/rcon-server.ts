/**
 * A stand-in game with an RCON port, speaking the protocol over real TCP (wings-control.md §5).
 * `minecraft`: answers unknown packet types with "Unknown request <hex>" (the end-of-reply trick);
 * `source`: echoes an empty RESPONSE_VALUE, then the 0x00000001 packet real srcds sends after it,
 * and sends an empty RESPONSE_VALUE before the AUTH_RESPONSE. Replies longer than `maxBody` are
 * split over several packets, and every write is cut into small chunks so packets straddle reads.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface RconStandIn {
  port: number;
  /** Every command received after a good login, in order. */
  commands: string[];
  /** Logins refused (bad password). */
  refusedLogins: number;
  close(): Promise<void>;
}

export interface RconStandInOptions {
  password: string;
  protocol: 'minecraft' | 'source';
  /** The game: command → reply text. */
  reply(command: string): string;
  maxBody?: number;
  /** Bytes per socket write (to split packets across TCP segments). */
  chunk?: number;
}

function packet(id: number, type: number, body: Buffer | string): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const buf = Buffer.alloc(14 + b.length);
  buf.writeInt32LE(10 + b.length, 0);
  buf.writeInt32LE(id, 4);
  buf.writeInt32LE(type, 8);
  b.copy(buf, 12);
  return buf;
}

export async function startRconServer(o: RconStandInOptions): Promise<RconStandIn> {
  const commands: string[] = [];
  let refusedLogins = 0;
  const sockets = new Set<net.Socket>();
  const maxBody = o.maxBody ?? 4096;
  const chunk = o.chunk ?? 7;
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let authed = false;
    let buf = Buffer.alloc(0);
    const send = (...packets: Buffer[]) => {
      const all = Buffer.concat(packets);
      for (let i = 0; i < all.length; i += chunk) socket.write(all.subarray(i, i + chunk));
    };
    socket.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32LE(0)) {
        const size = buf.readInt32LE(0);
        const id = buf.readInt32LE(4);
        const type = buf.readInt32LE(8);
        const body = buf.subarray(12, 4 + size - 2).toString('utf8');
        buf = buf.subarray(4 + size);
        if (type === 3) {
          const ok = body === o.password;
          if (!ok) refusedLogins++;
          authed = ok;
          const pre = o.protocol === 'source' ? [packet(id, 0, '')] : [];
          send(...pre, packet(ok ? id : -1, 2, ''));
          continue;
        }
        if (!authed) {
          send(packet(-1, 2, ''));
          continue;
        }
        if (type === 2) {
          commands.push(body);
          const reply = Buffer.from(o.reply(body), 'utf8');
          const parts: Buffer[] = [];
          for (let i = 0; i < reply.length; i += maxBody) parts.push(packet(id, 0, reply.subarray(i, i + maxBody)));
          if (parts.length === 0) parts.push(packet(id, 0, ''));
          send(...parts);
          continue;
        }
        if (o.protocol === 'source' && type === 0) send(packet(id, 0, ''), packet(id, 0, Buffer.from([0, 0, 0, 1])));
        else send(packet(id, 0, `Unknown request ${type.toString(16)}`));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    commands,
    get refusedLogins() {
      return refusedLogins;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
