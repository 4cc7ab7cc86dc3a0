/**
 * `backwing admin ...`: provisioning straight against the panel database (no running panel
 * needed). Every command prints one JSON object with --json, so scripts can rely on the output,
 * and fails with one line and a non-zero exit.
 */
import { writeFileSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { errorMessage, isAppError } from '../core/app-error.ts';
import { shortBytes } from '../core/bytes.ts';
import { CliError } from '../core/cli-error.ts';
import { resolvePanelConfig, type PanelConfigOptions } from './panel.command.ts';
import type { PanelContext } from '../panel/context.ts';
import { daemonListenFromUrl } from '../panel/http/application/node-configuration.ts';
import { registerDestinationCommands } from './admin-destination.command.ts';

interface CommonOptions extends PanelConfigOptions {
  json?: boolean;
}

function withCommonOptions(cmd: Command): Command {
  return cmd
    .option('--data <dir>', 'use the SQLite database DIR/panel.sqlite (as `backwing up --data DIR`)')
    .option('--config <envfile>', 'read DATABASE_URL, APP_URL, ... from a KEY=VALUE file')
    .option('--json', 'print one JSON object instead of text');
}

/** Opens the context, runs `fn`, always closes; AppErrors become one-line CLI errors. */
async function withContext<T>(what: string, opts: CommonOptions, fn: (ctx: PanelContext) => Promise<T>): Promise<T> {
  const config = await resolvePanelConfig({ config: opts.config, data: opts.data });
  const { openSecretBox } = await import('../panel/app-key.ts');
  // A missing APP_KEY is a configuration error, not an unreachable database.
  try {
    openSecretBox(config);
  } catch (err) {
    throw new CliError(`${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const { openPanelContext } = await import('../panel/context.ts');
  const { createDaemonClient } = await import('../panel/daemon-client/daemon-client.ts');
  let ctx: PanelContext;
  try {
    ctx = await openPanelContext(config, { daemonClient: createDaemonClient({ timeoutMs: 10_000 }) });
  } catch (err) {
    throw new CliError(`${what}: cannot open the panel database (${redactUrl(config.databaseUrl)}): ${err instanceof Error ? err.message : String(err)}`);
  }
  try {
    return await fn(ctx);
  } catch (err) {
    if (err instanceof CliError) throw err;
    if (isAppError(err)) throw new CliError(`${what}: ${err.message}`);
    throw err;
  } finally {
    await ctx.close();
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

function print(opts: CommonOptions, json: Record<string, unknown>, text: string): void {
  process.stdout.write(opts.json ? `${JSON.stringify(json)}\n` : `${text}\n`);
}

async function readPassword(opts: { password?: string; passwordStdin?: boolean }, what = 'user create'): Promise<string> {
  if (opts.password !== undefined && opts.passwordStdin) throw new CliError(`${what}: give --password or --password-stdin, not both`);
  if (opts.passwordStdin) return readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  if (opts.password === undefined) throw new CliError(`${what}: --password <password> (or --password-stdin) is required`);
  return opts.password;
}


interface PatternOptions {
  file?: string;
  pattern?: string[];
  clear?: boolean;
}

/** --file, --pattern and --clear: where a command's ignore patterns come from (read by patternsFrom). */
function withPatternOptions(cmd: Command, clears: string): Command {
  return cmd
    .option('--file <path>', 'read the patterns from a file (one per line)')
    .option('--pattern <pattern...>', 'patterns given on the command line')
    .option('--clear', `remove ${clears}`);
}

/** Ignore patterns from --file, --pattern or --clear (null); undefined when none is given and none is required. */
function patternsFrom(what: string, opts: PatternOptions, required: boolean): string | null | undefined {
  const given = [opts.file !== undefined, opts.pattern !== undefined, opts.clear === true].filter(Boolean).length;
  if (given === 0 && !required) return undefined;
  if (given !== 1) throw new CliError(`${what}: give exactly one of --file, --pattern or --clear`);
  if (opts.file !== undefined) {
    try {
      return readFileSync(opts.file, 'utf8');
    } catch (err) {
      throw new CliError(`${what}: cannot read ${opts.file}: ${errorMessage(err)}`);
    }
  }
  return opts.pattern ? opts.pattern.join('\n') : null;
}

export function registerAdminCommands(program: Command): void {
  const admin = withCommonOptions(program.command('admin').description('Provision users, API keys, nodes and servers in the panel database'));
  // `backwing admin --data D user create ...` works as well as `... user create --data D`.
  admin.hook('preAction', (_admin, leaf) => {
    for (const key of ['data', 'config', 'json']) {
      if (leaf.getOptionValue(key) !== undefined) continue;
      for (let c = leaf.parent; c; c = c.parent) {
        const v: unknown = c.getOptionValue(key);
        if (v !== undefined) {
          leaf.setOptionValue(key, v);
          break;
        }
      }
    }
  });

  // ---- users ----
  const user = admin.command('user').description('Panel users');
  withCommonOptions(user.command('create'))
    .description('Create a user')
    .requiredOption('--email <email>', 'email address (login name)')
    .option('--password <password>', 'password (at least 8 characters)')
    .option('--password-stdin', 'read the password from standard input (keeps it out of `ps`)')
    .option('--username <name>', 'username (default: derived from the email)')
    .option('--admin', 'make the user a root admin (may use application keys and see every server)')
    .action(async (opts: CommonOptions & { email: string; password?: string; passwordStdin?: boolean; username?: string; admin?: boolean }) => {
      const password = await readPassword(opts);
      await withContext('user create', opts, async (ctx) => {
        const u = await ctx.services.users.create({ email: opts.email, password, username: opts.username, rootAdmin: opts.admin === true });
        print(opts, { id: u.id, uuid: u.uuid, email: u.email, username: u.username, root_admin: u.rootAdmin },
          `created user ${u.email} (uuid ${u.uuid}, username ${u.username}${u.rootAdmin ? ', root admin' : ''})`);
      });
    });

  withCommonOptions(user.command('set-password'))
    .description('Set a user\'s password (e.g. for an account a subuser invitation created)')
    .requiredOption('--email <email>', 'the user')
    .option('--password <password>', 'new password (at least 8 characters)')
    .option('--password-stdin', 'read the password from standard input')
    .action(async (opts: CommonOptions & { email: string; password?: string; passwordStdin?: boolean }) => {
      const password = await readPassword(opts, 'user set-password');
      await withContext('user set-password', opts, async (ctx) => {
        const u = await ctx.services.users.findByEmail(opts.email.toLowerCase());
        if (!u) throw new CliError(`user set-password: no user with email ${opts.email}`);
        await ctx.services.users.setPassword(u.id, password);
        print(opts, { id: u.id, uuid: u.uuid, email: u.email, password_set: true }, `password set for ${u.email}`);
      });
    });

  withCommonOptions(user.command('list'))
    .description('List users')
    .action(async (opts: CommonOptions) => {
      await withContext('user list', opts, async (ctx) => {
        const all = [];
        for (let page = 1; ; page++) {
          const r = await ctx.services.users.list(page, 100);
          all.push(...r.users);
          if (r.users.length < 100) break;
        }
        const rows = all.map((u) => ({ id: u.id, uuid: u.uuid, email: u.email, username: u.username, root_admin: u.rootAdmin }));
        print(opts, { users: rows }, rows.length === 0 ? 'no users' : rows.map((u) => `${u.email}\t${u.uuid}${u.root_admin ? '\tadmin' : ''}`).join('\n'));
      });
    });

  // ---- API keys ----
  const key = admin.command('key').description('API keys (create) and the panel\'s APP_KEY (generate, rotate)');
  key.command('generate')
    .description('Print a new APP_KEY ("base64:" + 32 random bytes) for the panel\'s environment; nothing is stored')
    .option('--json', 'print one JSON object instead of text')
    .action(async (opts: { json?: boolean }) => {
      const { generateAppKey } = await import('../core/secret-box.ts');
      const k = generateAppKey();
      print(opts, { app_key: k }, k);
    });
  withCommonOptions(key.command('rotate'))
    .description('Re-seal every stored secret under APP_KEY; run with the new APP_KEY and the old one in APP_PREVIOUS_KEYS')
    .action(async (opts: CommonOptions) => {
      await withContext('key rotate', opts, async (ctx) => {
        const { KeyRotationService } = await import('../panel/services/key-rotation.service.ts');
        const r = await new KeyRotationService(ctx.deps).rotate();
        print(opts, { resealed: r.resealed, current: r.current, columns: r.columns },
          `re-sealed ${r.resealed} secret(s) under APP_KEY (${r.current} already were); keys in APP_PREVIOUS_KEYS are no longer needed`);
      });
    });
  withCommonOptions(key.command('create'))
    .description('Create an API key for a user; the key is printed once and only its hash is stored')
    .requiredOption('--email <email>', 'the user who owns the key')
    .option('--application', 'an application key (ptla_, provisioning API; root admins only) instead of a client key (ptlc_)')
    .option('--memo <text>', 'description stored with the key', '')
    .action(async (opts: CommonOptions & { email: string; application?: boolean; memo: string }) => {
      await withContext('key create', opts, async (ctx) => {
        const u = await ctx.services.users.findByEmail(opts.email.toLowerCase());
        if (!u) throw new CliError(`key create: no user with email ${opts.email}`);
        if (opts.application && !u.rootAdmin) throw new CliError(`key create: ${u.email} is not a root admin; application keys are for root admins only`);
        const k = await ctx.services.apiKeys.create(u.id, { type: opts.application ? 'application' : 'client', memo: opts.memo });
        print(opts, { key: k.key, identifier: k.identifier, type: k.type, email: u.email, memo: k.memo },
          `${k.type} API key for ${u.email} (shown once, store it now):\n${k.key}`);
      });
    });

  // ---- nodes ----
  const node = admin.command('node').description('Nodes (machines running a backwing daemon)');
  withCommonOptions(node.command('create'))
    .description('Register a node and print its daemon token and a ready daemon config (YAML)')
    .requiredOption('--name <name>', 'node name (unique, usable instead of the uuid)')
    .requiredOption('--url <daemon-url>', 'how the panel reaches the daemon, e.g. http://10.0.0.5:8080')
    .option('--data-dir <dir>', 'daemon config system.data: where server files live')
    .option('--backup-dir <dir>', 'daemon config system.backup_directory: where local backups are written')
    .option('--root-dir <dir>', 'daemon config system.root_directory: daemon state')
    .option('--panel-url <url>', 'daemon config remote: how the daemon reaches the panel (default APP_URL)')
    .option('--write-config <file>', 'also write the daemon config to FILE (mode 0600)')
    .action(async (opts: CommonOptions & { name: string; url: string; dataDir?: string; backupDir?: string; rootDir?: string; panelUrl?: string; writeConfig?: string }) => {
      const { renderDaemonConfig } = await import('../daemon/config.ts');
      await withContext('node create', opts, async (ctx) => {
        if (await ctx.services.nodes.find(opts.name)) throw new CliError(`node create: a node named "${opts.name}" already exists`);
        const n = await ctx.services.nodes.create({ name: opts.name, url: opts.url });
        const listen = daemonListenFromUrl(n.url);
        const yaml = renderDaemonConfig({
          uuid: n.uuid,
          tokenId: n.tokenId,
          token: n.token,
          remote: (opts.panelUrl ?? ctx.config.appUrl).replace(/\/+$/, ''),
          apiHost: listen.host,
          apiPort: listen.port,
          dataDirectory: opts.dataDir ? resolve(opts.dataDir) : undefined,
          backupDirectory: opts.backupDir ? resolve(opts.backupDir) : undefined,
          rootDirectory: opts.rootDir ? resolve(opts.rootDir) : undefined,
        });
        if (opts.writeConfig) writeFileSync(resolve(opts.writeConfig), yaml, { mode: 0o600 });
        print(opts, { id: n.id, uuid: n.uuid, name: n.name, url: n.url, token_id: n.tokenId, token: n.token, daemon_config: yaml, config_file: opts.writeConfig ? resolve(opts.writeConfig) : null },
          `created node ${n.name} (uuid ${n.uuid}) at ${n.url}\ntoken_id: ${n.tokenId}\ntoken: ${n.token}\n`
          + (opts.writeConfig ? `daemon config written to ${resolve(opts.writeConfig)}\n` : '')
          + `--- daemon config (config.yml) ---\n${yaml}`);
      });
    });

  withPatternOptions(withCommonOptions(node.command('ignore')), 'the node defaults')
    .description("Set the patterns every backup on a node leaves out (merged below each server's .pteroignore and the request's own)")
    .argument('<node>', 'node uuid or name')
    .action(async (ref: string, opts: CommonOptions & PatternOptions) => {
      const text = patternsFrom('node ignore', opts, true)!;
      await withContext('node ignore', opts, async (ctx) => {
        const n = await ctx.services.nodes.find(ref);
        if (!n) throw new CliError(`node ignore: no node with uuid or name "${ref}"`);
        const updated = await ctx.services.nodes.setBackupIgnore(n.id, text);
        const lines = (updated.backupIgnore ?? '').split('\n').filter((l) => l.trim() !== '');
        print(opts, { node: updated.uuid, backup_ignore: updated.backupIgnore },
          lines.length === 0 ? `node ${updated.name}: no default ignore patterns` : `node ${updated.name}: every backup leaves out\n${lines.map((l) => `  ${l}`).join('\n')}`);
      });
    });

  const egg = admin.command('egg').description('Game types (eggs) and the ignore patterns every backup of their servers gets');
  withPatternOptions(withCommonOptions(egg.command('set')), 'the default ignore patterns')
    .description("Create or change a game type (egg: its id in the upstream panel) and its default ignore patterns (merged above the node's, below each server's .pteroignore and the request's own)")
    .argument('<id>', 'egg id')
    .option('--name <name>', 'name (required for a new egg)')
    .option('--nest <id>', 'nest id')
    .action(async (id: string, opts: CommonOptions & PatternOptions & { name?: string; nest?: string }) => {
      if (!/^\d+$/.test(id) || Number(id) <= 0) throw new CliError(`egg set: the egg id must be a positive whole number, got "${id}"`);
      if (opts.nest !== undefined && !/^\d+$/.test(opts.nest)) throw new CliError(`egg set: --nest must be a whole number, got "${opts.nest}"`);
      const text = patternsFrom('egg set', opts, false);
      await withContext('egg set', opts, async (ctx) => {
        const e = await ctx.services.eggs.set(Number(id), {
          ...(opts.name !== undefined ? { name: opts.name } : {}),
          ...(opts.nest !== undefined ? { nest: Number(opts.nest) } : {}),
          ...(text !== undefined ? { backupIgnore: text } : {}),
        });
        const lines = (e.backupIgnore ?? '').split('\n').filter((l) => l.trim() !== '');
        print(opts, { id: e.id, nest: e.nest, name: e.name, backup_ignore: e.backupIgnore },
          `egg ${e.id} (${e.name}, nest ${e.nest}): ${lines.length === 0 ? 'no default ignore patterns' : `every backup leaves out\n${lines.map((l) => `  ${l}`).join('\n')}`}`);
      });
    });
  withCommonOptions(egg.command('list'))
    .description('List game types (eggs)')
    .action(async (opts: CommonOptions) => {
      await withContext('egg list', opts, async (ctx) => {
        const rows = (await ctx.services.eggs.list()).map((e) => ({ id: e.id, nest: e.nest, name: e.name, backup_ignore: e.backupIgnore }));
        print(opts, { eggs: rows }, rows.length === 0 ? 'no eggs' : rows.map((e) => `${e.id}\t${e.name}\tnest ${e.nest}\t${(e.backup_ignore ?? '').split('\n').filter((l) => l.trim() !== '').length} ignore patterns`).join('\n'));
      });
    });

  withCommonOptions(node.command('list'))
    .description('List nodes')
    .action(async (opts: CommonOptions) => {
      await withContext('node list', opts, async (ctx) => {
        const rows = (await ctx.services.nodes.list()).map((n) => ({ id: n.id, uuid: n.uuid, name: n.name, url: n.url, maintenance: n.maintenance }));
        print(opts, { nodes: rows }, rows.length === 0 ? 'no nodes' : rows.map((n) => `${n.name}\t${n.uuid}\t${n.url}`).join('\n'));
      });
    });

  withCommonOptions(node.command('restic'))
    .description("Show or set the node's restic repository (docs/restic.md); the password is generated by the panel and never shown")
    .argument('<node>', 'node uuid or name')
    .option('--repository <path-or-url>', 'an absolute path on the node, or s3:https://host/bucket[/prefix]')
    .option('--s3-access-key-id <id>', 'S3 access key for an s3: repository')
    .option('--s3-secret-access-key-env <name>', 'name of the environment variable holding the S3 secret key (kept off the command line)')
    .option('--s3-region <region>', 'S3 region')
    .option('--enable', 'new backups on this node use restic')
    .option('--disable', 'new backups on this node use the default driver again (restic backups stay restorable)')
    .action(async (nodeKey: string, opts: CommonOptions & { repository?: string; s3AccessKeyId?: string; s3SecretAccessKeyEnv?: string; s3Region?: string; enable?: boolean; disable?: boolean }) => {
      await withContext('node restic', opts, async (ctx) => {
        const n = await ctx.services.nodes.find(nodeKey);
        if (!n) throw new CliError(`node restic: no node with uuid or name "${nodeKey}"`);
        if (opts.enable && opts.disable) throw new CliError('node restic: --enable and --disable exclude each other');
        const changes = opts.repository !== undefined || opts.s3AccessKeyId !== undefined || opts.enable || opts.disable;
        let view = await ctx.services.restic.view(n.id);
        if (changes) {
          let s3;
          if (opts.s3AccessKeyId !== undefined) {
            const secret = opts.s3SecretAccessKeyEnv ? process.env[opts.s3SecretAccessKeyEnv] : undefined;
            if (!secret) throw new CliError('node restic: --s3-access-key-id needs --s3-secret-access-key-env naming a set environment variable');
            s3 = { access_key_id: opts.s3AccessKeyId, secret_access_key: secret, region: opts.s3Region ?? null };
          }
          view = await ctx.services.restic.configure(n.id, { repository: opts.repository, ...(s3 ? { s3 } : {}), ...(opts.enable ? { enabled: true } : opts.disable ? { enabled: false } : {}) });
        }
        if (!view) throw new CliError(`node restic: node "${n.name}" has no restic repository; set one with --repository`);
        const check = view.last_check_at === null ? 'never checked' : `last check ${view.last_check_at}: ${view.last_check_ok ? 'ok' : `FAILED (${view.last_check_message ?? 'no reason'})`}`;
        print(opts, { node: n.uuid, ...view }, `${n.name}: restic ${view.enabled ? 'enabled' : 'disabled'}, repository ${view.repository}${view.s3_access_key_id ? ` (S3 key ${view.s3_access_key_id})` : ''}; ${view.forgotten_since_prune} forgotten since the last prune; ${check}`);
      });
    });

  // ---- servers ----
  const server = admin.command('server').description('Game servers');
  withCommonOptions(server.command('create'))
    .description("Create a server on a node and tell the node's daemon about it")
    .requiredOption('--name <name>', 'server name')
    .requiredOption('--owner <email>', "owner's email (or user uuid)")
    .requiredOption('--node <node>', 'node uuid or name')
    .option('--backup-limit <n>', 'how many backups the server may keep (0 disables backups)', '0')
    .option('--backup-bytes-limit <bytes>', "storage quota for the server's backups in bytes (0 = none)", '0')
    .action(async (opts: CommonOptions & { name: string; owner: string; node: string; backupLimit: string; backupBytesLimit: string }) => {
      if (!/^\d+$/.test(opts.backupLimit)) throw new CliError(`server create: --backup-limit must be a whole number, got "${opts.backupLimit}"`);
      const bytesLimit = wholeBytes('server create', opts.backupBytesLimit);
      await withContext('server create', opts, async (ctx) => {
        const owner = (await ctx.services.users.findByEmail(opts.owner.toLowerCase())) ?? (await ctx.services.users.findByUuid(opts.owner));
        if (!owner) throw new CliError(`server create: no user with email or uuid "${opts.owner}"`);
        const n = await ctx.services.nodes.find(opts.node);
        if (!n) throw new CliError(`server create: no node with uuid or name "${opts.node}"`);
        let s;
        try {
          s = await ctx.services.servers.create({ name: opts.name, ownerId: owner.id, nodeId: n.id, backupLimit: Number(opts.backupLimit), backupBytesLimit: bytesLimit });
        } catch (err) {
          if (isAppError(err) && err.code === 'DaemonConnectionException') {
            throw new CliError(`server create: the daemon of node "${n.name}" (${n.url}) did not accept the server, nothing was created: ${err.message}`);
          }
          throw err;
        }
        print(opts, { id: s.id, uuid: s.uuid, identifier: s.identifier, name: s.name, owner: owner.email, node: n.uuid, backup_limit: s.backupLimit, backup_bytes_limit: s.backupBytesLimit },
          `created server ${s.name} (identifier ${s.identifier}, uuid ${s.uuid}) on node ${n.name}, owner ${owner.email}, backup limit ${s.backupLimit}${s.backupBytesLimit ? `, storage quota ${shortBytes(s.backupBytesLimit)}` : ''}`);
      });
    });

  withCommonOptions(server.command('limits'))
    .description("Change a server's backup limits: how many, and how many bytes (the storage quota)")
    .argument('<server>', 'server identifier or uuid')
    .option('--backup-limit <n>', 'how many backups the server may keep (0 disables backups)')
    .option('--backup-bytes-limit <bytes>', "storage quota for the server's backups in bytes (0 = none)")
    .action(async (ref: string, opts: CommonOptions & { backupLimit?: string; backupBytesLimit?: string }) => {
      if (opts.backupLimit !== undefined && !/^\d+$/.test(opts.backupLimit)) throw new CliError(`server limits: --backup-limit must be a whole number, got "${opts.backupLimit}"`);
      const bytesLimit = opts.backupBytesLimit === undefined ? undefined : wholeBytes('server limits', opts.backupBytesLimit);
      await withContext('server limits', opts, async (ctx) => {
        const found = await ctx.services.servers.find(ref);
        if (!found) throw new CliError(`server limits: no server with identifier or uuid "${ref}"`);
        const s = await ctx.services.servers.update(found.id, {
          ...(opts.backupLimit !== undefined ? { backupLimit: Number(opts.backupLimit) } : {}),
          ...(bytesLimit !== undefined ? { backupBytesLimit: bytesLimit } : {}),
        });
        print(opts, { identifier: s.identifier, backup_limit: s.backupLimit, backup_bytes_limit: s.backupBytesLimit },
          `server ${s.identifier}: backup limit ${s.backupLimit}, storage quota ${s.backupBytesLimit ? `${shortBytes(s.backupBytesLimit)} (${s.backupBytesLimit} bytes)` : 'none'}`);
      });
    });

  withCommonOptions(server.command('egg'))
    .description("Set a server's game type (egg); its backups get the egg's default ignore patterns")
    .argument('<server>', 'server identifier or uuid')
    .argument('<egg>', 'egg id (0 = none)')
    .action(async (ref: string, eggId: string, opts: CommonOptions) => {
      if (!/^\d+$/.test(eggId)) throw new CliError(`server egg: the egg id must be a whole number, got "${eggId}"`);
      await withContext('server egg', opts, async (ctx) => {
        const found = await ctx.services.servers.find(ref);
        if (!found) throw new CliError(`server egg: no server with identifier or uuid "${ref}"`);
        const s = await ctx.services.servers.update(found.id, { eggId: Number(eggId) });
        print(opts, { identifier: s.identifier, egg: s.eggId }, `server ${s.identifier}: egg ${s.eggId ?? 'none'}`);
      });
    });

  withCommonOptions(server.command('list'))
    .description('List servers')
    .action(async (opts: CommonOptions) => {
      await withContext('server list', opts, async (ctx) => {
        const all = [];
        for (let page = 1; ; page++) {
          const r = await ctx.services.servers.list({ kind: 'all' }, page, 100);
          all.push(...r.rows);
          if (r.rows.length < 100) break;
        }
        const rows = all.map((s) => ({ id: s.id, uuid: s.uuid, identifier: s.identifier, name: s.name, owner_id: s.ownerId, node_id: s.nodeId, status: s.status, backup_limit: s.backupLimit, backup_bytes_limit: s.backupBytesLimit }));
        print(opts, { servers: rows }, rows.length === 0 ? 'no servers' : rows.map((s) => `${s.identifier}\t${s.name}\t${s.uuid}\tbackups ${s.backup_limit}`).join('\n'));
      });
    });

  registerDestinationCommands(admin, { withCommonOptions, withContext, print });
}

/** A byte count from the command line: digits only, 0 = none. */
function wholeBytes(command: string, v: string): number | null {
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new CliError(`${command}: --backup-bytes-limit must be a whole number of bytes, got "${v}"`);
  return Number(v) === 0 ? null : Number(v);
}
