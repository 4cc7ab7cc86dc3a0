/**
 * Server control and save hooks (backwing extensions): the shapes the panel, the daemon and the UI
 * share. An upstream panel never sends a save hook; the daemon then uses its per-server default.
 */
import { Type, type Static } from 'typebox';

export const SAVE_HOOK_PRESETS = ['none', 'minecraft-java', 'minecraft-bedrock', 'source', 'custom'] as const;
export type SaveHookPreset = (typeof SAVE_HOOK_PRESETS)[number];

export const CONTROL_KINDS = ['none', 'wings', 'rcon', 'exec'] as const;
export type ControlKind = (typeof CONTROL_KINDS)[number];

/** Limits on an owner's custom commands: console commands of their own server, a handful, short. */
export const CUSTOM_HOOK_LIMITS = { commands: 5, length: 200 } as const;

export const SaveHook = Type.Object({
  preset: Type.String({ description: `One of ${SAVE_HOOK_PRESETS.join(', ')}` }),
  before: Type.Optional(Type.Array(Type.String(), { description: 'custom only: console commands sent before the backup' })),
  after: Type.Optional(Type.Array(Type.String(), { description: 'custom only: console commands sent after it, whatever happened' })),
});
export type SaveHook = Static<typeof SaveHook>;

export const ChangedFiles = Type.Object({
  count: Type.Integer({ minimum: 0 }),
  names: Type.Array(Type.String(), { description: 'The first (at most 20) names, relative to the server root' }),
  inconsistent: Type.Optional(Type.Integer({ minimum: 0, description: 'Of those, how many may still be inconsistent in the archive (changed again on the re-read, or too large to re-read)' })),
});
export type ChangedFiles = Static<typeof ChangedFiles>;

/** What a node can do for its servers; `GET /api/system` carries it as `control` (backwing). */
export const NodeControlInfo = Type.Object({
  kind: Type.String({ description: `Console commands through: ${CONTROL_KINDS.join(', ')}` }),
  power: Type.String({ description: 'Stop/start through: none, wings or exec' }),
  /** True when the daemon stops the server before a restore and starts it again afterwards. */
  restore_stops_server: Type.Boolean(),
  save_hooks: Type.Array(Type.String(), { description: 'Presets the node admin allows' }),
  default_save_hook: Type.String(),
});
export type NodeControlInfo = Static<typeof NodeControlInfo>;

export function isSaveHookPreset(v: unknown): v is SaveHookPreset {
  return typeof v === 'string' && (SAVE_HOOK_PRESETS as readonly string[]).includes(v);
}

/**
 * The one validation of a save hook, used by the panel (client API) and the daemon (backup
 * request). Returns a normalised hook or a one-line problem. Custom lists only exist for `custom`.
 */
export function checkSaveHook(raw: unknown, allowed: readonly string[]): { hook: SaveHook } | { problem: string } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { problem: 'The save hook must be an object with a preset.' };
  const r = raw as Record<string, unknown>;
  if (!isSaveHookPreset(r.preset)) return { problem: `The save hook preset must be one of: ${SAVE_HOOK_PRESETS.join(', ')}.` };
  if (!allowed.includes(r.preset)) return { problem: `The save hook "${r.preset}" is not allowed on this node (allowed: ${allowed.join(', ')}).` };
  if (r.preset !== 'custom') {
    if ((Array.isArray(r.before) && r.before.length > 0) || (Array.isArray(r.after) && r.after.length > 0)) {
      return { problem: 'Before and after commands are only accepted with the custom preset.' };
    }
    return { hook: { preset: r.preset } };
  }
  const lists: Record<'before' | 'after', string[]> = { before: [], after: [] };
  for (const side of ['before', 'after'] as const) {
    const v = r[side] ?? [];
    if (!Array.isArray(v)) return { problem: `The ${side} commands must be a list of strings.` };
    if (v.length > CUSTOM_HOOK_LIMITS.commands) return { problem: `At most ${CUSTOM_HOOK_LIMITS.commands} ${side} commands are allowed.` };
    for (const c of v) {
      if (typeof c !== 'string' || c.trim() === '') return { problem: `Each ${side} command must be a non-empty string.` };
      if (c.length > CUSTOM_HOOK_LIMITS.length) return { problem: `Each ${side} command must be at most ${CUSTOM_HOOK_LIMITS.length} characters.` };
      // One console line each: a newline would smuggle a second command past the limits.
      if (/[\u0000-\u001f\u007f]/.test(c)) return { problem: `The ${side} commands must not contain line breaks or control characters.` };
      lists[side].push(c.trim());
    }
  }
  return { hook: { preset: 'custom', before: lists.before, after: lists.after } };
}

/**
 * `GET|PUT /api/client/servers/{server}/backup-control` (backwing extension): the node's control
 * and the server's save hook. PUT takes `{ save_hook: SaveHook | null }` (null = the node default).
 */
export const BackupControlObject = Type.Object({
  object: Type.Literal('backup_control'),
  attributes: Type.Object({
    /** null when the node's daemon could not be asked just now. */
    control: Type.Union([NodeControlInfo, Type.Null()]),
    /** The owner's choice; null = the node's default applies. */
    save_hook: Type.Union([SaveHook, Type.Null()]),
    /** The preset a backup made now would use. */
    effective_save_hook: Type.String(),
    /** True: a restore stops the server, restores and starts it again. False: stop it yourself first. null: unknown. */
    restore_stops_server: Type.Union([Type.Boolean(), Type.Null()]),
  }),
});
export type BackupControlObject = Static<typeof BackupControlObject>;

export const BackupControlUpdate = Type.Object({
  save_hook: Type.Union([SaveHook, Type.Null()]),
});
export type BackupControlUpdate = Static<typeof BackupControlUpdate>;
