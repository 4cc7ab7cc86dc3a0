/**
 * data/daemon/config.yml for the embedded daemon. Written by `up` on every start with the paths
 * under --data, the panel URL and the port actually bound, while any other key the user edited
 * (write limit, compression, checksum, …) is kept. The file is a normal daemon config: `backwing
 * daemon --config data/daemon/config.yml` runs the same node on its own.
 */
import { writeFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { parseDaemonConfig, renderDaemonConfig, type DaemonConfig } from '../daemon/config.ts';
import { CliError } from '../core/cli-error.ts';
import { readTextIfExists, type DataLayout } from './data-layout.ts';

export interface DaemonCredentials {
  uuid: string;
  tokenId: string;
  token: string;
}

/** Credentials already in the config file, if it is there and readable; a broken file is an error. */
export async function readDaemonCredentials(layout: DataLayout): Promise<DaemonCredentials | undefined> {
  const text = await readTextIfExists(layout.daemonConfig);
  if (text === undefined) return undefined;
  const doc = parseDoc(text, layout.daemonConfig);
  try {
    // Every key checked now, before anything listens, with the daemon's own messages.
    parseDaemonConfig(text, layout.daemonConfig);
  } catch (err) {
    throw new CliError(err instanceof Error ? err.message : String(err));
  }
  const { uuid, token_id: tokenId, token } = doc;
  if (typeof uuid === 'string' && typeof tokenId === 'string' && typeof token === 'string') return { uuid, tokenId, token };
  return undefined;
}

export async function writeDaemonConfig(
  layout: DataLayout,
  creds: DaemonCredentials,
  values: { host: string; port: number; remote: string },
): Promise<DaemonConfig> {
  const text = await readTextIfExists(layout.daemonConfig);
  const base = text === undefined
    ? parseDoc(renderDaemonConfig({ uuid: creds.uuid, tokenId: creds.tokenId, token: creds.token, remote: values.remote }), 'defaults')
    : parseDoc(text, layout.daemonConfig);
  const doc: Record<string, unknown> = {
    ...base,
    uuid: creds.uuid,
    token_id: creds.tokenId,
    token: creds.token,
    remote: values.remote,
    api: { ...asMap(base.api), host: values.host, port: values.port },
    system: {
      ...asMap(base.system),
      root_directory: layout.daemonRoot,
      data: layout.volumes,
      backup_directory: layout.backups,
    },
  };
  const out = stringify(doc);
  let config: DaemonConfig;
  try {
    config = parseDaemonConfig(out, layout.daemonConfig);
  } catch (err) {
    throw new CliError(err instanceof Error ? err.message : String(err));
  }
  await writeFile(layout.daemonConfig, out, { mode: 0o600 });
  return config;
}

function parseDoc(text: string, source: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new CliError(`${source}: not valid YAML (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); fix it or delete it to start over`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new CliError(`${source}: must be a YAML mapping; fix it or delete it to start over`);
  }
  return doc as Record<string, unknown>;
}

function asMap(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
