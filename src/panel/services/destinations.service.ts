/**
 * Backup destinations (docs/destinations.md): where a node's (or a server's) backups go. Rules:
 * one default at all times; an S3 destination is probed before it is saved so a wrong secret is
 * refused with S3's own code; a destination still holding archives cannot be deleted.
 */
import { randomUUID } from 'node:crypto';
import { AppError, isAppError } from '../../core/app-error.ts';
import type { DestinationKind, DestinationRow } from '../db/destinations.schema.ts';
import type { DestinationAssignments, DestinationAttributes } from '../../wire/destinations.ts';
import { PanelErrors, validName } from '../errors.ts';
import type { Repos } from '../repositories/index.ts';
import type { PanelS3Config } from '../storage/s3-backup-store.ts';
import { openS3Store, s3ConfigOf } from './destination-stores.ts';
import { checkRepository, ResticService } from './restic.service.ts';
import { isoNow, type ServiceDeps } from './deps.ts';

const MiB = 1024 * 1024;
/** S3's bounds on one part. */
export const MIN_PART_SIZE = 5 * MiB;
export const MAX_PART_SIZE = 5 * 1024 * MiB;

export interface DestinationInput {
  name?: string;
  kind?: string;
  endpoint?: string | null;
  region?: string | null;
  bucket?: string | null;
  prefix?: string | null;
  accessKeyId?: string | null;
  /** Write-only; undefined keeps the stored one. */
  secretAccessKey?: string | null;
  pathStyle?: boolean;
  storageClass?: string | null;
  partSize?: number | null;
  isDefault?: boolean;
  /** Id of the destination each completed backup is copied to; null = none. */
  copyToId?: number | null;
  /** Save without probing S3 (an endpoint not reachable from the panel yet). */
  skipTest?: boolean;
  /** restic kind: a path on the node, or restic's `s3:https://host/bucket[/prefix]`. */
  repository?: string | null;
}

/** What the APIs show: everything but the secret. */
export type PublicDestination = DestinationAttributes;

export interface DestinationTestResult {
  ok: boolean;
  /** S3's error code when it refused (SignatureDoesNotMatch, NoSuchBucket, …). */
  s3_error: string | null;
  message: string;
}

export function publicDestination(d: DestinationRow): PublicDestination {
  return {
    id: d.id, uuid: d.uuid, name: d.name, kind: d.kind, endpoint: d.endpoint, region: d.region, bucket: d.bucket,
    prefix: d.prefix, access_key_id: d.access_key_id, has_secret: d.secret_access_key !== null, path_style: d.path_style === 1,
    storage_class: d.storage_class, part_size: d.part_size === null ? null : Number(d.part_size), is_default: d.is_default === 1,
    copy_to: d.copy_to_id, created_at: d.created_at, updated_at: d.updated_at,
    ...(d.kind === 'restic' ? { repository: d.restic_repository, has_password: d.restic_password !== null } : {}),
  };
}

const v = (field: string, rule: string, detail: string) => PanelErrors.validation(field, rule, detail);

function optText(value: string | null | undefined, field: string, max: number): string | null | undefined {
  if (value === undefined) return undefined;
  if (value === null) return null;
  const t = String(value).trim();
  if (t === '') return null;
  if (t.length > max) throw v(field, 'max', `The ${field} must not be greater than ${max} characters.`);
  if (/[\u0000-\u001f\u007f]/.test(t)) throw v(field, 'regex', `The ${field} must not contain control characters.`);
  return t;
}

/** "backups/eu" → "backups/eu/": keys are `<prefix><server>/<backup>.tar.gz`. */
function normalPrefix(raw: string | null | undefined): string | undefined {
  const t = optText(raw, 'prefix', 200);
  if (t === undefined) return undefined;
  if (t === null) return '';
  if (t.startsWith('/') || t.split('/').some((seg) => seg === '..' || seg === '.')) {
    throw v('prefix', 'regex', 'The prefix must be a relative key prefix such as "backups/eu/" (no leading "/", no "." or ".." parts).');
  }
  return t.endsWith('/') ? t : `${t}/`;
}

