/**
 * `backwing admin destination …`: backup destinations straight against the panel database
 * (docs/destinations.md). Same rules as the application API (DestinationsService).
 */
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { CliError } from '../core/cli-error.ts';
import type { PanelContext } from '../panel/context.ts';
import type { DestinationInput, PublicDestination } from '../panel/services/destinations.service.ts';

interface CommonOptions {
  json?: boolean;
  data?: string;
  config?: string;
}

export interface AdminHelpers {
  withCommonOptions(cmd: Command): Command;
  withContext<T>(what: string, opts: CommonOptions, fn: (ctx: PanelContext) => Promise<T>): Promise<T>;
  print(opts: CommonOptions, json: Record<string, unknown>, text: string): void;
}

interface DestinationFlags extends CommonOptions {
  name?: string;
  kind?: string;
  endpoint?: string;
  region?: string;
  bucket?: string;
  prefix?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  secretStdin?: boolean;
  pathStyle?: boolean;
  storageClass?: string;
  partSize?: string;
  default?: boolean;
  copyTo?: string;
  skipTest?: boolean;
  repository?: string;
}

function line(d: PublicDestination): string {
  const where = d.kind === 's3' ? `${d.endpoint ?? 'aws'} bucket ${d.bucket}${d.prefix ? ` prefix ${d.prefix}` : ''}`
    : d.kind === 'restic' ? `restic repository ${d.repository}` : 'on each node';
  return `${d.name}\t${d.kind}\t${where}${d.is_default ? '\tdefault' : ''}`;
}

function withFields(cmd: Command): Command {
  return cmd
    .option('--endpoint <url>', 'S3 endpoint (empty: AWS)')
    .option('--region <region>', 'S3 region (default us-east-1)')
    .option('--bucket <bucket>', 'S3 bucket (required for s3)')
    .option('--prefix <prefix>', 'key prefix, e.g. eu/')
    .option('--access-key-id <id>', 'S3 access key id')
    .option('--secret-access-key <secret>', 'S3 secret (sealed with APP_KEY; prefer --secret-stdin)')
    .option('--secret-stdin', 'read the S3 secret from standard input (keeps it out of `ps`)')
    .option('--path-style', 'path-style addressing (most S3-compatible servers)')
    .option('--storage-class <class>', 'S3 storage class of new archives')
    .option('--part-size <bytes>', 'first multipart part size (5 MiB..5 GiB; parts grow from it)')
    .option('--default', 'make it the default destination')
    .option('--copy-to <destination>', 'copy each completed backup to this destination (name, uuid or id; "" = none)')
    .option('--skip-test', 'save without testing the connection')
    .option('--repository <repo>', 'restic: an absolute path on the node or s3:https://host/bucket[/prefix] (keys: --access-key-id, --secret-stdin, --region)');
}

async function inputOf(ctx: PanelContext, what: string, o: DestinationFlags): Promise<DestinationInput> {
  if (o.secretAccessKey !== undefined && o.secretStdin) throw new CliError(`${what}: give --secret-access-key or --secret-stdin, not both`);
  if (o.partSize !== undefined && !/^\d+$/.test(o.partSize)) throw new CliError(`${what}: --part-size must be a number of bytes, got "${o.partSize}"`);
  const copyTo = o.copyTo === undefined ? undefined : o.copyTo === '' ? null : (await ctx.services.destinations.find(o.copyTo)).id;
  return {
    name: o.name, kind: o.kind, endpoint: o.endpoint, region: o.region, bucket: o.bucket, prefix: o.prefix, accessKeyId: o.accessKeyId,
    secretAccessKey: o.secretStdin ? readFileSync(0, 'utf8').replace(/\r?\n$/, '') : o.secretAccessKey,
    pathStyle: o.pathStyle, storageClass: o.storageClass, partSize: o.partSize === undefined ? undefined : Number(o.partSize),
    isDefault: o.default, copyToId: copyTo, skipTest: o.skipTest, repository: o.repository,
  };
}

