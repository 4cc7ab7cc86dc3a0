/**
 * `/api/application/destinations…` (backwing extension): backup destinations for root admins, and
 * their assignment to nodes and servers. Rules live in DestinationsService.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { PanelErrors } from '../../errors.ts';
import type { ApiKeysService } from '../../services/api-keys.service.ts';
import type { DestinationInput, DestinationsService, PublicDestination } from '../../services/destinations.service.ts';
import { publicDestination } from '../../services/destinations.service.ts';
import type { NodesService } from '../../services/nodes.service.ts';
import type { ServersService } from '../../services/servers.service.ts';
import { authenticateApplicationKey } from './application-auth.ts';
import { boolField, bodyOf, intField, stringField } from './application.routes.ts';
import { IdParams } from './application-schemas.ts';
import { AssignDestinationBody, DestinationAssignments, DestinationBody, DestinationList, DestinationObject, DestinationTestObject } from './destination-schemas.ts';

export interface DestinationRoutesDeps {
  apiKeys: ApiKeysService;
  /**
   * The web UI's admin page signs in with a browser session, not a `ptla_` key: without an
   * Authorization header the session (CSRF-checked) of a root admin is accepted too.
   */
  sessionAuth?: (request: FastifyRequest) => Promise<{ rootAdmin: boolean }>;
  destinations: DestinationsService;
  nodes: NodesService;
  servers: ServersService;
}

const view = (d: PublicDestination) => ({ object: 'destination' as const, attributes: d });

/** A destination reference: an id, uuid or name; null/"" = none. */
function refField(value: unknown, field: string): string | number | null | undefined {
  if (value === undefined) return undefined;
  if (value === null || value === '') return null;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string') return value.trim();
  throw PanelErrors.validation(field, 'string', `The ${field} must be a destination id, uuid or name.`);
}

function inputOf(request: FastifyRequest): { input: DestinationInput; copyTo: string | number | null | undefined } {
  const b = bodyOf(request);
  const partSize = b.part_size === null ? null : intField(b.part_size, 'part_size');
  return {
    input: {
      name: stringField(b.name, 'name'),
      kind: stringField(b.kind, 'kind'),
      endpoint: b.endpoint === null ? null : stringField(b.endpoint, 'endpoint'),
      region: b.region === null ? null : stringField(b.region, 'region'),
      bucket: b.bucket === null ? null : stringField(b.bucket, 'bucket'),
      prefix: b.prefix === null ? null : stringField(b.prefix, 'prefix'),
      accessKeyId: b.access_key_id === null ? null : stringField(b.access_key_id, 'access_key_id'),
      secretAccessKey: b.secret_access_key === null ? null : stringField(b.secret_access_key, 'secret_access_key'),
      pathStyle: boolField(b.path_style, 'path_style'),
      storageClass: b.storage_class === null ? null : stringField(b.storage_class, 'storage_class'),
      partSize,
      isDefault: boolField(b.is_default, 'is_default'),
      skipTest: boolField(b.skip_test, 'skip_test'),
      repository: b.repository === null ? null : stringField(b.repository, 'repository'),
    },
    copyTo: refField(b.copy_to, 'copy_to'),
  };
}

export const destinationRoutes: FastifyPluginAsync<{ deps: DestinationRoutesDeps }> = async (app: FastifyInstance, opts) => {
  const { destinations, nodes, servers } = opts.deps;

  app.addHook('onRequest', async (request) => {
    const { sessionAuth } = opts.deps;
    if (request.headers.authorization === undefined && sessionAuth) {
      if (!(await sessionAuth(request)).rootAdmin) throw PanelErrors.forbidden();
      return;
    }
    await authenticateApplicationKey(opts.deps.apiKeys, request);
  });

  async function withCopyTarget(r: { input: DestinationInput; copyTo: string | number | null | undefined }): Promise<DestinationInput> {
    if (r.copyTo === undefined) return r.input;
    if (r.copyTo === null) return { ...r.input, copyToId: null };
    const target = await destinations.find(r.copyTo).catch(() => {
      throw PanelErrors.validation('copy_to', 'exists', 'The copy_to destination does not exist.');
    });
    return { ...r.input, copyToId: target.id };
  }

  const idOf = (request: FastifyRequest) => (request.params as { id: string }).id;

  app.get('/destinations', { schema: { summary: 'List backup destinations (backwing)', response: { 200: DestinationList } } }, async () => {
    return { object: 'list', data: (await destinations.list()).map(view) };
  });

  app.get('/destinations/:id', { schema: { params: IdParams, summary: 'View a backup destination (id, uuid or name; backwing)', response: { 200: DestinationObject } } }, async (request) => {
    return view(publicDestination(await destinations.find(idOf(request))));
  });

  app.post('/destinations', { schema: { body: DestinationBody, summary: 'Create a backup destination; an S3 one is tested first (422 naming S3\'s error code) unless skip_test (backwing)', response: { 201: DestinationObject } } }, async (request, reply) => {
    return reply.code(201).send(view(await destinations.create(await withCopyTarget(inputOf(request)))));
  });

  app.patch('/destinations/:id', { schema: { params: IdParams, body: DestinationBody, summary: 'Change a backup destination (tested again when S3; backwing)', response: { 200: DestinationObject } } }, async (request) => {
    return view(await destinations.update(idOf(request), await withCopyTarget(inputOf(request))));
  });

  app.delete('/destinations/:id', { schema: { params: IdParams, summary: 'Delete a backup destination; 409 while it is the default, assigned, or holds backups (backwing)' } }, async (request, reply) => {
    await destinations.delete(idOf(request));
    return reply.code(204).send();
  });

  app.post('/destinations/:id/test', { schema: { params: IdParams, summary: 'Test a destination: list, write and delete a probe object, without retries (backwing)', response: { 200: DestinationTestObject } } }, async (request) => {
    return { object: 'destination_test', attributes: await destinations.test(idOf(request)) };
  });

  app.get('/destination-assignments', { schema: { summary: 'Every node\'s destination (null = the default) and the servers that override their node\'s (backwing)', response: { 200: DestinationAssignments } } }, async () => {
    return { object: 'destination_assignments', attributes: await destinations.assignments() };
  });

  app.put('/nodes/:id/destination', { schema: { params: IdParams, body: AssignDestinationBody, summary: 'Set where a node\'s backups go; null = the default destination (backwing)' } }, async (request, reply) => {
    const id = idOf(request);
    const node = /^\d+$/.test(id) ? await nodes.findById(Number(id)) : await nodes.find(id);
    if (!node) throw PanelErrors.resourceNotFound();
    await destinations.assignNode(node.id, refField(bodyOf(request).destination, 'destination') ?? null);
    return reply.code(204).send();
  });

  app.put('/servers/:id/destination', { schema: { params: IdParams, body: AssignDestinationBody, summary: 'Override where a server\'s backups go; null = its node\'s destination (backwing)' } }, async (request, reply) => {
    const id = idOf(request);
    const server = (/^\d+$/.test(id) ? await servers.findById(Number(id)) : undefined) ?? await servers.find(id);
    if (!server) throw PanelErrors.resourceNotFound();
    await destinations.assignServer(server.id, refField(bodyOf(request).destination, 'destination') ?? null);
    return reply.code(204).send();
  });
};
