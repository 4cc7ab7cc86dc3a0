/**
 * Counters the services report to; the HTTP layer's /metrics plugin supplies a real implementation.
 * Kept as a tiny interface so services never import prom-client.
 */
export interface PanelMetrics {
  backupStarted(driver: string): void;
  backupFinished(e: { driver: string; successful: boolean; bytes: number; durationSeconds: number | null }): void;
  restoreFinished(successful: boolean): void;
  /** backwing: a restic repository check's result (per node). Optional: embedders' metrics may lack it. */
  resticCheck?(nodeUuid: string, ok: boolean): void;
  /** backwing: a restic destination repository check's result (per destination and node). */
  resticDestinationCheck?(destinationUuid: string, nodeUuid: string, ok: boolean): void;
}

export const noopMetrics: PanelMetrics = {
  backupStarted() {},
  backupFinished() {},
  restoreFinished() {},
};
