/** One place that knows how the panel speaks: cookies, the XSRF header, and its error bodies. */
import { parseRetryAfter, tryAgainSentence } from '../../../core/retry-after.ts';

export interface ApiErrorItem {
  code?: string;
  status?: string;
  detail?: string;
  /** 422 validation errors name the failing field (upstream's shape). */
  meta?: { rule?: string; source_field?: string };
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  readonly items: ApiErrorItem[];

  constructor(status: number, items: ApiErrorItem[], fallback: string, retryAfterSeconds: number | null = null) {
    const details = items.map((i) => i.detail).filter((d): d is string => typeof d === 'string' && d !== '');
    const base = details.length > 0 ? details.join(' ') : fallback;
    // A throttle refusal says when it will work, not only that it did not.
    super(retryAfterSeconds !== null ? `${base} ${tryAgainSentence(retryAfterSeconds)}` : base);
    this.name = 'ApiError';
    this.status = status;
    this.code = items[0]?.code;
    this.items = items;
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function readCookie(name: string, cookieHeader: string = document.cookie): string | null {
  for (const part of cookieHeader.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

/** Called on any 401 so the app can drop back to the sign-in page. */
let onUnauthorized: (() => void) | null = null;
export function setUnauthorizedHandler(fn: (() => void) | null): void {
  onUnauthorized = fn;
}

function statusWords(status: number): string {
  if (status === 0) return 'The panel could not be reached. Check your connection and try again.';
  if (status === 401) return 'You are signed out. Please sign in again.';
  if (status === 403) return 'You are not allowed to do that.';
  if (status === 404) return 'That could not be found.';
  if (status === 419) return 'Your session expired. Reload the page and try again.';
  if (status === 429) return 'Too many requests. Please wait a moment and try again.';
  if (status >= 500) return `The panel had a problem (HTTP ${status}). Please try again.`;
  return `The request failed (HTTP ${status}).`;
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (UNSAFE.has(method)) {
    const xsrf = readCookie('XSRF-TOKEN');
    if (xsrf !== null) headers['X-XSRF-TOKEN'] = xsrf;
  }
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, [], statusWords(0));
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown = undefined;
  if (text !== '') {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  if (!res.ok) {
    const items = Array.isArray((json as { errors?: unknown } | undefined)?.errors)
      ? ((json as { errors: ApiErrorItem[] }).errors)
      : [];
    const err = new ApiError(res.status, items, statusWords(res.status), parseRetryAfter(res.headers.get('Retry-After'), Date.now()));
    if (res.status === 401 && !path.startsWith('/auth/') && onUnauthorized) onUnauthorized();
    throw err;
  }
  return json as T;
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** 422 details keyed by the field they belong to, so a form can show each next to its input. */
export function fieldErrors(err: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!(err instanceof ApiError) || err.status !== 422) return out;
  for (const item of err.items) {
    const field = item.meta?.source_field;
    if (field && item.detail && !(field in out)) out[field] = item.detail;
  }
  return out;
}
