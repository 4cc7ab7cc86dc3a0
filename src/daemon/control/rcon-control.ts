/**
 * Console commands over RCON. The target of each server, first match wins: the server's entry in
 * `control.servers.<uuid>.rcon`, then the game's own `server.properties` (Minecraft: `rcon.port`,
 * `rcon.password`), then `control.rcon`. The password is read per command and never leaves this file
 * except inside the auth packet.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Secret } from '../../core/secret.ts';
import type { ControlConfig, RconSettings } from './control-config.ts';
import { RconError, RconSession, type RconTarget } from './rcon-client.ts';
import { ControlError, type CommandBackend, type CommandOptions, type ServerRef } from './types.ts';

/** Java .properties, the part server.properties uses: key=value or key:value, # and ! comments, backslash escapes. */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimStart();
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^((?:\\.|[^=:\s\\])+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (!m) continue;
    const unescape = (s: string) => s.replace(/\\(.)/g, (_x, c: string) => ({ t: '\t', n: '\n', r: '\r' } as Record<string, string>)[c] ?? c);
    out.set(unescape(m[1]!), unescape(m[2]!.trimEnd()));
  }
  return out;
}

async function fromServerProperties(dir: string): Promise<RconSettings> {
  let text: string;
  try {
    text = await readFile(join(dir, 'server.properties'), 'utf8');
  } catch {
    return {};
  }
  const props = parseProperties(text);
  const port = Number(props.get('rcon.port'));
  const password = props.get('rcon.password');
  return {
    ...(Number.isInteger(port) && port > 0 && port < 65536 ? { port } : {}),
    ...(password ? { password: new Secret(password) } : {}),
  };
}

export class RconControl implements CommandBackend {
  constructor(private readonly config: ControlConfig) {}

  async target(server: ServerRef): Promise<RconTarget> {
    const own = this.config.servers.get(server.uuid)?.rcon ?? {};
    const props = await fromServerProperties(server.dir);
    const node = this.config.rcon;
    const host = own.host ?? node.host ?? '127.0.0.1';
    const port = own.port ?? props.port ?? node.port ?? 25575;
    const password = own.password ?? props.password ?? node.password;
    if (!password) throw new ControlError('no RCON password is configured for this server (control.servers.<uuid>.rcon.password or rcon.password in server.properties)');
    return { host, port, password: password.reveal(), timeoutMs: node.timeoutMs };
  }

  async send(server: ServerRef, command: string, opts: CommandOptions): Promise<string> {
    const target = await this.target(server);
    target.timeoutMs = Math.min(target.timeoutMs, opts.timeoutMs);
    let session: RconSession | null = null;
    try {
      session = await RconSession.connect(target);
      const reply = await session.command(command);
      if (opts.expect && !opts.expect.test(reply)) throw new ControlError(`the game did not confirm "${command}" (RCON reply: ${JSON.stringify(reply.slice(0, 120))})`);
      return reply;
    } catch (err) {
      if (err instanceof RconError) throw new ControlError(err.message, err.reason === 'refused');
      throw err;
    } finally {
      session?.close();
    }
  }
}
