import type { FastifyRequest } from 'fastify';
import { PanelErrors } from '../../errors.ts';
import type { ApiKeysService, AuthenticatedKey } from '../../services/api-keys.service.ts';

/**
 * Application API authentication, as upstream: only an application key (`ptla_…`) of a root admin.
 * A client key is told so (403, upstream's message); no key or an unknown key is 401.
 */
export async function authenticateApplicationKey(apiKeys: ApiKeysService, request: FastifyRequest): Promise<AuthenticatedKey> {
  const header = request.headers.authorization;
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!m) throw PanelErrors.unauthenticated();
  const key = await apiKeys.authenticate(m[1]!);
  if (!key) throw PanelErrors.unauthenticated();
  if (key.type !== 'application') throw PanelErrors.clientKeyOnApplicationRoute();
  if (!key.user.rootAdmin) throw PanelErrors.forbidden();
  return key;
}

/** A browser session's root-admin flag (the web UI's admin pages sign in with a session, not a key). */
export type AdminSessionAuth = (request: FastifyRequest) => Promise<{ rootAdmin: boolean }>;

/**
 * An application key, or, without an Authorization header, the (CSRF-checked) session of a root
 * admin when the routes accept one: the admin pages of the web UI call the application API so.
 */
export async function authenticateAdmin(apiKeys: ApiKeysService, sessionAuth: AdminSessionAuth | undefined, request: FastifyRequest): Promise<void> {
  if (request.headers.authorization === undefined && sessionAuth) {
    if (!(await sessionAuth(request)).rootAdmin) throw PanelErrors.forbidden();
    return;
  }
  await authenticateApplicationKey(apiKeys, request);
}
