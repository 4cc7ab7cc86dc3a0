/** The `restic` object of a daemon request, checked by hand so a bad one is a clear 400. */
import { openResticClaim } from '../../core/restic-claim.ts';
import { daemonErrors } from '../errors.ts';
import type { ResticRepo } from './restic-cli.ts';

function str(v: unknown): v is string {
  return typeof v === 'string' && v !== '' && !v.includes('\0') && !v.includes('\n');
}

export function parseResticRepo(raw: unknown): ResticRepo {
  const bad = (why: string) => daemonErrors.badRequest(`The restic field ${why}.`);
  if (typeof raw !== 'object' || raw === null) throw bad('is required when the backup adapter is restic');
  const r = raw as Record<string, unknown>;
  if (!str(r.repository)) throw bad('needs a repository');
  if (!r.repository.startsWith('/') && !r.repository.startsWith('s3:')) throw bad('repository must be an absolute path or an s3: URL');
  if (!str(r.password)) throw bad('needs a password');
  let s3: ResticRepo['s3'] = null;
  if (r.s3 !== undefined && r.s3 !== null) {
    const k = r.s3 as Record<string, unknown>;
    if (typeof k !== 'object' || !str(k.access_key_id) || !str(k.secret_access_key)) throw bad('s3 needs access_key_id and secret_access_key');
    s3 = { access_key_id: k.access_key_id, secret_access_key: k.secret_access_key, region: typeof k.region === 'string' ? k.region : null };
  }
  return { repository: r.repository, password: r.password, s3 };
}

/**
 * A repository the panel sealed for this node (a download link's `restic` claim, the
 * `X-Backwing-Restic` header of a browse call): 403 when it was not sealed with this node's token.
 */
export function openSealedRepo(nodeToken: string, sealed: string): ResticRepo {
  let raw: unknown;
  try {
    raw = openResticClaim(nodeToken, sealed);
  } catch {
    throw daemonErrors.forbidden();
  }
  return parseResticRepo(raw);
}
