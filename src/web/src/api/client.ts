/** Typed calls to the panel's client API. Types only from src/wire: the bundle carries no server code. */
import type {
  BackupAttributes,
  BackupComparisonObject,
  BackupFileListResponse,
  BackupList,
  BackupObject,
  ServerAttributes,
  ServerObject,
  SignedUrl,
  WebsocketCredentials,
} from '../../../wire/client-api.ts';
import type { DaemonIgnoreFile } from '../../../wire/daemon-api.ts';
import type { DestinationAssignments, DestinationAttributes } from '../../../wire/destinations.ts';
import type {
  RetentionPolicyAttributes,
  RetentionPolicyObject,
  RetentionPreview,
  ScheduleAttributes,
  ScheduleList,
  ScheduleObject,
  TaskAttributes,
  TaskObject,
} from '../../../wire/schedules.ts';
import type { BackupControlObject, SaveHook } from '../../../wire/server-control.ts';
import type { NotificationWebhookList, NotificationWebhookObject } from '../../../wire/notifications.ts';
import { request } from './http.ts';

export type BackupControl = BackupControlObject['attributes'];
export type { SaveHook };
export type { DestinationAssignments, DestinationAttributes };
export type { BackupAttributes, RetentionPolicyAttributes, RetentionPreview, ScheduleAttributes, ServerAttributes, ServerObject, TaskAttributes };

export interface ScheduleBody {
  name: string;
  minute: string;
  hour: string;
  day_of_month: string;
  month: string;
  day_of_week: string;
  is_active: boolean;
}

export interface TaskBody {
  action: 'backup';
  payload: string;
  time_offset: number;
}

export interface User {
  uuid: string;
  email: string;
  username: string;
  root_admin: boolean;
}

export interface ServerListResponse {
  object: 'list';
  data: ServerObject[];
  meta?: { pagination?: { total: number; current_page: number; total_pages: number } };
}

export interface ActivityEntry {
  object?: string;
  attributes: {
    id?: string | number;
    event: string;
    description?: string | null;
    is_api?: boolean;
    properties?: Record<string, unknown>;
    timestamp?: string;
    created_at?: string;
    actor?: { uuid?: string; email?: string; username?: string } | null;
  };
}

export interface ActivityPage {
  data: ActivityEntry[];
  meta?: { pagination?: { current_page: number; total_pages: number; total: number } };
}

const s = (server: string) => `/api/client/servers/${encodeURIComponent(server)}`;
const sch = (server: string, id: number) => `${s(server)}/schedules/${id}`;
const b = (server: string, backup: string) => `${s(server)}/backups/${encodeURIComponent(backup)}`;

