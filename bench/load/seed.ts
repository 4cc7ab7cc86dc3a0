/**
 * Seeds a panel database for the load benchmark: one owner with a client API key, one node,
 * `servers` servers with `backupsPerServer` completed backups each. Users, the key and the node go
 * through the panel's services (hashing, sealing); servers and backups are bulk-inserted in
 * batches, because a service call per row (each server creation calls a daemon) would take minutes.
 */
import { randomUUID } from 'node:crypto';
import type { PanelContext } from '../../src/panel/context.ts';

export interface Seeded {
  /** `ptlc_…` key of the owner of every server. */
  clientKey: string;
  identifiers: string[];
  nodeId: number;
}

const BATCH = 500;

function identifierOf(i: number): string {
  return `b${i.toString(16).padStart(7, '0')}`;
}

export async function seedPanel(ctx: PanelContext, opts: { servers: number; backupsPerServer: number; daemonUrl: string }): Promise<Seeded> {
  const owner = await ctx.services.users.create({ email: `load-${randomUUID().slice(0, 8)}@example.test`, password: 'load test password' });
  const { key } = await ctx.services.apiKeys.create(owner.id, { type: 'client', memo: 'load benchmark' });
  const node = await ctx.services.nodes.create({ name: `load-node-${randomUUID().slice(0, 8)}`, url: opts.daemonUrl });
  const base = Date.now() - 30 * 24 * 3600 * 1000;
  const iso = (ms: number) => new Date(ms).toISOString();
  const identifiers: string[] = [];
  const serverIds: number[] = [];
  for (let start = 0; start < opts.servers; start += BATCH) {
    const rows = [];
    for (let i = start; i < Math.min(opts.servers, start + BATCH); i++) {
      const identifier = identifierOf(i);
      identifiers.push(identifier);
      rows.push({ uuid: randomUUID(), identifier, name: `server ${i}`, owner_id: owner.id, node_id: node.id, status: null, backup_limit: 1_000_000, created_at: iso(base), updated_at: iso(base) });
    }
    const ids = await ctx.db.insertInto('servers').values(rows).returning('id').execute();
    serverIds.push(...ids.map((r) => r.id));
  }
  const backups = [];
  for (const [si, serverId] of serverIds.entries()) {
    for (let b = 0; b < opts.backupsPerServer; b++) {
      const at = base + (si * opts.backupsPerServer + b) * 1000;
      backups.push({
        server_id: serverId, uuid: randomUUID(), upload_id: null, is_successful: 1, is_locked: b === 0 ? 1 : 0, name: `backup ${b}`,
        ignored_files: '[]', disk: 'wings', checksum: `sha256:${'ab'.repeat(32)}`, bytes: 1_048_576 * (b + 1),
        completed_at: iso(at + 60_000), created_at: iso(at), updated_at: iso(at + 60_000), deleted_at: null,
      });
    }
  }
  for (let start = 0; start < backups.length; start += BATCH) {
    await ctx.db.insertInto('backups').values(backups.slice(start, start + BATCH)).execute();
  }
  return { clientKey: key, identifiers, nodeId: node.id };
}