/** An AppError from the S3 store, as a test result naming S3's code. */
function testFailure(err: unknown): DestinationTestResult {
  if (!isAppError(err)) throw err;
  const code = (err.meta as { s3_error?: string } | undefined)?.s3_error ?? null;
  return { ok: false, s3_error: code, message: err.message };
}

export class DestinationsService {
  constructor(private readonly d: ServiceDeps) {}

  async list(): Promise<PublicDestination[]> {
    return (await this.d.repos.destinations.list()).map(publicDestination);
  }

  /** By id, uuid or name. */
  async find(key: string | number): Promise<DestinationRow> {
    const r = this.d.repos.destinations;
    const s = String(key);
    const row = (/^\d+$/.test(s) ? await r.findById(Number(s)) : undefined) ?? (await r.findByUuid(s)) ?? (await r.findByName(s));
    if (!row) throw PanelErrors.resourceNotFound();
    return row;
  }

  async create(input: DestinationInput): Promise<PublicDestination> {
    const at = isoNow(this.d.clock);
    const kind = this.kindOf(input.kind, true)!;
    const values = await this.validated(input, kind, null);
    if (kind === 's3') await this.probeOrRefuse(input, values);
    const row = await this.d.tx(async (repos) => {
      const first = (await repos.destinations.findDefault()) === undefined;
      const inserted = await repos.destinations.insert({
        uuid: randomUUID(), ...values, is_default: 0, created_at: at, updated_at: at,
      });
      if (first || input.isDefault === true) await this.makeDefault(repos, inserted.id, at);
      return inserted;
    });
    return publicDestination((await this.d.repos.destinations.findById(row.id))!);
  }

  async update(key: string | number, input: DestinationInput): Promise<PublicDestination> {
    const current = await this.find(key);
    const at = isoNow(this.d.clock);
    const kind = this.kindOf(input.kind, false) ?? current.kind;
    const values = await this.validated(input, kind, current);
    if ((current.kind === 'restic' || kind === 'restic') && (kind !== current.kind || values.restic_repository !== current.restic_repository)) {
      // Its backups are found through this row: snapshots in that repository, or archives a
      // repository would not hold.
      const held = await this.d.repos.destinations.countBackupsUsing(current.id);
      if (held > 0) throw PanelErrors.conflict(`The destination "${current.name}" holds ${held} backup${held === 1 ? '' : 's'}: it cannot become or stop being a restic repository, or move its repository, while they exist (create another destination instead).`);
    }
    if (kind === 's3') await this.probeOrRefuse(input, values);
    if (input.isDefault === false && current.is_default === 1) {
      throw PanelErrors.conflict('A panel always has one default destination: make another destination the default instead.');
    }
    await this.d.tx(async (repos) => {
      await repos.destinations.update(current.id, { ...values, updated_at: at });
      if (input.isDefault === true && current.is_default !== 1) await this.makeDefault(repos, current.id, at);
    });
    this.d.stores.forget(current.id);
    return publicDestination((await this.d.repos.destinations.findById(current.id))!);
  }

  async delete(key: string | number): Promise<void> {
    const dest = await this.find(key);
    const r = this.d.repos.destinations;
    if (dest.is_default === 1) throw PanelErrors.conflict(`The destination "${dest.name}" is the default: make another destination the default first.`);
    const backups = await r.countBackupsUsing(dest.id);
    if (backups > 0) {
      throw PanelErrors.conflict(`The destination "${dest.name}" still holds ${backups} backup${backups === 1 ? '' : 's'} (or copies): delete them first, or keep the destination so they stay downloadable.`);
    }
    const nodes = await r.namesOfNodesUsing(dest.id);
    if (nodes.length > 0) throw PanelErrors.conflict(`The destination "${dest.name}" is assigned to node${nodes.length === 1 ? '' : 's'} ${nodes.map((n) => `"${n}"`).join(', ')}: assign another destination first.`);
    const servers = await r.countServersUsing(dest.id);
    if (servers > 0) throw PanelErrors.conflict(`The destination "${dest.name}" is assigned to ${servers} server${servers === 1 ? '' : 's'}: assign another destination first.`);
    const copiers = await r.namesCopyingTo(dest.id);
    if (copiers.length > 0) throw PanelErrors.conflict(`The destination "${dest.name}" receives the copies of ${copiers.map((n) => `"${n}"`).join(', ')}: change their copy target first.`);
    await this.d.tx((repos) => repos.destinations.delete(dest.id));
    this.d.stores.forget(dest.id);
  }

