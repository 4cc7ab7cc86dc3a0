import type { FastifyRequest } from 'fastify';
import { MAX_PAGE } from './route-values.ts';

export interface PaginationMeta {
  total: number;
  count: number;
  per_page: number;
  current_page: number;
  total_pages: number;
  links: { previous?: string; next?: string };
}

function positiveInt(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  if (typeof v === 'string' && /^\d+$/.test(v.trim()) && Number(v) > 0) return Number(v);
  return undefined;
}

/** `page` and `per_page` as upstream reads them: no validation, defaults on nonsense, capped. */
export function readPage(request: FastifyRequest, dflt: number, max: number): { page: number; perPage: number } {
  const q = (request.query ?? {}) as Record<string, unknown>;
  return { page: Math.min(positiveInt(q.page) ?? 1, MAX_PAGE), perPage: Math.min(positiveInt(q.per_page) ?? dflt, max) };
}

/** Fractal's pagination meta; links are absolute URLs with only `page` (as fractal does). */
export function paginationMeta(appUrl: string, path: string, page: number, perPage: number, total: number, count: number): PaginationMeta {
  const totalPages = Math.max(1, Math.ceil(total / perPage));
  const links: PaginationMeta['links'] = {};
  const base = `${appUrl}${path.split('?')[0]}`;
  if (page > 1) links.previous = `${base}?page=${page - 1}`;
  if (page < totalPages) links.next = `${base}?page=${page + 1}`;
  return { total, count, per_page: perPage, current_page: page, total_pages: totalPages, links };
}