export function registerDestinationCommands(admin: Command, h: AdminHelpers): void {
  const dest = admin.command('destination').description('Backup destinations: local on each node, S3-compatible buckets, or restic repositories (docs/destinations.md, docs/restic.md)');

  h.withCommonOptions(dest.command('list'))
    .description('List destinations')
    .action(async (opts: CommonOptions) => {
      await h.withContext('destination list', opts, async (ctx) => {
        const rows = await ctx.services.destinations.list();
        h.print(opts, { destinations: rows }, rows.length === 0 ? 'no destinations' : rows.map(line).join('\n'));
      });
    });

  withFields(h.withCommonOptions(dest.command('create')))
    .description('Create a destination; an S3 one is tested first (S3\'s error code is printed when it refuses)')
    .requiredOption('--name <name>', 'unique name')
    .requiredOption('--kind <kind>', 'local, s3 or restic')
    .action(async (opts: DestinationFlags) => {
      await h.withContext('destination create', opts, async (ctx) => {
        const d = await ctx.services.destinations.create(await inputOf(ctx, 'destination create', opts));
        h.print(opts, { destination: d }, `created destination ${line(d)}`);
      });
    });

  withFields(h.withCommonOptions(dest.command('update <destination>')))
    .description('Change a destination (name, uuid or id); an S3 one is tested again')
    .option('--name <name>', 'new name')
    .option('--kind <kind>', 'local, s3 or restic')
    .action(async (key: string, opts: DestinationFlags) => {
      await h.withContext('destination update', opts, async (ctx) => {
        const d = await ctx.services.destinations.update(key, await inputOf(ctx, 'destination update', opts));
        h.print(opts, { destination: d }, `updated destination ${line(d)}`);
      });
    });

  h.withCommonOptions(dest.command('delete <destination>'))
    .description('Delete a destination (refused while it is the default, assigned, or holds backups)')
    .action(async (key: string, opts: CommonOptions) => {
      await h.withContext('destination delete', opts, async (ctx) => {
        await ctx.services.destinations.delete(key);
        h.print(opts, { deleted: key }, `deleted destination ${key}`);
      });
    });

  h.withCommonOptions(dest.command('test <destination>'))
    .description('List, write and delete a probe object (no retries); exits 1 when S3 refuses')
    .action(async (key: string, opts: CommonOptions) => {
      await h.withContext('destination test', opts, async (ctx) => {
        const r = await ctx.services.destinations.test(key);
        if (!r.ok && !opts.json) throw new CliError(`destination test: ${r.message}`);
        h.print(opts, { ...r }, r.message);
        if (!r.ok) process.exitCode = 1;
      });
    });

  h.withCommonOptions(dest.command('assign <destination>'))
    .description('Send a node\'s or a server\'s new backups to a destination ("default" for a node = the default; "node" for a server = its node\'s)')
    .option('--node <node>', 'node name or uuid')
    .option('--server <server>', 'server identifier or uuid')
    .action(async (key: string, opts: CommonOptions & { node?: string; server?: string }) => {
      if ((opts.node === undefined) === (opts.server === undefined)) throw new CliError('destination assign: give exactly one of --node or --server');
      await h.withContext('destination assign', opts, async (ctx) => {
        if (opts.node !== undefined) {
          const n = await ctx.services.nodes.find(opts.node);
          if (!n) throw new CliError(`destination assign: no node with uuid or name "${opts.node}"`);
          await ctx.services.destinations.assignNode(n.id, key === 'default' ? null : key);
          h.print(opts, { node: n.uuid, destination: key }, `node ${n.name} now backs up to ${key}`);
        } else {
          const s = await ctx.services.servers.find(opts.server!);
          if (!s) throw new CliError(`destination assign: no server with identifier or uuid "${opts.server}"`);
          await ctx.services.destinations.assignServer(s.id, key === 'node' ? null : key);
          h.print(opts, { server: s.uuid, destination: key }, `server ${s.name} now backs up to ${key === 'node' ? "its node's destination" : key}`);
        }
      });
    });
}
