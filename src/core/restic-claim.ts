/**
 * A restic backup's download link must tell the daemon which repository to read and with what
 * password, yet the daemon keeps no repository credentials and a link is seen by browsers and
 * proxies. The panel seals the credentials into the link's JWT with a key derived from the node
 * token (the one secret panel and daemon already share); only that daemon can open them.
 */
import { createHash } from 'node:crypto';
import { SecretBox } from './secret-box.ts';

function boxFor(nodeToken: string): SecretBox {
  return new SecretBox([createHash('sha256').update('backwing restic download claim\0').update(nodeToken).digest()]);
}

export function sealResticClaim(nodeToken: string, repo: unknown): string {
  return boxFor(nodeToken).seal(JSON.stringify(repo));
}

/** The repository object sealed by `sealResticClaim`; throws when it was not sealed for this token. */
export function openResticClaim(nodeToken: string, sealed: string): unknown {
  return JSON.parse(boxFor(nodeToken).open(sealed)) as unknown;
}
