/** What `backwing up` prints for a person: where things are, and three lines to try. */
import type { StackInfo } from './start-stack.ts';

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
    'Or with the CLI:',
    `  node bin/backwing.js backups create ${info.server_identifier} --wait`,
    `  node bin/backwing.js backups list ${info.server_identifier}`,
    '',
    'Ctrl-C stops both.',
    '',
  ];
  return lines.join('\n');
}
