/**
 * A small RCON client for the Source and Minecraft protocols (wings-control.md §5).
 *
 * Hand-written because none of the npm clients meets the bar (§6): `rcon-client` says it is not
 * maintained and resolves on the first packet, so a reply split over several packets is cut short;
 * `rcon-srcds` treats each socket chunk as one packet (two packets in one chunk, or one packet in
 * two chunks, break it); `minecraft-server-util` is deprecated and its execute() has no timeout.
 *
 * End of a reply: after each command we send an empty RESPONSE_VALUE (type 0) with its own id.
 * Source echoes it (its documented terminator trick); Minecraft has no terminator but answers any
 * unknown type with "Unknown request 0" under the same id (the "invalid type" trick). Either way,
 * requests are answered in order, so the first packet carrying the terminator's id ends the reply.
 */
import net from 'node:net';

const TYPE_AUTH = 3;
const TYPE_AUTH_RESPONSE = 2;
const TYPE_EXEC = 2;
const TYPE_RESPONSE = 0;
/** Minecraft's limit client→server (the smaller of the two protocols). */
export const RCON_MAX_COMMAND_BYTES = 1446;
/** Largest `size` field we accept: 4096 body bytes + id, type and the two NULs, with slack. */
const MAX_PACKET_SIZE = 4096 + 10 + 1024;

export interface RconPacket {
  id: number;
  type: number;
  body: Buffer;
}

export class RconError extends Error {
  constructor(message: string, readonly reason: 'refused' | 'auth' | 'timeout' | 'closed' | 'protocol') {
    super(message);
    this.name = 'RconError';
  }
}

export function encodePacket(id: number, type: number, body: string): Buffer {
  const payload = Buffer.from(body, 'utf8');
  const buf = Buffer.alloc(4 + 4 + 4 + payload.length + 2);
  buf.writeInt32LE(buf.length - 4, 0);
  buf.writeInt32LE(id, 4);
  buf.writeInt32LE(type, 8);
  payload.copy(buf, 12);
  return buf;
}

/** Splits a byte stream into packets, whatever the chunking (a packet over several chunks, several in one). */
export class PacketDecoder {
  #buf: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): RconPacket[] {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    const out: RconPacket[] = [];
    while (this.#buf.length >= 4) {
      const size = this.#buf.readInt32LE(0);
      if (size < 10 || size > MAX_PACKET_SIZE) throw new RconError(`RCON server sent an invalid packet size (${size})`, 'protocol');
      if (this.#buf.length < 4 + size) break;
      const id = this.#buf.readInt32LE(4);
      const type = this.#buf.readInt32LE(8);
      // Body ends at the first of the two trailing NULs.
      const body = this.#buf.subarray(12, 4 + size - 2);
      out.push({ id, type, body: Buffer.from(body) });
      this.#buf = this.#buf.subarray(4 + size);
    }
    return out;
  }
}

export interface RconTarget {
  host: string;
  port: number;
  /** Revealed only to write the auth packet; never logged or put in an error. */
  password: string;
  timeoutMs: number;
}

export class RconSession {
  readonly #socket: net.Socket;
  readonly #decoder = new PacketDecoder();
  readonly #timeoutMs: number;
  #nextId = 1;
  #onPacket: ((p: RconPacket) => void) | null = null;
  #onError: ((e: Error) => void) | null = null;
  #closedError: Error | null = null;

  private constructor(socket: net.Socket, timeoutMs: number) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    socket.on('data', (chunk: Buffer) => {
      let packets: RconPacket[];
      try {
        packets = this.#decoder.push(chunk);
      } catch (err) {
        this.#fail(err as Error);
        return;
      }
      for (const p of packets) this.#onPacket?.(p);
    });
    socket.on('error', (err) => this.#fail(new RconError(`RCON connection failed (${(err as NodeJS.ErrnoException).code ?? err.message})`, 'closed')));
    socket.on('close', () => this.#fail(new RconError('RCON connection closed by the server', 'closed')));
  }

  #fail(err: Error): void {
    this.#closedError ??= err;
    this.#socket.destroy();
    this.#onError?.(err);
  }

