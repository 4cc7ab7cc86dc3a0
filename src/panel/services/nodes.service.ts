import { randomUUID } from 'node:crypto';
import { errorMessage } from '../../core/app-error.ts';
import type { NodeRow } from '../db/schema.ts';
import { PanelErrors, validName } from '../errors.ts';
import { randomAlnum, safeEqual } from './crypto.ts';
import { isoNow, type ServiceDeps } from './deps.ts';
import { normaliseIgnoreDefaults } from './eggs.service.ts';

export interface PublicNode {
  id: number;
  uuid: string;
  name: string;
  url: string;
  maintenance: boolean;
  /** Ignore patterns every backup on this node gets (issue 17); null = none. */
  backupIgnore: string | null;
  createdAt: string;
}

export interface CreatedNode extends PublicNode {
  tokenId: string;
  /** The daemon token; the daemon's config needs it, and the panel signs JWTs with it. */
  token: string;
}

export function toPublicNode(n: NodeRow): PublicNode {
  return { id: n.id, uuid: n.uuid, name: n.name, url: n.url, maintenance: n.maintenance === 1, backupIgnore: n.backup_ignore, createdAt: n.created_at };
}

function normaliseUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(String(raw ?? '').trim());
  } catch {
    throw PanelErrors.validation('url', 'url', 'The url must be a valid URL (scheme://host:port).');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw PanelErrors.validation('url', 'url', 'The url must use http or https.');
  return `${u.protocol}//${u.host}`;
}

export class NodesService {
  constructor(private readonly d: ServiceDeps) {}

  async create(input: { name: string; url: string }): Promise<CreatedNode> {
    const name = validName(input.name);
    const url = normaliseUrl(input.url);
    const tokenId = randomAlnum(16);
    const token = randomAlnum(64);
    const row = await this.d.repos.nodes.insert({ uuid: randomUUID(), name, url, daemon_token_id: tokenId, daemon_token: token, at: isoNow(this.d.clock) });
    return { ...toPublicNode(row), tokenId, token };
  }

  async update(id: number, patch: { name?: string; url?: string; maintenance?: boolean }): Promise<PublicNode> {
    const node = await this.d.repos.nodes.findById(id);
    if (!node) throw PanelErrors.resourceNotFound();
    await this.d.repos.nodes.update(id, {
      name: patch.name === undefined ? undefined : validName(patch.name),
      url: patch.url === undefined ? undefined : normaliseUrl(patch.url),
      maintenance: patch.maintenance,
      at: isoNow(this.d.clock),
    });
    return toPublicNode((await this.d.repos.nodes.findById(id))!);
  }

  /**
   * The node's default ignore patterns (issue 17): merged below each server's `.pteroignore` and the
   * request's own patterns. Empty text clears them. Checked like a request's list (422 naming the line).
   */
  async setBackupIgnore(id: number, text: string | null): Promise<PublicNode> {
    const node = await this.d.repos.nodes.findById(id);
    if (!node) throw PanelErrors.resourceNotFound();
    const value = normaliseIgnoreDefaults(text, 'node defaults', 'patterns');
    await this.d.repos.nodes.update(id, { backup_ignore: value, at: isoNow(this.d.clock) });
    return toPublicNode((await this.d.repos.nodes.findById(id))!);
  }

  async resetToken(id: number): Promise<CreatedNode> {
    const tokenId = randomAlnum(16);
    const token = randomAlnum(64);
    await this.d.repos.nodes.update(id, { daemon_token_id: tokenId, daemon_token: token, at: isoNow(this.d.clock) });
    const row = await this.d.repos.nodes.findById(id);
    if (!row) throw PanelErrors.resourceNotFound();
    return { ...toPublicNode(row), tokenId, token };
  }

  async list(): Promise<PublicNode[]> {
    return (await this.d.repos.nodes.list()).map(toPublicNode);
  }

  async findById(id: number): Promise<PublicNode | undefined> {
    const n = await this.d.repos.nodes.findById(id);
    return n && toPublicNode(n);
  }

  /** By uuid, else by name (CLI convenience). */
  async find(ref: string): Promise<PublicNode | undefined> {
    const n = (await this.d.repos.nodes.findByUuid(ref)) ?? (await this.d.repos.nodes.findByName(ref));
    return n && toPublicNode(n);
  }

  async delete(id: number): Promise<void> {
    if ((await this.d.repos.nodes.countServers(id)) > 0) throw PanelErrors.conflict('Cannot delete a node that still has servers assigned to it.');
    await this.d.repos.nodes.delete(id);
  }

  /**
   * Remote API authentication: `Bearer <token_id>.<token>`. Throws the upstream 401/400/403.
   */
  async authenticateDaemon(authorization: string | undefined): Promise<NodeRow> {
    if (!authorization) throw PanelErrors.remoteMissingAuth();
    const m = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (!m) throw PanelErrors.remoteMissingAuth();
    const parts = m[1]!.split('.');
    if (parts.length !== 2 || parts[0] === '' || parts[1] === '') throw PanelErrors.remoteBadAuthFormat();
    const node = await this.d.repos.nodes.findByTokenId(parts[0]!);
    if (!node || !safeEqual(node.daemon_token, parts[1]!)) throw PanelErrors.remoteBadToken();
    return node;
  }
}
