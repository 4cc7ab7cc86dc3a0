/**
 * What a node's daemon needs to know, derived from the node's URL: upstream's
 * `GET /api/application/nodes/{id}/configuration` document (Wings keys, which backwing's daemon
 * reads too, so the JSON can be saved as the daemon's config file as is: JSON is YAML).
 */
import type { PublicNode } from '../../services/nodes.service.ts';

/** A daemon's listen address: the URL's IP, or all interfaces when the URL names a host by DNS. */
export function daemonListenFromUrl(url: string): { host: string; port: number } {
  const u = new URL(url);
  const hostname = u.hostname.replace(/^\[|\]$/g, '');
  const isIp = /^\d{1,3}(\.\d{1,3}){3}$/.test(hostname) || hostname.includes(':');
  const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  return { host: isIp ? hostname : '0.0.0.0', port };
}

export function nodeConfiguration(node: PublicNode, creds: { tokenId: string; token: string }, panelUrl: string) {
  const listen = daemonListenFromUrl(node.url);
  return {
    debug: false,
    uuid: node.uuid,
    token_id: creds.tokenId,
    token: creds.token,
    api: {
      host: listen.host,
      port: listen.port,
      // TLS is terminated in front of the daemon (it serves plain HTTP); the flag mirrors the node URL.
      ssl: { enabled: node.url.startsWith('https:'), cert: '', key: '' },
      upload_limit: 100,
    },
    system: { data: '/var/lib/pterodactyl/volumes', sftp: { bind_port: 2022 } },
    allowed_mounts: [] as string[],
    remote: panelUrl.replace(/\/+$/, ''),
  };
}
