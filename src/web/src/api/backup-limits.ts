/**
 * The application API calls of the admin "Backup limits" page (issue 17): per-server quota beside
 * the count limit, node and game type (egg) default ignore patterns. The page signs in with the
 * admin's session (the application API accepts a root admin's session without a key).
 */
import { request } from './http.ts';

export interface AdminServer {
  id: number;
  identifier: string;
  name: string;
  egg: number;
  feature_limits: { backups: number; backup_bytes?: number | null };
}
export interface AdminNode {
  id: number;
  name: string;
  backup_ignore?: string | null;
}
export interface AdminEgg {
  id: number;
  nest: number;
  name: string;
  backup_ignore: string | null;
}

type List<T> = { object: 'list'; data: Array<{ attributes: T }> };
const app = '/api/application';

export const adminApi = {
  servers: async () => (await request<List<AdminServer>>('GET', `${app}/servers?per_page=100`)).data.map((s) => s.attributes),
  nodes: async () => (await request<List<AdminNode>>('GET', `${app}/nodes?per_page=100`)).data.map((n) => n.attributes),
  eggs: async () => (await request<List<AdminEgg>>('GET', `${app}/eggs`)).data.map((e) => e.attributes),
  setLimits: (id: number, backups: number, backupBytes: number | null) =>
    request<{ attributes: AdminServer }>('PATCH', `${app}/servers/${id}/build`, { feature_limits: { backups, backup_bytes: backupBytes } }),
  setServerEgg: (id: number, egg: number) => request<{ attributes: AdminServer }>('PATCH', `${app}/servers/${id}/startup`, { egg }),
  setNodeIgnore: (id: number, patterns: string) => request<{ attributes: AdminNode }>('PUT', `${app}/nodes/${id}/backup-ignore`, { patterns }),
  setEgg: (id: number, body: { name?: string; nest?: number; backup_ignore?: string | null }) => request<{ attributes: AdminEgg }>('PUT', `${app}/eggs/${id}`, body),
};
