/**
 * The baseline of the load benchmark: a bare Fastify app with one route answering a small JSON
 * object, in its own process like the panel, so both are measured under the same conditions.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/bare', async () => ({ object: 'list', data: [{ object: 'backup', attributes: { uuid: '00000000-0000-0000-0000-000000000000', name: 'bare' } }] }));
await app.listen({ host: '127.0.0.1', port: 0 });
const addr = app.server.address();
const port = typeof addr === 'object' && addr ? addr.port : 0;
process.stdout.write(`${JSON.stringify({ event: 'listening', url: `http://127.0.0.1:${port}`, port })}\n`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