  static async connect(target: RconTarget): Promise<RconSession> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: target.host, port: target.port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new RconError(`RCON did not answer at ${target.host}:${target.port} within ${target.timeoutMs / 1000} s`, 'timeout'));
      }, target.timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        resolve(s);
      });
      s.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const refused = err.code === 'ECONNREFUSED';
        reject(new RconError(refused ? `RCON connection refused at ${target.host}:${target.port}` : `RCON connection to ${target.host}:${target.port} failed (${err.code ?? err.message})`, refused ? 'refused' : 'closed'));
      });
    });
    socket.setNoDelay(true);
    const session = new RconSession(socket, target.timeoutMs);
    try {
      await session.#auth(target.password);
    } catch (err) {
      session.close();
      throw err;
    }
    return session;
  }

  #id(): number {
    const id = this.#nextId;
    this.#nextId = this.#nextId >= 0x7ffffff0 ? 1 : this.#nextId + 1;
    return id;
  }

  /** Runs one exchange: writes `packets`, feeds answers to `handle` until it returns a value. */
  #exchange<T>(packets: Buffer[], handle: (p: RconPacket) => T | undefined, what: string): Promise<T> {
    if (this.#closedError) return Promise.reject(this.#closedError);
    return new Promise<T>((resolve, reject) => {
      const done = (fn: () => void) => {
        clearTimeout(timer);
        this.#onPacket = null;
        this.#onError = null;
        fn();
      };
      const timer = setTimeout(() => {
        done(() => reject(new RconError(`RCON ${what} got no complete answer within ${this.#timeoutMs / 1000} s`, 'timeout')));
        this.#fail(new RconError('RCON session timed out', 'timeout'));
      }, this.#timeoutMs);
      this.#onError = (err) => done(() => reject(err));
      this.#onPacket = (p) => {
        let result: T | undefined;
        try {
          result = handle(p);
        } catch (err) {
          done(() => reject(err));
          return;
        }
        if (result !== undefined) done(() => resolve(result as T));
      };
      for (const b of packets) this.#socket.write(b);
    });
  }

  async #auth(password: string): Promise<void> {
    const id = this.#id();
    await this.#exchange([encodePacket(id, TYPE_AUTH, password)], (p) => {
      // Source sends an empty RESPONSE_VALUE before the AUTH_RESPONSE: skip it.
      if (p.type !== TYPE_AUTH_RESPONSE) return undefined;
      if (p.id === -1) throw new RconError('RCON password was refused', 'auth');
      return p.id === id ? true : undefined;
    }, 'login');
  }

  /** Sends one command; resolves with the whole reply, however many packets it took. */
  async command(command: string): Promise<string> {
    if (Buffer.byteLength(command, 'utf8') > RCON_MAX_COMMAND_BYTES) throw new RconError(`RCON command longer than ${RCON_MAX_COMMAND_BYTES} bytes`, 'protocol');
    const id = this.#id();
    const end = this.#id();
    const parts: Buffer[] = [];
    await this.#exchange([encodePacket(id, TYPE_EXEC, command), encodePacket(end, TYPE_RESPONSE, '')], (p) => {
      if (p.id === -1) throw new RconError('RCON session is not authenticated', 'auth');
      if (p.id === id) parts.push(p.body);
      // Packets of earlier, finished exchanges (Source's second terminator echo) are ignored.
      return p.id === end ? true : undefined;
    }, 'command');
    // Joined before decoding: Minecraft cuts at 4096 bytes, possibly inside a UTF-8 character.
    return Buffer.concat(parts).toString('utf8');
  }

  close(): void {
    this.#closedError ??= new RconError('RCON session closed', 'closed');
    this.#socket.destroy();
  }
}
