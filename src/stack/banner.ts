/** What `backwing up` prints for a person: where things are, and lines to try that work as printed. */
import { fileURLToPath } from 'node:url';
import type { StackInfo } from './start-stack.ts';

/** `node /abs/path/bin/backwing.js`: absolute, so the line works from any folder; quoted when needed. */
export function cliInvocation(): string {
  const bin = fileURLToPath(new URL('../../bin/backwing.js', import.meta.url));
  return `node ${/^[\w./-]+$/.test(bin) ? bin : `'${bin.replace(/'/g, `'\\''`)}'`}`;
}

export function renderBanner(info: StackInfo): string {
  const server = `${info.panel_url}/api/client/servers/${info.server_identifier}`;
  const auth = `-H 'Authorization: Bearer ${info.api_key}' -H 'Accept: application/json'`;
  const lines = [
    '',
    'backwing is running',
    info.web_ui
      ? `  panel     ${info.panel_url}   (web UI; API docs at ${info.panel_url}/docs)`
      : `  panel     ${info.panel_url}   (API docs at ${info.panel_url}/docs; for the web UI run \`npm run build:web\` once)`,
    `  daemon    ${info.daemon_url}`,
    `  data      ${info.data_dir}`,
    info.first_run
      ? `  admin     ${info.admin_email}  password ${info.admin_password}   (also in ${info.admin_password_file})`
      : `  admin     ${info.admin_email}  password in ${info.admin_password_file}`,
    `  API key   ${info.api_key}   (kept in ${info.api_key_file})`,
    `  server    Demo server ${info.server_identifier} (uuid ${info.server_uuid})`,
    '',
    'Try it:',
    '  # list backups',
    `  curl -s ${auth} ${server}/backups`,
    '  # create one (the answer holds its uuid)',
    `  curl -s -X POST ${auth} -H 'Content-Type: application/json' -d '{"name":"my first backup"}' ${server}/backups`,
    '  # download it: set BACKUP to that uuid',
    `  curl -s -o backup.tar.gz "$(curl -s ${auth} ${server}/backups/$BACKUP/download | sed -E 's/.*"url":"([^"]*)".*/\\1/')"`,
    '',
    // The CLI's defaults (port 8000, ./data/api-key.txt) hold only for a default `up` in this
    // folder; these lines name this panel and key, so they work for any --data, port and folder.
    'Or with the CLI (from any folder, in another terminal):',
    `  export BACKWING_URL=${info.panel_url}`,
    `  export BACKWING_API_KEY=${info.api_key}`,
    `  ${cliInvocation()} backups create ${info.server_identifier} --wait`,
    `  ${cliInvocation()} backups list ${info.server_identifier}`,
    '',
    'Ctrl-C stops both.',
    '',
  ];
  return lines.join('\n');
}
