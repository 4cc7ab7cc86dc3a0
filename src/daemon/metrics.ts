/**
 * Prometheus metrics. One registry per daemon instance (never prom-client's global default) so
 * several daemons in one process — tests, `backwing up` — do not collide.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface DaemonMetrics {
  registry: Registry;
  backups: Counter<'adapter' | 'outcome'>;
  restores: Counter<'adapter' | 'outcome'>;
  backupBytes: Counter;
  backupDuration: Histogram;
  restoreDuration: Histogram;
  jobsRunning: Gauge<'kind'>;
  reportQueueDepth: Gauge;
  reportRetries: Counter;
  /** backwing: restic prune/check runs by outcome. */
  resticMaintenance: Counter<'action' | 'outcome'>;
}

export function createDaemonMetrics(): DaemonMetrics {
  const registry = new Registry();
  const buckets = [1, 5, 15, 60, 300, 900, 3600, 4 * 3600];
  return {
    registry,
    backups: new Counter({ name: 'backwing_daemon_backups_total', help: 'Finished backups', labelNames: ['adapter', 'outcome'], registers: [registry] }),
    restores: new Counter({ name: 'backwing_daemon_restores_total', help: 'Finished restores', labelNames: ['adapter', 'outcome'], registers: [registry] }),
    backupBytes: new Counter({ name: 'backwing_daemon_backup_bytes_total', help: 'Compressed bytes of successful backups', registers: [registry] }),
    backupDuration: new Histogram({ name: 'backwing_daemon_backup_duration_seconds', help: 'Backup wall time', buckets, registers: [registry] }),
    restoreDuration: new Histogram({ name: 'backwing_daemon_restore_duration_seconds', help: 'Restore wall time', buckets, registers: [registry] }),
    jobsRunning: new Gauge({ name: 'backwing_daemon_jobs_running', help: 'Jobs in progress', labelNames: ['kind'], registers: [registry] }),
    reportQueueDepth: new Gauge({ name: 'backwing_daemon_report_queue_depth', help: 'Reports waiting for the panel', registers: [registry] }),
    reportRetries: new Counter({ name: 'backwing_daemon_report_retries_total', help: 'Failed report deliveries that will be retried', registers: [registry] }),
    resticMaintenance: new Counter({ name: 'backwing_daemon_restic_maintenance_total', help: 'restic prune/check runs', labelNames: ['action', 'outcome'], registers: [registry] }),
  };
}