  /** Lists, writes and deletes a probe object; a refusal names S3's code. Local destinations always pass. */
  async test(key: string | number): Promise<DestinationTestResult> {
    const dest = await this.find(key);
    if (dest.kind === 'restic') {
      // The repository is on the node (or reached from it), and restic creates it at the first
      // backup: the panel has nothing honest to probe, so the first backup is the test.
      return { ok: true, s3_error: null, message: 'a restic repository is opened (and created if new) by the node at its first backup; a wrong path, password or S3 key fails that backup with the reason' };
    }
    if (dest.kind !== 's3') return { ok: true, s3_error: null, message: 'a local destination keeps archives on each node' };
    try {
      await (await openS3Store(s3ConfigOf(dest, this.d.secrets, this.d.config), this.d.logger)).probe();
      return { ok: true, s3_error: null, message: `listed, wrote and deleted a test object in bucket "${dest.bucket}"` };
    } catch (err) {
      return testFailure(err);
    }
  }

  /** Every node's destination (null = the default) and every server that overrides its node's. */
  async assignments(): Promise<DestinationAssignments['attributes']> {
    const r = this.d.repos.destinations;
    const nodes = (await r.nodeAssignments()).map((n) => ({ id: n.id, name: n.name, destination: n.destination_id }));
    const servers = (await r.serverOverrides()).map((s) => ({
      id: s.id, identifier: s.identifier, uuid: s.uuid, name: s.name, node: s.node_id, destination: s.destination_id!,
    }));
    return { nodes, servers };
  }

  async assignNode(nodeId: number, destinationKey: string | number | null): Promise<void> {
    const node = await this.d.repos.nodes.findById(nodeId);
    if (!node) throw PanelErrors.resourceNotFound();
    const dest = destinationKey === null ? null : await this.find(destinationKey);
    await this.d.repos.destinations.assignNode(node.id, dest?.id ?? null, isoNow(this.d.clock));
  }

  async assignServer(serverId: number, destinationKey: string | number | null): Promise<void> {
    const server = await this.d.repos.servers.findById(serverId);
    if (!server) throw PanelErrors.resourceNotFound();
    const dest = destinationKey === null ? null : await this.find(destinationKey);
    await this.d.repos.destinations.assignServer(server.id, dest?.id ?? null, isoNow(this.d.clock));
  }

  /**
   * First start after the upgrade: APP_BACKUP_DRIVER and AWS_* become destinations ("local",
   * and "s3" when a bucket is set; the driver's one is the default) and every existing backup is
   * pinned to the one that holds it. Runs once: afterwards the table is what counts.
   */
  async importFromConfig(): Promise<void> {
    if ((await this.d.repos.destinations.list()).length > 0) return;
    const at = isoNow(this.d.clock);
    const cfg = this.d.config;
    try {
      await this.d.tx(async (repos) => {
        const local = await repos.destinations.insert(this.blank('local', 'local', at));
        let s3: DestinationRow | undefined;
        if (cfg.s3) {
          s3 = await repos.destinations.insert({
            ...this.blank('s3', 's3', at),
            endpoint: cfg.s3.endpoint ?? null, region: cfg.s3.region, bucket: cfg.s3.bucket, prefix: cfg.s3.prefix ?? '',
            access_key_id: cfg.s3.accessKeyId ?? null,
            secret_access_key: cfg.s3.secretAccessKey ? this.d.secrets.seal(cfg.s3.secretAccessKey) : null,
            path_style: cfg.s3.forcePathStyle ? 1 : 0, storage_class: cfg.s3.storageClass ?? null, part_size: cfg.s3.maxPartSize,
          });
        }
        await repos.destinations.makeDefault(cfg.backupDriver === 's3' && s3 ? s3.id : local.id, at);
        await repos.destinations.pinBackupsByDisk('wings', local.id);
        if (s3) await repos.destinations.pinBackupsByDisk('s3', s3.id);
      });
      this.d.logger.info({ driver: cfg.backupDriver, s3: cfg.s3 !== undefined }, 'imported the backup settings from the environment as destinations');
    } catch (err) {
      // Another panel process imported at the same moment: its rows are as good as ours.
      if ((await this.d.repos.destinations.findDefault()) !== undefined) return;
      throw err;
    }
  }

