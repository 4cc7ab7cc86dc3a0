/** Typed calls to the panel's client API. Types only from src/wire: the bundle carries no server code. */
import type {
  BackupAttributes,
  BackupList,
  BackupObject,
  ServerAttributes,
  ServerObject,
  SignedUrl,
  WebsocketCredentials,
} from '../../../wire/client-api.ts';
import { request } from './http.ts';

export type { BackupAttributes, ServerAttributes, ServerObject };

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
    properties?: Record<string, unknown>;
    timestamp?: string;
    created_at?: string;
  };
}

const s = (server: string) => `/api/client/servers/${encodeURIComponent(server)}`;
const b = (server: string, backup: string) => `${s(server)}/backups/${encodeURIComponent(backup)}`;

export const api = {
  login: (email: string, password: string) =>
    request<{ object: 'user'; attributes: User }>('POST', '/auth/login', { email, password }),
  logout: () => request<void>('POST', '/auth/logout'),
  account: () => request<{ object: 'user'; attributes: User }>('GET', '/api/client/account'),

  servers: () => request<ServerListResponse>('GET', '/api/client'),
  server: (server: string) => request<ServerObject>('GET', s(server)),
  websocket: (server: string) => request<WebsocketCredentials>('GET', `${s(server)}/websocket`),
  activity: (server: string) => request<{ data: ActivityEntry[] }>('GET', `${s(server)}/activity`),

  backups: (server: string, page: number) => request<BackupList>('GET', `${s(server)}/backups?page=${page}`),
  backup: (server: string, uuid: string) => request<BackupObject>('GET', b(server, uuid)),
  createBackup: (server: string, body: { name: string | null; ignored: string | null; is_locked: boolean }) =>
    request<BackupObject>('POST', `${s(server)}/backups`, body),
  downloadUrl: (server: string, uuid: string) => request<SignedUrl>('GET', `${b(server, uuid)}/download`),
  toggleLock: (server: string, uuid: string) => request<BackupObject>('POST', `${b(server, uuid)}/lock`),
  restore: (server: string, uuid: string, truncate: boolean) =>
    request<void>('POST', `${b(server, uuid)}/restore`, { truncate }),
  deleteBackup: (server: string, uuid: string) => request<void>('DELETE', b(server, uuid)),
};
