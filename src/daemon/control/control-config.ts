/**
 * The `control:` section of the daemon config (and Wings' `system.user`). Only the node's admin
 * writes this file: command lines, RCON passwords and the allowed save hooks never come from the
 * panel. Every problem is one line naming the key.
 */
import { Secret } from '../../core/secret.ts';
import { CONTROL_KINDS, SAVE_HOOK_PRESETS, checkSaveHook, type ControlKind, type SaveHook, type SaveHookPreset } from '../../wire/server-control.ts';
import { canonicalUuid } from '../uuid.ts';

export type PowerKind = 'none' | 'wings' | 'exec';

/** Wings' API beside us and the node token it accepts (`Bearer <token>`). */
export interface WingsApi {
  readonly url: string;
  readonly token: Secret;
}

export interface RconSettings {
  readonly host?: string;
  readonly port?: number;
  readonly password?: Secret;
}

export interface ExecSettings {
  readonly state: readonly string[] | null;
  readonly start: readonly string[] | null;
  readonly stop: readonly string[] | null;
  readonly command: readonly string[] | null;
  readonly timeoutMs: number;
}

export interface ServerControlOverrides {
  readonly rcon?: RconSettings;
  readonly saveHook?: SaveHook;
}

export interface ControlConfig {
  /** How console commands are sent. */
  readonly type: ControlKind;
  /** How the server is stopped, started and its state read. */
  readonly power: PowerKind;
  /** Wings' API beside us: filled from the config, or by `--wings-config` from Wings' own file. */
  readonly wings: WingsApi | null;
  readonly rcon: RconSettings & { readonly timeoutMs: number };
  readonly exec: ExecSettings | null;
  readonly stopTimeoutMs: number;
  readonly startTimeoutMs: number;
  readonly saveHooks: {
    readonly allowed: readonly SaveHookPreset[];
    readonly default: SaveHook;
    /** How long a save may take to be confirmed. */
    readonly timeoutMs: number;
    /** The `source` preset's command (games differ: ARK `SaveWorld`, others `save`). */
    readonly sourceCommand: string;
  };
  readonly servers: ReadonlyMap<string, ServerControlOverrides>;
}

/** The subset of the config reader this section needs (see config.ts). */
export interface KeyReader {
  fail(key: string, problem: string): never;
  raw(key: string): unknown;
  string(key: string, fallback?: string): string;
  number(key: string, fallback: number, min: number, max: number): number;
}

export const CONTROL_DEFAULTS = {
  'control.type': 'none',
  'control.rcon.host': '127.0.0.1',
  'control.rcon.timeout': 5,
  'control.exec.timeout': 30,
  'control.stop_timeout': 120,
  'control.start_timeout': 120,
  'control.save_hooks.allowed': ['none', 'minecraft-java', 'minecraft-bedrock', 'source', 'custom'] as string[],
  'control.save_hooks.default': 'none',
  'control.save_hooks.timeout': 60,
  'control.save_hooks.source_command': 'SaveWorld',
} as const;

function argv(r: KeyReader, key: string): string[] | null {
  const v = r.raw(key);
  if (v === undefined || v === null) return null;
  // A string would need a shell (or our own splitting) to become argv: refuse it rather than guess.
  if (!Array.isArray(v) || v.length === 0 || v.some((x) => typeof x !== 'string' || x === '')) r.fail(key, 'must be a list of arguments (program first), not a shell string');
  return v as string[];
}

function rconSettings(r: KeyReader, prefix: string): RconSettings {
  const out: { host?: string; port?: number; password?: Secret } = {};
  if (r.raw(`${prefix}.host`) !== undefined) out.host = r.string(`${prefix}.host`);
  if (r.raw(`${prefix}.port`) !== undefined) {
    out.port = r.number(`${prefix}.port`, 0, 1, 65535);
    if (!Number.isInteger(out.port)) r.fail(`${prefix}.port`, 'must be an integer');
  }
  if (r.raw(`${prefix}.password`) !== undefined) out.password = new Secret(r.string(`${prefix}.password`));
  return out;
}

function hookFrom(r: KeyReader, key: string, raw: unknown, allowed: readonly string[]): SaveHook {
  const value = typeof raw === 'string' ? { preset: raw } : raw;
  const checked = checkSaveHook(value, allowed);
  if ('problem' in checked) r.fail(key, `is invalid: ${checked.problem}`);
  return checked.hook;
}

function wingsSettings(r: KeyReader, besideWings: WingsApi | null): ControlConfig['wings'] {
  if (r.raw('control.wings') === undefined || r.raw('control.wings') === null) return besideWings;
  const url = r.string('control.wings.url');
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
  } catch {
    r.fail('control.wings.url', 'must be an http(s) URL');
  }
  return { url: url.replace(/\/+$/, ''), token: new Secret(r.string('control.wings.token')) };
}

