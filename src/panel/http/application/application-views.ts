/**
 * Pterodactyl application API shapes (`{object, attributes}`), limited to what backwing manages;
 * fields upstream has but backwing does not model get their neutral upstream default so clients
 * that read them do not break.
 */
import type { PublicUser } from '../../services/users.service.ts';
import type { PublicNode } from '../../services/nodes.service.ts';
import type { PublicServer } from '../../services/servers.service.ts';

export function userObject(u: PublicUser) {
  return {
    object: 'user' as const,
    attributes: {
      id: u.id,
      external_id: null,
      uuid: u.uuid,
      username: u.username,
      email: u.email,
      first_name: '',
      last_name: '',
      language: 'en',
      root_admin: u.rootAdmin,
      '2fa': false,
      created_at: u.createdAt,
      updated_at: u.createdAt,
    },
  };
}

export function nodeObject(n: PublicNode) {
  const u = new URL(n.url);
  const scheme = u.protocol.replace(':', '');
  return {
    object: 'node' as const,
    attributes: {
      id: n.id,
      uuid: n.uuid,
      public: true,
      name: n.name,
      description: null,
      url: n.url,
      fqdn: u.hostname.replace(/^\[|\]$/g, ''),
      scheme,
      behind_proxy: false,
      maintenance_mode: n.maintenance,
      backup_ignore: n.backupIgnore,
      daemon_listen: u.port ? Number(u.port) : scheme === 'https' ? 443 : 80,
      created_at: n.createdAt,
      updated_at: n.createdAt,
    },
  };
}

/** `nest`: the server's egg's nest (0 when it has no egg or the egg none). */
export function serverObject(s: PublicServer, nest?: number) {
  return {
    object: 'server' as const,
    attributes: {
      id: s.id,
      external_id: null,
      uuid: s.uuid,
      identifier: s.identifier,
      name: s.name,
      description: '',
      status: s.status,
      suspended: s.status === 'suspended',
      limits: { memory: 0, swap: 0, disk: 0, io: 500, cpu: 0, threads: null, oom_disabled: true },
      feature_limits: { databases: 0, allocations: 0, backups: s.backupLimit, backup_bytes: s.backupBytesLimit },
      user: s.ownerId,
      node: s.nodeId,
      allocation: 0,
      nest: nest ?? 0,
      egg: s.eggId ?? 0,
      created_at: s.createdAt,
      updated_at: s.createdAt,
    },
  };
}

/** Fractal's paginator meta, as the client API uses it too. */
export function paginationMeta(opts: { total: number; count: number; page: number; perPage: number; baseUrl: string }) {
  const totalPages = Math.max(1, Math.ceil(opts.total / opts.perPage));
  const links: { previous?: string; next?: string } = {};
  if (opts.page > 1) links.previous = `${opts.baseUrl}?page=${opts.page - 1}`;
  if (opts.page < totalPages) links.next = `${opts.baseUrl}?page=${opts.page + 1}`;
  return {
    pagination: {
      total: opts.total,
      count: opts.count,
      per_page: opts.perPage,
      current_page: opts.page,
      total_pages: totalPages,
      links,
    },
  };
}
