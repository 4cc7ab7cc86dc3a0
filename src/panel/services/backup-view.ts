import type { BackupRow } from '../db/schema.ts';
import type { BackupViewRow } from '../repositories/backups.repository.ts';
import type { BackupAttributes } from '../../wire/client-api.ts';
import type { ChangedFiles } from '../../wire/server-control.ts';

/** Upstream prints ATOM dates in the app timezone (UTC): `2024-10-24T12:04:30+00:00`. */
export function atom(iso: string): string;
export function atom(iso: string | null): string | null;
export function atom(iso: string | null): string | null {
  if (iso === null) return null;
  // What the panel stores (toISOString's form) converts by slicing: a list page has three dates a
  // backup, and parsing each into a Date was a visible part of the list route's CPU.
  if (STORED.test(iso)) return `${iso.slice(0, 19)}+00:00`;
  return new Date(iso).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

const STORED = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

/** Upstream splits on "\n" and drops empty entries only; a "\r" from CRLF input would stay attached, so it is stripped here. */
export function splitIgnored(ignored: string | null | undefined): string[] {
  if (!ignored) return [];
  return ignored.split('\n').map((l) => l.replace(/\r$/, '')).filter((l) => l !== '');
}

export function parseIgnored(json: string): string[] {
  try {
    const v = JSON.parse(json) as unknown;
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
}

/** The stored JSON, defensively: a row written by hand or by an older version reads as null. */
export function parseChangedFiles(json: string | null | undefined): ChangedFiles | null {
  if (!json) return null;
  try {
    const v = JSON.parse(json) as Partial<ChangedFiles> | null;
    if (!v || !Number.isInteger(v.count) || !Array.isArray(v.names)) return null;
    return { count: v.count!, names: v.names.map(String).slice(0, 20), ...(Number.isInteger(v.inconsistent) ? { inconsistent: v.inconsistent } : {}) };
  } catch {
    return null;
  }
}

export function isCompleted(b: BackupRow): boolean {
  return b.completed_at !== null;
}

export function isSuccessful(b: BackupRow): boolean {
  return b.is_successful === 1 && b.completed_at !== null;
}

export function isFailed(b: Pick<BackupRow, 'completed_at' | 'is_successful'>): boolean {
  return b.completed_at !== null && b.is_successful !== 1;
}

/** Where a backup lives (backwing): its destination's name and how many verified copies it has. */
export interface BackupPlacement {
  destination: string | null;
  copies: number;
}

export function toBackupAttributes(b: BackupViewRow, placement?: BackupPlacement): BackupAttributes {
  const sep = b.checksum ? b.checksum.indexOf(':') : -1;
  const type = b.checksum && sep > 0 ? b.checksum.slice(0, sep) : null;
  const hex = b.checksum && sep > 0 ? b.checksum.slice(sep + 1) : null;
  return {
    uuid: b.uuid,
    name: b.name,
    ignored_files: parseIgnored(b.ignored_files),
    is_successful: b.is_successful === 1,
    is_locked: b.is_locked === 1,
    checksum: b.checksum,
    checksum_type: type,
    sha256_hash: type === 'sha256' ? hex : null,
    bytes: Number(b.bytes),
    created_at: atom(b.created_at),
    completed_at: atom(b.completed_at),
    changed_files: parseChangedFiles(b.changed_files),
    failure_reason: isFailed(b) ? b.failure_reason : null,
    has_index: b.index_bytes !== null && b.index_bytes !== undefined,
    ...(placement ? { destination: placement.destination, copies: placement.copies } : {}),
    verified_at: atom(b.verified_at),
    verification: b.verification === 'good' || b.verification === 'damaged' ? b.verification : null,
    damage_reason: b.verification === 'damaged' ? b.damage_reason : null,
    ignore_defaults: splitIgnored(b.ignore_defaults),
    ignore_egg_defaults: splitIgnored(b.ignore_egg_defaults),
    bytes_added: b.bytes_added === null || b.bytes_added === undefined ? null : Number(b.bytes_added),
    repository_size: b.repository_size === null || b.repository_size === undefined ? null : Number(b.repository_size),
  };
}
