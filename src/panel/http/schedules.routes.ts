import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ScheduleBody, ScheduleList, ScheduleObject, TaskBody, TaskObject } from '../../wire/schedules.ts';
import type { PanelContext } from '../context.ts';
import type { ScheduleRow } from '../db/schedules.schema.ts';
import { requirePermission } from '../services/access.ts';
import { scheduleModuleFor } from '../scheduler/schedule-module.ts';
import { dbIdOf } from './route-values.ts';
import { installMultiValidationErrors } from './schedule-errors.ts';
import { scopeOf, serverScopeHook } from './server-scope.ts';

const ServerParams = Type.Object({ server: Type.String() });
const ScheduleParams = Type.Object({ server: Type.String(), schedule: Type.String() });
const TaskParams = Type.Object({ server: Type.String(), schedule: Type.String(), task: Type.String() });

declare module 'fastify' {
  interface FastifyRequest {
    schedule?: ScheduleRow;
  }
}

const idOf = (v: string | undefined) => dbIdOf(v) ?? Number.NaN;

/** Pterodactyl's schedule and task routes under /api/client/servers/{server}/schedules. */
export async function scheduleRoutes(app: FastifyInstance, opts: { ctx: PanelContext }): Promise<void> {
  const { ctx } = opts;
  const svc = scheduleModuleFor(ctx).schedules;
  const base = '/api/client/servers/:server/schedules';
  installMultiValidationErrors(app);

  /** Server scope, then the schedule bound to that server (404), then the permission (403). */
  const scheduleScope = (permission: string) => [
    serverScopeHook(ctx),
    async (request: FastifyRequest) => {
      const scope = scopeOf(request);
      request.schedule = await svc.find(scope.server, idOf((request.params as { schedule: string }).schedule));
      requirePermission(scope.access, permission);
    },
  ];
  const log = (request: FastifyRequest, event: string, properties: Record<string, unknown>, schedule: ScheduleRow) => {
    const scope = scopeOf(request);
    return ctx.services.activity.log({ event, actor: scope.auth.actor, properties, subjects: [{ type: 'schedule', id: schedule.id }, { type: 'server', id: scope.server.id }] });
  };

  app.get(base, {
    schema: { tags: ['schedules'], params: ServerParams, response: { 200: ScheduleList } },
    preValidation: serverScopeHook(ctx, { permission: 'schedule.read' }),
  }, async (request) => ({ object: 'list' as const, data: await svc.list(scopeOf(request).server) }));

  app.post(base, {
    schema: { tags: ['schedules'], params: ServerParams, body: ScheduleBody, response: { 200: ScheduleObject } },
    preValidation: serverScopeHook(ctx, { permission: 'schedule.create' }),
  }, async (request) => {
    const { object, row } = await svc.create(scopeOf(request).server, request.body);
    await log(request, 'server:schedule.create', { name: row.name }, row);
    return object;
  });

  app.get(`${base}/:schedule`, {
    schema: { tags: ['schedules'], params: ScheduleParams, response: { 200: ScheduleObject } },
    preValidation: scheduleScope('schedule.read'),
  }, async (request) => svc.view(scopeOf(request).server, request.schedule!.id));

  // Upstream updates with POST; PUT and PATCH are accepted as well.
  for (const method of ['post', 'put', 'patch'] as const) {
    app[method](`${base}/:schedule`, {
      schema: { tags: ['schedules'], params: ScheduleParams, body: ScheduleBody, response: { 200: ScheduleObject } },
      preValidation: scheduleScope('schedule.update'),
    }, async (request) => {
      const { object, row } = await svc.update(scopeOf(request).server, request.schedule!.id, request.body);
      await log(request, 'server:schedule.update', { name: row.name, active: row.is_active === 1 }, row);
      return object;
    });
  }

  app.delete(`${base}/:schedule`, {
    schema: { tags: ['schedules'], params: ScheduleParams, response: { 204: Type.Null() } },
    preValidation: scheduleScope('schedule.delete'),
  }, async (request, reply) => {
    const row = await svc.delete(scopeOf(request).server, request.schedule!.id);
    await log(request, 'server:schedule.delete', { name: row.name }, row);
    return reply.code(204).send();
  });

  app.post(`${base}/:schedule/execute`, {
    schema: { tags: ['schedules'], params: ScheduleParams },
    preValidation: scheduleScope('schedule.update'),
  }, async (request, reply) => {
    const scope = scopeOf(request);
    // The run logs server:schedule.execute itself (with this actor), once.
    const { row, done } = await svc.executeNow(scope.server, request.schedule!.id, scope.auth.actor);
    // The run continues after the response; its own failures land in the activity log.
    void done.catch((err) => request.log.error({ err, schedule_id: row.id }, 'manual schedule run failed'));
    return reply.code(202).type('application/json').send('[]');
  });

  app.post(`${base}/:schedule/tasks`, {
    schema: { tags: ['schedules'], params: ScheduleParams, body: TaskBody, response: { 200: TaskObject } },
    preValidation: scheduleScope('schedule.update'),
  }, async (request) => {
    const { object, schedule, row } = await svc.createTask(scopeOf(request).server, request.schedule!.id, request.body);
    await log(request, 'server:task.create', { name: schedule.name, action: row.action, payload: row.payload }, schedule);
    return object;
  });

  for (const method of ['post', 'put', 'patch'] as const) {
    app[method](`${base}/:schedule/tasks/:task`, {
      schema: { tags: ['schedules'], params: TaskParams, body: TaskBody, response: { 200: TaskObject } },
      preValidation: scheduleScope('schedule.update'),
    }, async (request) => {
      const taskId = idOf((request.params as { task: string }).task);
      const { object, schedule, row } = await svc.updateTask(scopeOf(request).server, request.schedule!.id, taskId, request.body);
      await log(request, 'server:task.update', { name: schedule.name, action: row.action, payload: row.payload }, schedule);
      return object;
    });
  }

  app.delete(`${base}/:schedule/tasks/:task`, {
    schema: { tags: ['schedules'], params: TaskParams, response: { 204: Type.Null() } },
    preValidation: scheduleScope('schedule.update'),
  }, async (request, reply) => {
    const taskId = idOf((request.params as { task: string }).task);
    const { schedule, row } = await svc.deleteTask(scopeOf(request).server, request.schedule!.id, taskId);
    await log(request, 'server:task.delete', { name: schedule.name, action: row.action }, schedule);
    return reply.code(204).send();
  });
}
