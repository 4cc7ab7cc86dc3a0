/**
 * Restore downloads fetch a URL the panel hands us; a compromised or careless panel must not turn
 * that into a probe of the node's own network. Every address is checked: the literal host, every
 * DNS answer at connect time (a custom `lookup`, so a rebinding name cannot pass one check and
 * connect elsewhere), and every redirect hop. The allow-list (hostnames, IPs, CIDRs) opts out.
 */
import { BlockList, isIP } from 'node:net';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { daemonErrors, DaemonMessages } from '../errors.ts';

const BLOCKED = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this network", incl. the unspecified address
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // CGNAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, incl. cloud metadata 169.254.169.254
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved + broadcast
] as const) BLOCKED.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 96], // unspecified, loopback and the deprecated IPv4-compatible ::a.b.c.d
  ['100::', 64], // discard-only
  ['fec0::', 10], // deprecated site-local
  ['fe80::', 10],
  ['fc00::', 7],
  ['ff00::', 8],
  ['64:ff9b::', 96], // NAT64 can reach IPv4 internals
  ['2001:db8::', 32],
] as const) BLOCKED.addSubnet(net, bits, 'ipv6');

/** IPv4-mapped IPv6 (::ffff:10.0.0.1) must be judged as the IPv4 address it is. */
function normalise(ip: string): { ip: string; family: 'ipv4' | 'ipv6' } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return { ip: mapped[1]!, family: 'ipv4' };
  return { ip, family: isIP(ip) === 6 ? 'ipv6' : 'ipv4' };
}

export function isBlockedAddress(ip: string): boolean {
  const n = normalise(ip);
  return BLOCKED.check(n.ip, n.family);
}

export class HostAllowlist {
  readonly #hosts = new Set<string>();
  readonly #nets = new BlockList();

  constructor(entries: readonly string[]) {
    for (const e of entries) {
      const slash = e.indexOf('/');
      if (slash >= 0) {
        const ip = e.slice(0, slash);
        this.#nets.addSubnet(ip, Number(e.slice(slash + 1)), isIP(ip) === 6 ? 'ipv6' : 'ipv4');
      } else if (isIP(e)) {
        const n = normalise(e);
        this.#nets.addAddress(n.ip, n.family);
      } else {
        this.#hosts.add(e.toLowerCase());
      }
    }
  }

  allowsHost(hostname: string): boolean {
    return this.#hosts.has(hostname.toLowerCase());
  }

  allowsIp(ip: string): boolean {
    const n = normalise(ip);
    return this.#nets.check(n.ip, n.family);
  }
}

class BlockedAddressError extends Error {
  readonly code = 'E_BLOCKED_ADDRESS';
}

function ipAllowed(ip: string, allow: HostAllowlist): boolean {
  return allow.allowsIp(ip) || !isBlockedAddress(ip);
}

/**
 * A name is refused when ANY of its answers is blocked: the connection may go to any of them
 * (happy eyeballs tries several), so one public answer must not launder a private one.
 */
export function answersAllowed(addresses: readonly LookupAddress[], allow: HostAllowlist): boolean {
  return addresses.length > 0 && addresses.every((a) => ipAllowed(a.address, allow));
}

export interface GuardedResponse {
  status: number;
  contentType: string;
  /** The announced body length, or null when the server did not say (chunked). */
  contentLength: number | null;
  /** The `Content-Range` header of a 206, else null. */
  contentRange: string | null;
  body: Readable;
}

export interface GuardedGetOptions {
  allowlist: HostAllowlist;
  signal?: AbortSignal;
  /** Connect + response headers, per hop. */
  headersTimeoutMs?: number;
  /** Longest silence allowed while the body streams. */
  idleTimeoutMs?: number;
  maxRedirects?: number;
  /** A `Range` header value (backwing: reading parts of an S3 archive through its index). */
  range?: string;
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Parses a restore link: 400 unless it is an absolute http(s) URL with a host. */
export function checkUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw daemonErrors.downloadSource(DaemonMessages.badDownloadUrl);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw daemonErrors.downloadSource(DaemonMessages.downloadUrlScheme);
  if (!url.hostname) throw daemonErrors.downloadSource(DaemonMessages.badDownloadUrl);
  return url;
}

function requestOnce(url: URL, opts: Required<Omit<GuardedGetOptions, 'signal'>> & { signal?: AbortSignal }): Promise<http.IncomingMessage> {
  const host = stripBrackets(url.hostname);
  const hostAllowed = opts.allowlist.allowsHost(host);
  if (isIP(host) && !hostAllowed && !ipAllowed(host, opts.allowlist)) {
    return Promise.reject(daemonErrors.downloadSource(DaemonMessages.blockedAddress));
  }
  const lookup = (hostname: string, options: { all?: boolean; family?: number }, cb: (...args: unknown[]) => void) => {
    dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (err, addresses: LookupAddress[]) => {
      if (err) return cb(err);
      if (!hostAllowed && !answersAllowed(addresses, opts.allowlist)) return cb(new BlockedAddressError(DaemonMessages.blockedAddress));
      if (options.all) return cb(null, addresses);
      return cb(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, {
      method: 'GET',
      agent: false, // no pooling, no proxy: each hop connects where its own checks said
      lookup: lookup as never,
      signal: opts.signal,
      headers: { 'user-agent': 'backwing-daemon', accept: 'application/gzip, application/x-gzip, */*', ...(opts.range ? { range: opts.range } : {}) },
    });
    const headersTimer = setTimeout(() => req.destroy(new Error('timed out waiting for the backup link to answer')), opts.headersTimeoutMs);
    req.setTimeout(opts.idleTimeoutMs, () => req.destroy(new Error('backup download stalled')));
    req.on('response', (res) => {
      clearTimeout(headersTimer);
      res.on('close', () => clearTimeout(headersTimer));
      resolve(res);
    });
    req.on('error', (err) => {
      clearTimeout(headersTimer);
      if (err instanceof BlockedAddressError) reject(daemonErrors.downloadSource(DaemonMessages.blockedAddress));
      else reject(daemonErrors.downloadSource('The provided backup link could not be downloaded.', err));
    });
    req.end();
  });
}

/** GET with the SSRF rules applied to every hop; resolves once the final response headers arrive. */
export async function guardedGet(rawUrl: string, options: GuardedGetOptions): Promise<GuardedResponse> {
  const opts = {
    allowlist: options.allowlist,
    signal: options.signal,
    headersTimeoutMs: options.headersTimeoutMs ?? 30_000,
    idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
    maxRedirects: options.maxRedirects ?? 10,
    range: options.range ?? '',
  };
  let url = checkUrl(rawUrl);
  for (let hop = 0; ; hop++) {
    const res = await requestOnce(url, opts);
    const status = res.statusCode ?? 0;
    if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
      res.resume();
      res.destroy();
      if (hop >= opts.maxRedirects) throw daemonErrors.downloadSource(DaemonMessages.tooManyRedirects);
      url = checkUrl(new URL(res.headers.location, url).toString());
      continue;
    }
    const length = Number(res.headers['content-length']);
    return { status, contentType: String(res.headers['content-type'] ?? ''), contentLength: Number.isSafeInteger(length) && length >= 0 && res.headers['content-length'] !== undefined ? length : null, contentRange: res.headers['content-range'] ?? null, body: res };
  }
}

/** The media type without parameters, lowercased: `application/gzip; charset=binary` → `application/gzip`. */
export function mediaType(contentType: string): string {
  return contentType.split(';')[0]!.trim().toLowerCase();
}