export const api = {
  login: (email: string, password: string) =>
    request<{ object: 'user'; attributes: User }>('POST', '/auth/login', { email, password }),
  logout: () => request<void>('POST', '/auth/logout'),
  account: () => request<{ object: 'user'; attributes: User }>('GET', '/api/client/account'),

  servers: () => request<ServerListResponse>('GET', '/api/client'),
  server: (server: string) => request<ServerObject>('GET', s(server)),
  websocket: (server: string) => request<WebsocketCredentials>('GET', `${s(server)}/websocket`),
  activity: (server: string, page = 1) => request<ActivityPage>('GET', `${s(server)}/activity?page=${page}&per_page=50`),

  backups: (server: string, page: number) => request<BackupList>('GET', `${s(server)}/backups?page=${page}`),
  backup: (server: string, uuid: string) => request<BackupObject>('GET', b(server, uuid)),
  createBackup: (server: string, body: { name: string | null; ignored: string | null; is_locked: boolean }) =>
    request<BackupObject>('POST', `${s(server)}/backups`, body),
  downloadUrl: (server: string, uuid: string) => request<SignedUrl>('GET', `${b(server, uuid)}/download`),
  toggleLock: (server: string, uuid: string) => request<BackupObject>('POST', `${b(server, uuid)}/lock`),
  restore: (server: string, uuid: string, truncate: boolean) =>
    request<void>('POST', `${b(server, uuid)}/restore`, { truncate }),
  deleteBackup: (server: string, uuid: string) => request<void>('DELETE', b(server, uuid)),
  backupFiles: (server: string, uuid: string, q: { path?: string; pattern?: string; page: number }) => {
    const query = new URLSearchParams({ page: String(q.page), per_page: '100', ...(q.pattern !== undefined ? { pattern: q.pattern } : { path: q.path ?? '' }) });
    return request<BackupFileListResponse>('GET', `${b(server, uuid)}/files${q.pattern !== undefined ? '/search' : ''}?${query}`);
  },
  compareBackups: (server: string, uuid: string, other: string, page: number) =>
    request<BackupComparisonObject>('GET', `${b(server, uuid)}/compare?${new URLSearchParams({ with: other, page: String(page), per_page: '100' })}`),
  backupFileUrl: (server: string, uuid: string, path: string) =>
    request<SignedUrl>('GET', `${b(server, uuid)}/files/download?${new URLSearchParams({ path })}`),
  restorePaths: (server: string, uuid: string, paths: string[], keepNewer: boolean) =>
    request<void>('POST', `${b(server, uuid)}/restore`, { truncate: false, paths, keep_newer: keepNewer }),
  cancelBackup: (server: string, uuid: string) => request<void>('POST', `${b(server, uuid)}/cancel`),
  verifyBackup: (server: string, uuid: string) => request<BackupObject>('POST', `${b(server, uuid)}/verify`),
  cancelRestore: (server: string) => request<void>('POST', `${s(server)}/restore/cancel`),
  ignoreFile: (server: string) => request<{ attributes: DaemonIgnoreFile & { node_defaults?: string[]; egg_defaults?: string[] } }>('GET', `${s(server)}/backups/ignore-file`),
  backupControl: (server: string) => request<BackupControlObject>('GET', `${s(server)}/backup-control`),
  saveBackupControl: (server: string, saveHook: SaveHook | null) =>
    request<BackupControlObject>('PUT', `${s(server)}/backup-control`, { save_hook: saveHook }),

  schedules: (server: string) => request<ScheduleList>('GET', `${s(server)}/schedules`),
  createSchedule: (server: string, body: ScheduleBody) => request<ScheduleObject>('POST', `${s(server)}/schedules`, body),
  updateSchedule: (server: string, id: number, body: ScheduleBody) => request<ScheduleObject>('POST', sch(server, id), body),
  deleteSchedule: (server: string, id: number) => request<void>('DELETE', sch(server, id)),
  executeSchedule: (server: string, id: number) => request<void>('POST', `${sch(server, id)}/execute`),
  createTask: (server: string, id: number, body: TaskBody) => request<TaskObject>('POST', `${sch(server, id)}/tasks`, body),
  updateTask: (server: string, id: number, task: number, body: TaskBody) =>
    request<TaskObject>('POST', `${sch(server, id)}/tasks/${task}`, body),

  webhooks: (server: string) => request<NotificationWebhookList>('GET', `${s(server)}/notifications/webhooks`),
  addWebhook: (server: string, body: { url: string; secret?: string; format: 'generic' | 'discord' }) =>
    request<NotificationWebhookObject>('POST', `${s(server)}/notifications/webhooks`, body),
  removeWebhook: (server: string, uuid: string) => request<void>('DELETE', `${s(server)}/notifications/webhooks/${encodeURIComponent(uuid)}`),
  retention: (server: string) => request<RetentionPolicyObject>('GET', `${s(server)}/backups/retention`),
  saveRetention: (server: string, policy: RetentionPolicyAttributes) =>
    request<RetentionPolicyObject>('PUT', `${s(server)}/backups/retention`, policy),
  previewRetention: (server: string, policy: RetentionPolicyAttributes) =>
    request<RetentionPreview>('POST', `${s(server)}/backups/retention/preview`, policy),

  // Admin (root admins; backwing): backup destinations, docs/destinations.md.
  destinations: () => request<{ object: 'list'; data: DestinationObject[] }>('GET', '/api/application/destinations'),
  createDestination: (body: DestinationInput) => request<DestinationObject>('POST', '/api/application/destinations', body),
  testDestination: (id: number) => request<{ attributes: { ok: boolean; s3_error: string | null; message: string } }>('POST', `/api/application/destinations/${id}/test`),
  deleteDestination: (id: number) => request<void>('DELETE', `/api/application/destinations/${id}`),
  destinationAssignments: () => request<DestinationAssignments>('GET', '/api/application/destination-assignments'),
  /** `destination` null: the node uses the default, the server its node's. */
  assignNodeDestination: (node: number, destination: number | null) => request<void>('PUT', `/api/application/nodes/${node}/destination`, { destination }),
  assignServerDestination: (server: string, destination: number | null) => request<void>('PUT', `/api/application/servers/${encodeURIComponent(server)}/destination`, { destination }),
};

export interface DestinationObject {
  object: 'destination';
  attributes: DestinationAttributes;
}

export interface DestinationInput {
  name: string;
  kind: 'local' | 's3' | 'restic';
  endpoint?: string;
  region?: string;
  bucket?: string;
  prefix?: string;
  access_key_id?: string;
  secret_access_key?: string;
  path_style?: boolean;
  /** restic kind: a path on the node or s3:https://host/bucket[/prefix]. */
  repository?: string;
}
