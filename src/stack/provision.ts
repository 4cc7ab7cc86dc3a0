/**
 * First-run setup and later-run reuse for `backwing up`: the admin user, a client API key, the
 * local node and the demo server. Every step first looks for what an earlier run made, so running
 * `up` again never duplicates anything; the only secrets the panel cannot give back (the admin
 * password and the API key, stored hashed) live in 0600 files under --data.
 */
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PanelServices } from '../panel/context.ts';
import { readTextIfExists, writeSecretFile, type DataLayout } from './data-layout.ts';
import { writeSampleFiles } from './sample-server.ts';

export const ADMIN_EMAIL = 'admin@backwing.local';
export const DEMO_SERVER_NAME = 'Demo server';
export const DEMO_BACKUP_LIMIT = 10;
const NODE_NAME = 'local';

type Services = Pick<PanelServices, 'users' | 'apiKeys' | 'nodes' | 'servers'>;

/** What `up` remembers between runs (data/stack.json). Secrets are not in here. */
export interface StackState {
  node_uuid?: string;
  server_uuid?: string;
}

export interface Identity {
  adminId: number;
  adminPassword: string;
  /** true when this run created the admin (or reset a password whose file had gone). */
  adminPasswordNew: boolean;
  apiKey: string;
  apiKeyNew: boolean;
}

export interface NodeIdentity {
  id: number;
  uuid: string;
  url: string;
  tokenId: string;
  token: string;
}

export async function readStackState(layout: DataLayout): Promise<StackState> {
  const text = await readTextIfExists(layout.stackFile);
  if (text === undefined) return {};
  try {
    const parsed = JSON.parse(text) as StackState;
    return typeof parsed === 'object' && parsed !== null ? parsed : {};
  } catch {
    // A damaged state file only loses the pointers; the rows are found again by name below.
    return {};
  }
}

export async function writeStackState(layout: DataLayout, state: StackState): Promise<void> {
  await writeFile(layout.stackFile, `${JSON.stringify(state, null, 2)}\n`);
}

export async function ensureIdentity(services: Services, layout: DataLayout): Promise<Identity> {
  let admin = await services.users.findByEmail(ADMIN_EMAIL);
  let adminPassword = (await readTextIfExists(layout.adminPasswordFile))?.trim();
  let adminPasswordNew = false;
  if (!admin) {
    adminPassword = generatePassword();
    admin = await services.users.create({ email: ADMIN_EMAIL, username: 'admin', password: adminPassword, rootAdmin: true });
    await writeSecretFile(layout.adminPasswordFile, `${adminPassword}\n`);
    adminPasswordNew = true;
  } else if (!adminPassword) {
    // The password file was deleted: that is how a user resets a forgotten password.
    adminPassword = generatePassword();
    await services.users.setPassword(admin.id, adminPassword);
    await writeSecretFile(layout.adminPasswordFile, `${adminPassword}\n`);
    adminPasswordNew = true;
  }

  let apiKey = (await readTextIfExists(layout.apiKeyFile))?.trim();
  let apiKeyNew = false;
  const known = apiKey ? await services.apiKeys.authenticate(apiKey) : undefined;
  if (!apiKey || !known || known.user.id !== admin.id) {
    apiKey = (await services.apiKeys.create(admin.id, { type: 'client', memo: 'backwing up' })).key;
    await writeSecretFile(layout.apiKeyFile, `${apiKey}\n`);
    apiKeyNew = true;
  }
  return { adminId: admin.id, adminPassword: adminPassword!, adminPasswordNew, apiKey, apiKeyNew };
}

/**
 * The node row and the daemon credentials. The token is stored only in the panel's row and the
 * daemon's config file; when the config file is gone the token is rotated and written anew.
 */
export async function ensureNode(
  services: Services,
  state: StackState,
  provisionalUrl: string,
  existingDaemonCreds: { uuid: string; tokenId: string; token: string } | undefined,
): Promise<NodeIdentity> {
  let node = state.node_uuid ? await services.nodes.find(state.node_uuid) : undefined;
  node ??= await services.nodes.find(NODE_NAME);
  if (!node) {
    const created = await services.nodes.create({ name: NODE_NAME, url: provisionalUrl });
    return { id: created.id, uuid: created.uuid, url: created.url, tokenId: created.tokenId, token: created.token };
  }
  if (existingDaemonCreds && existingDaemonCreds.uuid === node.uuid) {
    return { id: node.id, uuid: node.uuid, url: node.url, tokenId: existingDaemonCreds.tokenId, token: existingDaemonCreds.token };
  }
  const reset = await services.nodes.resetToken(node.id);
  return { id: reset.id, uuid: reset.uuid, url: reset.url, tokenId: reset.tokenId, token: reset.token };
}

export async function ensureNodeUrl(services: Services, node: NodeIdentity, url: string): Promise<void> {
  if (sameOrigin(node.url, url)) return;
  const updated = await services.nodes.update(node.id, { url });
  node.url = updated.url;
}

export interface DemoServer {
  uuid: string;
  identifier: string;
  created: boolean;
}

/** Needs the daemon running: creating a server tells the node's daemon about it. */
export async function ensureDemoServer(services: Services, layout: DataLayout, state: StackState, adminId: number, nodeId: number): Promise<DemoServer> {
  const existing = state.server_uuid ? await services.servers.find(state.server_uuid) : undefined;
  if (existing) return { uuid: existing.uuid, identifier: existing.identifier, created: false };
  const server = await services.servers.create({ name: DEMO_SERVER_NAME, ownerId: adminId, nodeId, backupLimit: DEMO_BACKUP_LIMIT });
  await writeSampleFiles(join(layout.volumes, server.uuid));
  return { uuid: server.uuid, identifier: server.identifier, created: true };
}

export async function readFileTrimmed(path: string): Promise<string> {
  return (await readFile(path, 'utf8')).trim();
}

function generatePassword(): string {
  return randomBytes(15).toString('base64url');
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}
