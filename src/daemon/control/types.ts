/**
 * Server control: one interface for reading a server's state, stopping and starting it, and
 * sending console commands. Backends do one of the two jobs (power, commands); the factory pairs
 * them as the node's admin configured (`control.type` and `control.power`).
 */
export type PowerState = 'offline' | 'starting' | 'running' | 'stopping';
export const POWER_STATES: readonly PowerState[] = ['offline', 'starting', 'running', 'stopping'];

export interface ServerRef {
  uuid: string;
  /** The server's data directory (where server.properties lives). */
  dir: string;
}

export interface CommandOptions {
  /** Whole exchange, including waiting for `expect`. */
  timeoutMs: number;
  /** Resolve only once the game's answer (reply or new console lines) matches this. */
  expect?: RegExp;
  signal?: AbortSignal;
}

export interface CommandBackend {
  /** Sends one console command; resolves with what the game answered (reply, stdout or the matching console lines). */
  send(server: ServerRef, command: string, opts: CommandOptions): Promise<string>;
}

export interface PowerBackend {
  state(server: ServerRef, signal?: AbortSignal): Promise<PowerState>;
  /** Asks for the action; may return before it has happened (Wings answers 202 first). */
  power(server: ServerRef, action: 'start' | 'stop', signal?: AbortSignal): Promise<void>;
}

/**
 * A control failure, worded for users and the log: it names what did not work and never carries
 * a password or token. `offline` marks "the game is not running" (nothing to flush).
 */
export class ControlError extends Error {
  constructor(message: string, readonly offline = false) {
    super(message);
    this.name = 'ControlError';
  }
}
