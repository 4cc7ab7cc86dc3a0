import type { Logger } from '../../core/logger.ts';
import type { SecretBox } from '../../core/secret-box.ts';
import type { PanelConfig } from '../config.ts';
import type { DaemonClient, NodeConnection } from '../daemon-client/daemon-client.ts';
import type { TransactionRunner } from '../db/unit-of-work.ts';
import type { NodeRow } from '../db/schema.ts';
import type { Repos } from '../repositories/index.ts';
import type { DestinationStores } from './destination-stores.ts';
import type { PanelMetrics } from './metrics.ts';

export type Clock = () => Date;

/** What every service may use. Services take this whole bag but only touch what they need. */
export interface ServiceDeps {
  config: PanelConfig;
  repos: Repos;
  tx: TransactionRunner;
  clock: Clock;
  logger: Logger;
  daemon: DaemonClient;
  /** The S3 client of each destination, built on first use. */
  stores: DestinationStores;
  metrics: PanelMetrics;
  /** Seals/opens stored secrets with APP_KEY (src/panel/app-key.ts decides the key). */
  secrets: SecretBox;
}

/** The panel's timestamp format in storage: ISO-8601 UTC with milliseconds, so text order = time order. */
export function isoNow(clock: Clock): string {
  return clock().toISOString();
}

export function nodeConnection(node: NodeRow): NodeConnection {
  return { url: node.url, token: node.daemon_token };
}

/** Who is acting, for authorisation and the activity log. */
export interface Actor {
  userId: number;
  userUuid: string;
  rootAdmin: boolean;
  apiKeyId: number | null;
  ip: string | null;
}
