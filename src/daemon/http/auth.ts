import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { Secret } from '../../core/secret.ts';
import { daemonErrors } from '../errors.ts';

/**
 * Bearer check as Wings does it (split at the first space, scheme exactly "Bearer"), compared in
 * constant time. Both sides are hashed first so the comparison is over equal-length buffers and
 * the token's length does not leak either.
 */
export function bearerGuard(token: Secret) {
  const expected = createHash('sha256').update(token.reveal()).digest();
  return async (req: FastifyRequest): Promise<void> => {
    const header = req.headers.authorization;
    if (typeof header !== 'string') throw daemonErrors.missingAuth();
    const space = header.indexOf(' ');
    if (space < 0 || header.slice(0, space) !== 'Bearer' || header.length === space + 1) throw daemonErrors.missingAuth();
    const given = createHash('sha256').update(header.slice(space + 1)).digest();
    if (!timingSafeEqual(given, expected)) throw daemonErrors.forbidden();
  };
}
