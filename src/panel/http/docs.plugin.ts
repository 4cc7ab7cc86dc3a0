/**
 * OpenAPI 3 document of the panel, generated from the route schemas (the same schemas that
 * validate requests), served at `/docs` (UI) and `/docs/json`. Must be registered before any route
 * so @fastify/swagger's onRoute hook sees them all.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { VERSION } from '../../core/version.ts';

export const docsPlugin: FastifyPluginAsync<{ appUrl?: string }> = async (app: FastifyInstance, opts) => {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'backwing panel API',
        version: VERSION,
        description:
          'Pterodactyl-compatible client API (`/api/client`, keys `ptlc_…`), application API for provisioning '
          + '(`/api/application`, keys `ptla_…` of a root admin), and the remote API daemons call (`/api/remote`, '
          + 'bearer `<token_id>.<token>` of a node). Errors are `{"errors":[{"code","status","detail"}]}`.',
      },
      servers: opts.appUrl ? [{ url: opts.appUrl }] : [],
      components: {
        securitySchemes: {
          clientKey: { type: 'http', scheme: 'bearer', description: 'Client API key `ptlc_…` (or the session cookie + X-XSRF-TOKEN)' },
          applicationKey: { type: 'http', scheme: 'bearer', description: 'Application API key `ptla_…` of a root admin' },
          nodeToken: { type: 'http', scheme: 'bearer', description: '`<daemon_token_id>.<daemon_token>` of a node' },
        },
      },
      tags: [
        { name: 'client', description: 'Client API (Pterodactyl-compatible)' },
        { name: 'backups', description: 'Server backups (client API)' },
        { name: 'subusers', description: 'Server subusers (client API)' },
        { name: 'notifications', description: 'Per-server notification webhooks (backwing extension)' },
        { name: 'application', description: 'Provisioning: users, nodes, servers' },
        { name: 'remote', description: 'Daemon → panel callbacks' },
      ],
    },
    // Security per route prefix, so route files need not repeat it.
    transform: ({ schema, url, route }) => {
      const s = { ...(schema ?? {}) } as Record<string, unknown>;
      if (url === '/metrics' || url.startsWith('/docs')) s.hide = true;
      if (!s.security) {
        if (url.startsWith('/api/application')) s.security = [{ applicationKey: [] }];
        else if (url.startsWith('/api/remote')) s.security = [{ nodeToken: [] }];
        else if (url.startsWith('/api/client')) s.security = [{ clientKey: [] }];
      }
      if (!s.tags) {
        if (url.startsWith('/api/application')) s.tags = ['application'];
        else if (url.startsWith('/api/remote')) s.tags = ['remote'];
        else if (url.includes('/backups')) s.tags = ['backups'];
        else if (url.includes('/users')) s.tags = ['subusers'];
        else if (url.startsWith('/api/client')) s.tags = ['client'];
      }
      void route;
      return { schema: s, url };
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
};
// The swagger hooks must see routes registered outside this plugin's scope.
(docsPlugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;

/**
 * The panel's OpenAPI document without listening: a throw-away in-memory panel is built so the
 * document comes from exactly the routes a real panel serves. Stable output (no server URL), so
 * a checked-in copy can be compared byte for byte.
 */
export async function buildPanelOpenApi(): Promise<object> {
  const [{ loadPanelConfig }, { openPanelContext }, { buildPanelApp }] = await Promise.all([
    import('../config.ts'),
    import('../context.ts'),
    import('./app.ts'),
  ]);
  const config = loadPanelConfig({ DATABASE_URL: 'sqlite::memory:', PANEL_WEB_DIST: '/nonexistent-web-dist' });
  const ctx = await openPanelContext(config);
  try {
    const app = await buildPanelApp(ctx, { docs: true });
    try {
      await app.ready();
      const doc = structuredClone(app.swagger()) as Record<string, unknown>;
      delete doc.servers;
      return doc;
    } finally {
      await app.close();
    }
  } finally {
    await ctx.close();
  }
}