/**
 * `besideWings`: Wings' API and node token when the daemon runs as a sidecar (`--wings-config`,
 * read from Wings' own config.yml); control then defaults to `wings`.
 */
export function parseControlConfig(r: KeyReader, besideWings: WingsApi | null = null): ControlConfig {
  const type = r.string('control.type', besideWings ? 'wings' : CONTROL_DEFAULTS['control.type']);
  if (!(CONTROL_KINDS as readonly string[]).includes(type)) r.fail('control.type', `must be one of ${CONTROL_KINDS.join(', ')}`);
  const kind = type as ControlKind;
  const power = r.string('control.power', kind === 'wings' || kind === 'exec' ? kind : 'none');
  if (power !== 'none' && power !== 'wings' && power !== 'exec') r.fail('control.power', 'must be none, wings or exec (RCON cannot stop or start a server)');

  const wings = wingsSettings(r, besideWings);
  if ((kind === 'wings' || power === 'wings') && !wings) r.fail('control.wings', 'is required (url and token of Wings on this node) when control uses wings');

  let exec: ExecSettings | null = null;
  if (r.raw('control.exec') !== undefined && r.raw('control.exec') !== null) {
    exec = {
      state: argv(r, 'control.exec.state'),
      start: argv(r, 'control.exec.start'),
      stop: argv(r, 'control.exec.stop'),
      command: argv(r, 'control.exec.command'),
      timeoutMs: r.number('control.exec.timeout', CONTROL_DEFAULTS['control.exec.timeout'], 1, 3600) * 1000,
    };
  }
  if (kind === 'exec' && !exec?.command) r.fail('control.exec.command', 'is required when control.type is exec');
  if (power === 'exec') {
    for (const k of ['state', 'start', 'stop'] as const) if (!exec?.[k]) r.fail(`control.exec.${k}`, 'is required when control.power is exec');
  }

  const rcon = { ...rconSettings(r, 'control.rcon'), timeoutMs: r.number('control.rcon.timeout', CONTROL_DEFAULTS['control.rcon.timeout'], 1, 300) * 1000 };

  const allowedRaw = r.raw('control.save_hooks.allowed');
  let allowed: SaveHookPreset[];
  if (allowedRaw === undefined || allowedRaw === null) {
    // Without a way to send commands, no preset but none can work.
    allowed = kind === 'none' ? ['none'] : [...CONTROL_DEFAULTS['control.save_hooks.allowed']] as SaveHookPreset[];
  } else {
    if (!Array.isArray(allowedRaw) || allowedRaw.some((p) => !(SAVE_HOOK_PRESETS as readonly unknown[]).includes(p))) {
      r.fail('control.save_hooks.allowed', `must be a list of: ${SAVE_HOOK_PRESETS.join(', ')}`);
    }
    allowed = [...new Set<SaveHookPreset>(['none', ...(allowedRaw as SaveHookPreset[])])];
    if (kind === 'none' && allowed.length > 1) r.fail('control.save_hooks.allowed', 'needs control.type (a way to send console commands) for any preset but none');
  }
  const defaultHook = hookFrom(r, 'control.save_hooks.default', r.raw('control.save_hooks.default') ?? CONTROL_DEFAULTS['control.save_hooks.default'], allowed);

  const servers = new Map<string, ServerControlOverrides>();
  const rawServers = r.raw('control.servers');
  if (rawServers !== undefined && rawServers !== null) {
    if (typeof rawServers !== 'object' || Array.isArray(rawServers)) r.fail('control.servers', 'must be a mapping of server uuid to settings');
    for (const key of Object.keys(rawServers as object)) {
      const uuid = canonicalUuid(key);
      if (!uuid) r.fail(`control.servers.${key}`, 'is not a server uuid');
      const prefix = `control.servers.${key}`;
      const hookRaw = r.raw(`${prefix}.save_hook`);
      servers.set(uuid, {
        ...(r.raw(`${prefix}.rcon`) !== undefined ? { rcon: rconSettings(r, `${prefix}.rcon`) } : {}),
        ...(hookRaw !== undefined ? { saveHook: hookFrom(r, `${prefix}.save_hook`, hookRaw, allowed) } : {}),
      });
    }
  }

  return {
    type: kind,
    power: power as PowerKind,
    wings,
    rcon,
    exec,
    stopTimeoutMs: r.number('control.stop_timeout', CONTROL_DEFAULTS['control.stop_timeout'], 1, 3600) * 1000,
    startTimeoutMs: r.number('control.start_timeout', CONTROL_DEFAULTS['control.start_timeout'], 1, 3600) * 1000,
    saveHooks: {
      allowed,
      default: defaultHook,
      timeoutMs: r.number('control.save_hooks.timeout', CONTROL_DEFAULTS['control.save_hooks.timeout'], 1, 3600) * 1000,
      sourceCommand: r.string('control.save_hooks.source_command', CONTROL_DEFAULTS['control.save_hooks.source_command']),
    },
    servers,
  };
}
