import type { UserRow } from '../db/schema.ts';

/**
 * A request's credential (API key, session) is read together with its user in one query: the
 * user's columns under `u_` aliases, turned back into a UserRow by userOf.
 */
export const USER_COLUMNS_AS = [
  'users.id as u_id', 'users.uuid as u_uuid', 'users.email as u_email', 'users.username as u_username',
  'users.password_hash as u_password_hash', 'users.root_admin as u_root_admin', 'users.created_at as u_created_at', 'users.updated_at as u_updated_at',
] as const;

export interface UserColumnsAs {
  u_id: number;
  u_uuid: string;
  u_email: string;
  u_username: string;
  u_password_hash: string;
  u_root_admin: number;
  u_created_at: string;
  u_updated_at: string;
}

export function userOf(r: UserColumnsAs): UserRow {
  return { id: r.u_id, uuid: r.u_uuid, email: r.u_email, username: r.u_username, password_hash: r.u_password_hash, root_admin: r.u_root_admin, created_at: r.u_created_at, updated_at: r.u_updated_at };
}
