/**
 * A node's restic repository (docs/restic.md). One repository per node, one key shared by every
 * server on it: restic deduplicates only within a repository under one key, and a key per server
 * would need one repository per server (restic keys all open the same master key, so per-server
 * keys would not separate servers anyway). Servers are told apart by snapshot tags.
 *
 * The password is generated here (256 bits), stored sealed (deps.secrets), opened only to be sent
 * with a restic job over the authenticated panel→daemon API, and never returned or logged.
 */
import { randomBytes } from 'node:crypto';
import type { BackupRow, NodeResticRow } from '../db/schema.ts';
import type { DestinationRow } from '../db/destinations.schema.ts';
import type { DaemonResticRepo } from '../../wire/daemon-api.ts';
import { PanelErrors } from '../errors.ts';
import { isoNow, type ServiceDeps } from './deps.ts';

export interface ResticSettingsInput {
  enabled?: boolean;
  repository?: string;
  s3?: { access_key_id: string; secret_access_key: string; region?: string | null } | null;
}

/** What the application API and `backwing admin node restic` show: never the password or S3 secret. */
export interface ResticSettingsView {
  enabled: boolean;
  repository: string;
  s3_access_key_id: string | null;
  s3_region: string | null;
  has_password: true;
  forgotten_since_prune: number;
  last_prune_at: string | null;
  last_check_at: string | null;
  last_check_ok: boolean | null;
  last_check_message: string | null;
}

/** A restic destination repository's upkeep, per node it runs through (application API). */
export interface ResticUpkeepView {
  node_id: number;
  node_uuid: string;
  node_name: string;
  /** An `s3:` repository: one repository for every node, kept through this one. */
  shared_repository: boolean;
  forgotten_since_prune: number;
  last_prune_at: string | null;
  last_check_at: string | null;
  last_check_ok: boolean | null;
  last_check_message: string | null;
}

export function resticView(row: NodeResticRow): ResticSettingsView {
  return {
    enabled: row.enabled === 1,
    repository: row.repository,
    s3_access_key_id: row.s3_access_key_id,
    s3_region: row.s3_region,
    has_password: true,
    forgotten_since_prune: Number(row.forgotten_since_prune),
    last_prune_at: row.last_prune_at,
    last_check_at: row.last_check_at,
    last_check_ok: row.last_check_ok === null ? null : row.last_check_ok === 1,
    last_check_message: row.last_check_message,
  };
}

export function checkRepository(repository: string): void {
  const ok = (repository.startsWith('/') && !repository.includes('\0')) || /^s3:https?:\/\/[^/\s]+\/[^\s]+$/.test(repository);
  if (!ok || repository.includes('\n')) {
    throw PanelErrors.validation('repository', 'format', 'The repository must be an absolute path on the node or an s3:https://host/bucket[/prefix] URL.');
  }
}

/** The upkeep row of a restic destination's repository: per node for a path, once for `s3:` (one repository). */
export function resticUpkeepKey(destinationId: number, repository: string, nodeId: number): string {
  return repository.startsWith('s3:') ? String(destinationId) : `${destinationId}:${nodeId}`;
}

export class ResticService {
  constructor(private readonly d: ServiceDeps) {}

  /** Creates or changes a node's settings; the password is generated once and kept on changes. */
  async configure(nodeId: number, input: ResticSettingsInput): Promise<ResticSettingsView> {
    const existing = await this.d.repos.nodeRestic.find(nodeId);
    const repository = input.repository ?? existing?.repository;
    if (!repository) throw PanelErrors.validation('repository', 'required', 'The repository field is required.');
    checkRepository(repository);
    const s3 = input.s3 === undefined ? undefined : input.s3;
    if (repository.startsWith('s3:') && s3 === null) throw PanelErrors.validation('s3', 'required', 'S3 credentials are required for an s3: repository.');
    // A repository another node already uses (a replacement for a dead node, or nodes sharing one
    // S3 repository) keeps its password: that is what makes its snapshots restorable here. A new
    // location is a new repository with a fresh password.
    const password = existing?.repository === repository ? existing.password : await this.passwordFor(repository);
    await this.d.repos.nodeRestic.upsert(nodeId, {
      enabled: input.enabled ?? (existing ? existing.enabled === 1 : true),
      repository,
      password,
      s3_access_key_id: s3 === undefined ? existing?.s3_access_key_id ?? null : s3?.access_key_id ?? null,
      s3_secret_access_key: s3 === undefined ? existing?.s3_secret_access_key ?? null : s3 ? this.d.secrets.seal(s3.secret_access_key) : null,
      s3_region: s3 === undefined ? existing?.s3_region ?? null : s3?.region ?? null,
    }, isoNow(this.d.clock));
    return resticView((await this.d.repos.nodeRestic.find(nodeId))!);
  }