  private blank(name: string, kind: DestinationKind, at: string) {
    return {
      uuid: randomUUID(), name, kind, endpoint: null, region: null, bucket: null, prefix: '', access_key_id: null, secret_access_key: null,
      path_style: 0, storage_class: null, part_size: null, is_default: 0, copy_to_id: null, created_at: at, updated_at: at,
    };
  }

  private async makeDefault(repos: Repos, id: number, at: string): Promise<void> {
    // Backups that still say "the default" keep the one they were written to.
    const old = await repos.destinations.findDefault();
    if (old) await repos.destinations.pinUnassignedBackups(old.id);
    await repos.destinations.makeDefault(id, at);
  }

  private kindOf(raw: string | undefined, required: boolean): DestinationKind | undefined {
    if (raw === undefined || raw === null || raw === '') {
      if (required) throw v('kind', 'required', 'The kind field is required (local, s3 or restic).');
      return undefined;
    }
    if (raw !== 'local' && raw !== 's3' && raw !== 'restic') throw v('kind', 'in', 'The kind must be local, s3 or restic.');
    return raw;
  }

  /** The row's columns after applying `input` to `current` (null = a new destination), validated. */
  private async validated(input: DestinationInput, kind: DestinationKind, current: DestinationRow | null) {
    const name = input.name !== undefined ? validName(input.name) : current?.name;
    if (name === undefined) throw v('name', 'required', 'The name field is required.');
    const same = await this.d.repos.destinations.findByName(name);
    if (same && same.id !== current?.id) throw v('name', 'unique', `The name "${name}" is already taken by another destination.`);

    const pick = <T>(next: T | undefined, prev: T): T => (next === undefined ? prev : next);
    const endpoint = pick(optText(input.endpoint, 'endpoint', 2000), current?.endpoint ?? null);
    if (endpoint !== null) {
      let ok = false;
      try { ok = ['http:', 'https:'].includes(new URL(endpoint).protocol); } catch { /* not a URL */ }
      if (!ok) throw v('endpoint', 'url', 'The endpoint must be an http(s) URL.');
    }
    const region = pick(optText(input.region, 'region', 64), current?.region ?? null);
    const bucket = pick(optText(input.bucket, 'bucket', 255), current?.bucket ?? null);
    const prefix = pick(normalPrefix(input.prefix), current?.prefix ?? '');
    const accessKeyId = pick(optText(input.accessKeyId, 'access_key_id', 255), current?.access_key_id ?? null);
    const secret = input.secretAccessKey === undefined ? current?.secret_access_key ?? null
      : input.secretAccessKey === null || input.secretAccessKey === '' ? null : this.d.secrets.seal(String(input.secretAccessKey));
    const storageClass = pick(optText(input.storageClass, 'storage_class', 64), current?.storage_class ?? null);
    const partSize = input.partSize === undefined ? (current?.part_size ?? null) : input.partSize;
    if (partSize !== null && (!Number.isSafeInteger(partSize) || partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE)) {
      throw v('part_size', 'between', `The part size must be between ${MIN_PART_SIZE} (5 MiB) and ${MAX_PART_SIZE} (5 GiB) bytes.`);
    }
    const copyToId = input.copyToId === undefined ? (current?.copy_to_id ?? null) : input.copyToId;
    if (copyToId !== null) {
      const target = await this.d.repos.destinations.findById(copyToId);
      if (!target) throw v('copy_to', 'exists', 'The copy_to destination does not exist.');
      if (target.id === current?.id) throw v('copy_to', 'different', 'A destination cannot copy to itself.');
      if (target.kind !== 's3') throw v('copy_to', 'in', 'Copies are made to an S3 destination (a node\'s disk cannot receive another node\'s archives).');
    }
    if (kind === 's3' && bucket === null) throw v('bucket', 'required', 'The bucket field is required for an S3 destination.');
    if (kind === 'restic') return { name, ...(await this.resticValues(input, current, { region, accessKeyId, secret, copyToId })) };
    const s3 = kind === 's3';
    return {
      name, kind,
      endpoint: s3 ? endpoint : null, region: s3 ? (region ?? 'us-east-1') : null, bucket: s3 ? bucket : null, prefix: s3 ? prefix : '',
      access_key_id: s3 ? accessKeyId : null, secret_access_key: s3 ? secret : null,
      path_style: s3 ? ((input.pathStyle ?? current?.path_style === 1) ? 1 : 0) : 0,
      storage_class: s3 ? storageClass : null, part_size: s3 ? partSize : null, copy_to_id: copyToId,
      restic_repository: null, restic_password: null,
    };
  }

