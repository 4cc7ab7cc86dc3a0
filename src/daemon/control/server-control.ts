/**
 * The node's server control, as the admin configured it: one object the backup and restore jobs
 * use, whatever sends the commands (`control.type`) and whatever stops and starts (`control.power`).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { NodeControlInfo } from '../../wire/server-control.ts';
import type { ControlConfig } from './control-config.ts';
import { ExecControl } from './exec-control.ts';
import { RconControl } from './rcon-control.ts';
import { WingsControl } from './wings-control.ts';
import { ControlError, type CommandBackend, type CommandOptions, type PowerBackend, type PowerState, type ServerRef } from './types.ts';

const STATE_POLL_MS = 500;

export class ServerControl {
  constructor(
    readonly config: ControlConfig,
    private readonly commands: CommandBackend | null,
    private readonly powerBackend: PowerBackend | null,
  ) {}

  get canCommand(): boolean {
    return this.commands !== null;
  }

  get canPower(): boolean {
    return this.powerBackend !== null;
  }

  info(): NodeControlInfo {
    return {
      kind: this.config.type,
      power: this.config.power,
      restore_stops_server: this.canPower,
      save_hooks: [...this.config.saveHooks.allowed],
      default_save_hook: this.config.saveHooks.default.preset,
    };
  }

  /** null when this node cannot tell (no power control). */
  async state(server: ServerRef, signal?: AbortSignal): Promise<PowerState | null> {
    return this.powerBackend ? this.powerBackend.state(server, signal) : null;
  }

  async command(server: ServerRef, command: string, opts: CommandOptions): Promise<string> {
    if (!this.commands) throw new ControlError('this node has no way to send console commands (control.type is none)');
    return this.commands.send(server, command, opts);
  }

  /**
   * Stops the server and waits until it is offline. Returns the state it had before, so the caller
   * can start it again only if it was up. Timeout → ControlError; the server is left as it is.
   */
  async stopAndWait(server: ServerRef, signal?: AbortSignal): Promise<PowerState> {
    const power = this.#power();
    const before = await power.state(server, signal);
    if (before === 'offline') return before;
    await power.power(server, 'stop', signal);
    await this.#waitFor(server, (s) => s === 'offline', this.config.stopTimeoutMs, 'stop', signal);
    return before;
  }

  /** Starts the server and waits until it has left `offline` (Wings answers 202 before acting). */
  async startAndWait(server: ServerRef, signal?: AbortSignal): Promise<void> {
    const power = this.#power();
    await power.power(server, 'start', signal);
    await this.#waitFor(server, (s) => s !== 'offline' && s !== 'stopping', this.config.startTimeoutMs, 'start', signal);
  }

  #power(): PowerBackend {
    if (!this.powerBackend) throw new ControlError('this node cannot stop or start servers (control.power is none)');
    return this.powerBackend;
  }

  async #waitFor(server: ServerRef, done: (s: PowerState) => boolean, timeoutMs: number, what: string, signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.#power().state(server, signal);
      if (done(s)) return;
      if (Date.now() >= deadline) throw new ControlError(`the server did not ${what} within ${Math.round(timeoutMs / 1000)} s (still ${s})`);
      await sleep(STATE_POLL_MS, undefined, signal ? { signal } : undefined);
    }
  }
}

/** Every kind of control, by name: the one place that knows which class does what. */
export function createServerControl(config: ControlConfig): ServerControl {
  const wings = config.wings ? new WingsControl(config.wings.url, config.wings.token) : null;
  const exec = config.exec ? new ExecControl(config.exec) : null;
  const commandBackends: Record<ControlConfig['type'], () => CommandBackend | null> = {
    none: () => null,
    wings: () => wings,
    rcon: () => new RconControl(config),
    exec: () => exec,
  };
  const powerBackends: Record<ControlConfig['power'], () => PowerBackend | null> = {
    none: () => null,
    wings: () => wings,
    exec: () => exec,
  };
  return new ServerControl(config, commandBackends[config.type](), powerBackends[config.power]());
}
