import { SecretBox, SecretBoxError } from '../../core/secret-box.ts';
import type { Repos } from '../repositories/index.ts';
import type { ServiceDeps } from './deps.ts';

/**
 * Every column holding a secret sealed with APP_KEY. A developer who stores a new sealed secret
 * (destination credentials, restic passwords) adds its column here, so `backwing admin key rotate`
 * re-seals it too.
 */
export interface SealedColumn {
  name: string;
  list(repos: Repos): Promise<Array<{ id: number; value: string }>>;
  set(repos: Repos, id: number, sealed: string): Promise<void>;
}

export const SEALED_COLUMNS: SealedColumn[] = [
  {
    name: 'nodes.daemon_token',
    list: async (r) => (await r.nodes.storedTokens()).map((n) => ({ id: n.id, value: n.daemon_token })),
    set: (r, id, sealed) => r.nodes.setStoredToken(id, sealed),
  },
  {
    name: 'notification_webhooks.secret',
    list: async (r) => (await r.notifications.storedWebhookSecrets()).map((w) => ({ id: w.id, value: w.secret })),
    set: (r, id, sealed) => r.notifications.setStoredWebhookSecret(id, sealed),
  },
  {
    name: 'destinations.secret_access_key',
    list: async (r) => (await r.destinations.storedSecrets()).map((d) => ({ id: d.id, value: d.secret_access_key })),
    set: (r, id, sealed) => r.destinations.setStoredSecret(id, sealed),
  },
  {
    name: 'destinations.restic_password',
    list: (r) => r.destinations.storedResticPasswords(),
    set: (r, id, sealed) => r.destinations.setStoredResticPassword(id, sealed),
  },
  ...(['password', 's3_secret_access_key'] as const).map((column): SealedColumn => ({
    name: `node_restic.${column}`,
    list: (r) => r.nodeRestic.storedSecrets(column),
    set: (r, id, sealed) => r.nodeRestic.setStoredSecret(id, column, sealed),
  })),
];

export interface RotationReport {
  /** Values re-sealed under the current APP_KEY (sealed by a previous key, or stored in clear). */
  resealed: number;
  /** Values already sealed by the current key. */
  current: number;
  columns: Array<{ name: string; resealed: number; current: number }>;
}

/**
 * Re-seals every stored secret under the current APP_KEY, in one transaction: a value no key
 * opens (its key missing from APP_PREVIOUS_KEYS) stops the rotation with nothing changed.
 */
export class KeyRotationService {
  constructor(private readonly d: ServiceDeps, private readonly columns: readonly SealedColumn[] = SEALED_COLUMNS) {}

  async rotate(): Promise<RotationReport> {
    const box = this.d.secrets;
    return this.d.tx(async (repos) => {
      const report: RotationReport = { resealed: 0, current: 0, columns: [] };
      for (const col of this.columns) {
        let resealed = 0;
        let current = 0;
        for (const { id, value } of await col.list(repos)) {
          if (SecretBox.isSealed(value) && !box.isStale(value)) {
            current++;
            continue;
          }
          let plain: string;
          try {
            plain = SecretBox.isSealed(value) ? box.open(value) : value;
          } catch (err) {
            throw new SecretBoxError(`${col.name} of row ${id}: ${(err as Error).message}; nothing was changed`);
          }
          await col.set(repos, id, box.seal(plain));
          resealed++;
        }
        report.columns.push({ name: col.name, resealed, current });
        report.resealed += resealed;
        report.current += current;
      }
      return report;
    });
  }
}