  async view(nodeId: number): Promise<ResticSettingsView | null> {
    const row = await this.d.repos.nodeRestic.find(nodeId);
    return row ? resticView(row) : null;
  }

  /** The repository a restic job on this node uses, secrets opened; null when restic is off. */
  async repoFor(nodeId: number): Promise<DaemonResticRepo | null> {
    const row = await this.d.repos.nodeRestic.find(nodeId);
    if (!row || row.enabled !== 1) return null;
    return this.openRow(row);
  }

  /**
   * For a backup already made with restic: the repository it was made in, even after the server
   * or node was reassigned or restic was switched off since. A backup made in a restic destination
   * records it (backups.destination_id); one made through the node's setting records the
   * local/s3 destination it fell through to, and lives in the node's repository.
   */
  async repoForBackup(nodeId: number, backup?: Pick<BackupRow, 'destination_id'>): Promise<DaemonResticRepo> {
    const dest = backup?.destination_id != null ? await this.d.repos.destinations.findById(backup.destination_id) : undefined;
    if (dest?.kind === 'restic') return this.openDestination(dest);
    const row = await this.d.repos.nodeRestic.find(nodeId);
    if (!row) throw PanelErrors.resticNotConfigured();
    return this.openRow(row);
  }

  /** A restic destination's repository, secrets opened (its S3 keys are the destination's own). */
  openDestination(dest: DestinationRow): DaemonResticRepo {
    if (dest.kind !== 'restic' || !dest.restic_repository || !dest.restic_password) throw PanelErrors.resticNotConfigured();
    return {
      repository: dest.restic_repository,
      password: this.d.secrets.open(dest.restic_password),
      s3: dest.access_key_id && dest.secret_access_key ? { access_key_id: dest.access_key_id, secret_access_key: this.d.secrets.open(dest.secret_access_key), region: dest.region } : null,
    };
  }

  /**
   * The sealed password for a repository location: the one already used for it (by a restic
   * destination or a node's setting: the password belongs to the repository, so a second
   * destination or node pointing there can open its snapshots), else a fresh one.
   */
  async passwordFor(repository: string): Promise<string> {
    const known = (await this.d.repos.destinations.findByResticRepository(repository))?.restic_password
      ?? (await this.d.repos.nodeRestic.findByRepository(repository))?.password;
    return known ?? this.d.secrets.seal(randomBytes(32).toString('base64url'));
  }

  /** Counts a forgotten snapshot toward the next prune of a restic destination's repository (as seen from this node). */
  async destinationForgotten(dest: DestinationRow, nodeId: number): Promise<void> {
    const at = isoNow(this.d.clock);
    const key = resticUpkeepKey(dest.id, dest.restic_repository ?? '', nodeId);
    await this.d.repos.destinationResticUpkeep.ensure(key, dest.id, nodeId, at);
    await this.d.repos.destinationResticUpkeep.addForgotten(key, 1, at);
  }

  /** The upkeep of each repository a restic destination has (per node for a path, one for `s3:`). */
  async destinationUpkeep(key: string): Promise<ResticUpkeepView[]> {
    // By id, uuid or name, as the destination routes take it.
    const r = this.d.repos.destinations;
    const dest = (/^\d+$/.test(key) ? await r.findById(Number(key)) : undefined) ?? (await r.findByUuid(key)) ?? (await r.findByName(key));
    if (!dest) throw PanelErrors.resourceNotFound();
    if (dest.kind !== 'restic') return [];
    const rows = await this.d.repos.destinationResticUpkeep.listForDestination(dest.id);
    return rows.map((r) => ({
      node_id: r.node_id,
      node_uuid: r.node_uuid,
      node_name: r.node_name,
      shared_repository: !r.repository_key.includes(':'),
      forgotten_since_prune: Number(r.forgotten_since_prune),
      last_prune_at: r.last_prune_at,
      last_check_at: r.last_check_at,
      last_check_ok: r.last_check_ok === null ? null : r.last_check_ok === 1,
      last_check_message: r.last_check_message,
    }));
  }

  openRow(row: NodeResticRow): DaemonResticRepo {
    return {
      repository: row.repository,
      password: this.d.secrets.open(row.password),
      s3: row.s3_access_key_id && row.s3_secret_access_key ? { access_key_id: row.s3_access_key_id, secret_access_key: this.d.secrets.open(row.s3_secret_access_key), region: row.s3_region } : null,
    };
  }
}
