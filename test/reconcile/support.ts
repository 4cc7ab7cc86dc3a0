/**
 * A panel that can "die" between two writes and come back on the same database and port, next to
 * the harness's real daemon. The death is the crash seam (src/core/crash-points.ts): the flow stops
 * for good at the named point, the panel's connections are cut and its database handle closed, and
 * a new panel context is opened, as after `kill -9` and a restart.
 */
import type { FastifyInstance } from 'fastify';
import { silentLogger } from '../../src/core/logger.ts';
import { armCrashPoint, type CrashPointName } from '../../src/core/crash-points.ts';
import { openPanelContext, type PanelContext } from '../../src/panel/context.ts';
import { buildPanelApp } from '../../src/panel/http/app.ts';
import type { Harness } from '../panel/support/harness.ts';

export interface LivePanel {
  ctx: PanelContext;
  app: FastifyInstance;
}

async function kill(p: LivePanel): Promise<void> {
  p.app.server.closeAllConnections();
  await p.app.close().catch(() => undefined);
  await p.ctx.close().catch(() => undefined);
}

/** Opens a panel on the harness's database and port (the daemon reports to that URL). */
export async function restartPanel(h: Harness, previous: LivePanel): Promise<LivePanel> {
  await kill(previous);
  const ctx = await openPanelContext(h.config, { logger: silentLogger() });
  const app = await buildPanelApp(ctx, { docs: false });
  await app.listen({ host: '127.0.0.1', port: new URL(h.url).port ? Number(new URL(h.url).port) : 0 });
  return { ctx, app };
}

/**
 * Runs `request` with `point` armed, waits until the flow stops there, then restarts the panel.
 * The request itself never gets an answer (its connection is cut), as with a real crash.
 */
export async function crashAt(h: Harness, live: LivePanel, point: CrashPointName, request: () => Promise<unknown>): Promise<LivePanel> {
  let hit!: () => void;
  const reached = new Promise<void>((r) => { hit = r; });
  const disarm = armCrashPoint(point, hit);
  const answered = request().then(() => 'answered', () => 'cut');
  try {
    const first = await Promise.race([reached.then(() => 'reached' as const), answered]);
    if (first !== 'reached') throw new Error(`the request finished without reaching ${point}`);
  } finally {
    disarm();
  }
  return restartPanel(h, live);
}

/** `h.server` through the live panel (the harness's own context may have "died"). */
export async function liveServer(h: Harness, live: LivePanel, backupLimit = 10): Promise<import('../../src/panel/db/schema.ts').ServerRow> {
  const s = await live.ctx.services.servers.create({ name: 'srv', ownerId: h.owner.id, nodeId: h.node.id, backupLimit });
  return (await live.ctx.repos.servers.findById(s.id))!;
}
