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
