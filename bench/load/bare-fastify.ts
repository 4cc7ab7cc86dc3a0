/**
 * The baseline of the load benchmark: a bare Fastify app with one route answering a small JSON
 * object, in its own process like the panel, so both are measured under the same conditions (and a
 * page-sized reference beside it).
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/bare', async () => ({ object: 'list', data: [{ object: 'backup', attributes: { uuid: '00000000-0000-0000-0000-000000000000', name: 'bare' } }] }));

// A second reference (the bar stays the route above): the same bytes as the panel's answer for one
// seeded server (10 backups, ~6.8 KB), from a constant, so the report separates what the payload
// costs (building and writing ~50× more JSON) from what the panel does (auth, limits, queries).
const at = '2026-10-28T21:39:09+00:00';
const page = {
  object: 'list',
  data: Array.from({ length: 10 }, (_, i) => ({
    object: 'backup',
    attributes: {
      uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, name: `backup ${i}`, ignored_files: [], is_successful: true, is_locked: i === 0,
      checksum: `sha256:${'ab'.repeat(32)}`, checksum_type: 'sha256', sha256_hash: 'ab'.repeat(32), bytes: 1_048_576 * (i + 1), created_at: at, completed_at: at,
      changed_files: null, failure_reason: null, has_index: false, destination: 'default', copies: 0, verified_at: null, verification: null, damage_reason: null,
      ignore_defaults: [], bytes_added: null, repository_size: null,
    },
  })),
  meta: { backup_count: 10, backup_bytes: 57_671_680, pagination: { total: 10, count: 10, per_page: 20, current_page: 1, total_pages: 1, links: {} } },
};
app.get('/bare-page', async () => page);
await app.listen({ host: '127.0.0.1', port: 0 });
const addr = app.server.address();
const port = typeof addr === 'object' && addr ? addr.port : 0;
process.stdout.write(`${JSON.stringify({ event: 'listening', url: `http://127.0.0.1:${port}`, port })}\n`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