  /**
   * A restic destination's columns: its repository, the S3 keys of an `s3:` one (restic reads
   * them from its environment), and the password: kept while the repository stays the same, else
   * the one already used for that location, else generated (ResticService.passwordFor).
   */
  private async resticValues(input: DestinationInput, current: DestinationRow | null, s3: { region: string | null; accessKeyId: string | null; secret: string | null; copyToId: number | null }) {
    const repository = input.repository === undefined ? current?.restic_repository ?? null : optText(input.repository, 'repository', 2000) ?? null;
    if (repository === null) throw v('repository', 'required', 'The repository field is required for a restic destination.');
    checkRepository(repository);
    const onS3 = repository.startsWith('s3:');
    if (onS3 && (s3.accessKeyId === null || s3.secret === null)) {
      throw v('access_key_id', 'required', 'An s3: restic repository needs access_key_id and secret_access_key.');
    }
    if (s3.copyToId !== null) throw v('copy_to', 'in', 'A restic destination keeps snapshots in its repository; it makes no copies.');
    const password = current?.kind === 'restic' && current.restic_repository === repository && current.restic_password
      ? current.restic_password
      : await new ResticService(this.d).passwordFor(repository);
    return {
      kind: 'restic' as const, endpoint: null, region: onS3 ? s3.region : null, bucket: null, prefix: '',
      access_key_id: onS3 ? s3.accessKeyId : null, secret_access_key: onS3 ? s3.secret : null,
      path_style: 0, storage_class: null, part_size: null, copy_to_id: null,
      restic_repository: repository, restic_password: password,
    };
  }

  /** Saving an S3 destination S3 refuses fails here, with S3's code, unless the caller skips the test. */
  private async probeOrRefuse(input: DestinationInput, values: Awaited<ReturnType<DestinationsService['validated']>>): Promise<void> {
    if (input.skipTest === true) return;
    const cfg: PanelS3Config = s3ConfigOf({ ...values, id: 0, uuid: '', is_default: 0, created_at: '', updated_at: '' } as DestinationRow, this.d.secrets, this.d.config);
    try {
      await (await openS3Store(cfg, this.d.logger)).probe();
    } catch (err) {
      const r = testFailure(err);
      throw new AppError('DestinationRefused', 422, `The destination was not saved: ${r.message}`, { meta: { source_field: 'bucket', rule: 'reachable', s3_error: r.s3_error } });
    }
  }
}
