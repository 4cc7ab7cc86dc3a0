import type { Logger } from '../../core/logger.ts';
import type { DaemonConfig } from '../config.ts';
import type { DaemonMetrics } from '../metrics.ts';
import type { EventHub } from '../ws/event-hub.ts';
import type { BackupService } from '../services/backup.service.ts';
import type { RestoreService } from '../services/restore.service.ts';
import type { VerifyService } from '../services/verify.service.ts';
import type { BackupCopyService } from '../services/backup-copy.ts';
import type { BackupStore } from '../services/backup-store.ts';
import type { ServerRegistry } from '../services/server-registry.ts';
import type { ServerControl } from '../control/server-control.ts';
import type { BrowseService } from '../services/browse.service.ts';
import type { InventoryService } from '../services/inventory.service.ts';
import type { OneTimeIds, TokenVerifier } from '../services/token-verifier.ts';
import type { ResticService } from '../restic/restic-service.ts';

/** What the HTTP layer may call. Routes stay thin: rules live in these services. */
export interface DaemonHttpDeps {
  config: DaemonConfig;
  logger: Logger;
  registry: ServerRegistry;
  backups: BackupService;
  restores: RestoreService;
  verifications: VerifyService;
  /** Uploads of local archives for copies (backwing). */
  copies: BackupCopyService;
  store: BackupStore;
  control: ServerControl;
  inventory: InventoryService;
  browse: BrowseService;
  verifier: TokenVerifier;
  downloadIds: OneTimeIds;
  hub: EventHub;
  metrics: DaemonMetrics;
  restic: ResticService;
  startedAt: number;
}
