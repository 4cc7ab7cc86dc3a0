import type { Logger } from '../../core/logger.ts';
import type { PanelConfig } from '../config.ts';
import type { DaemonClient, NodeConnection } from '../daemon-client/daemon-client.ts';
import type { TransactionRunner } from '../db/unit-of-work.ts';
import type { NodeRow } from '../db/schema.ts';
import type { Repos } from '../repositories/index.ts';
import type { S3BackupStore } from '../storage/s3-backup-store.ts';
import type { PanelMetrics } from './metrics.ts';
import type { SecretBox } from '../../core/secret-box.ts';

export type Clock = () => Date;

/** What every service may use. Services take this whole bag but only touch what they need. */
export interface ServiceDeps {
  config: PanelConfig;
  repos: Repos;
  tx: TransactionRunner;
  clock: Clock;
  logger: Logger;
  daemon: DaemonClient;
  /** Present when S3 is configured (AWS_BACKUPS_BUCKET set). */
  s3?: S3BackupStore;
  metrics: PanelMetrics;
  /** Seals secrets stored in the database (restic passwords); keyed by APP_KEY. */
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
