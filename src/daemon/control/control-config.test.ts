import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { parseDaemonConfig } from '../config.ts';
import { AppError } from '../../core/app-error.ts';
import { checkSaveHook } from '../../wire/server-control.ts';
import { expandArgv, parseStateOutput } from './exec-control.ts';
import { parseProperties } from './rcon-control.ts';
import { newLogLines } from './wings-control.ts';
import { createServerControl } from './server-control.ts';
import { planFor } from './save-hooks.ts';

const base = 'uuid: n1\ntoken_id: abc\ntoken: 0123456789abcdef0123\nremote: http://panel.test/\n';
const S = '0b8a3c1e-57a5-4e62-9f57-7f1e2d9d7a10';

function problem(extra: string): string {
  try {
    parseDaemonConfig(base + extra, 'cfg.yml');
  } catch (err) {
    assert.ok(err instanceof AppError);
    assert.equal(err.message.split('\n').length, 1, 'one line');
    return err.message;
  }
  return assert.fail('expected a config error');
}

test('control defaults to none: no commands, no power, only the none hook', () => {
  const c = parseDaemonConfig(base, 'cfg.yml');
  assert.equal(c.control.type, 'none');
  assert.equal(c.control.power, 'none');
  assert.deepEqual(c.control.saveHooks.allowed, ['none']);
  assert.equal(c.system.user, null);
  const ctl = createServerControl(c.control);
  assert.deepEqual(ctl.info(), { kind: 'none', power: 'none', restore_stops_server: false, save_hooks: ['none'], default_save_hook: 'none' });
});

test('wings control: url and token, power through wings, secrets never printed', () => {
  const c = parseDaemonConfig(`${base}system:\n  user: { uid: 988, gid: 987 }\ncontrol:\n  type: wings\n  wings: { url: "http://127.0.0.1:8080/", token: wings-node-token-xyz }\n  save_hooks: { allowed: [minecraft-java], default: minecraft-java }\n  servers:\n    ${S.toUpperCase()}:\n      save_hook: none\n      rcon: { password: rcon-pass-abc }\n`, 'cfg.yml');
  assert.equal(c.control.power, 'wings');
  assert.equal(c.control.wings?.url, 'http://127.0.0.1:8080');
  assert.deepEqual(c.control.saveHooks.allowed, ['none', 'minecraft-java']);
  assert.deepEqual(c.control.saveHooks.default, { preset: 'minecraft-java' });
  assert.deepEqual(c.control.servers.get(S)?.saveHook, { preset: 'none' });
  assert.deepEqual(c.system.user, { uid: 988, gid: 987 });
  const printed = inspect(c, { depth: 10 }) + JSON.stringify(createServerControl(c.control).info());
  assert.ok(!printed.includes('wings-node-token-xyz') && !printed.includes('rcon-pass-abc'));
  assert.equal(createServerControl(c.control).info().restore_stops_server, true);
});

test('bad control config: one line naming the key', () => {
  assert.match(problem('control: { type: ssh }\n'), /^cfg\.yml: control\.type must be one of none, wings, rcon, exec$/);
  assert.match(problem('control: { type: wings }\n'), /control\.wings is required/);
  assert.match(problem('control: { type: rcon, power: rcon }\n'), /control\.power must be none, wings or exec/);
  assert.match(problem('control: { type: exec, exec: { command: "docker exec x" } }\n'), /control\.exec\.command must be a list of arguments/);
  assert.match(problem('control: { type: rcon, power: exec, exec: { stop: [a] } }\n'), /control\.exec\.state is required when control\.power is exec/);
  assert.match(problem('control: { type: rcon, save_hooks: { allowed: [minecraft-java, lua] } }\n'), /control\.save_hooks\.allowed must be a list of/);
  assert.match(problem('control: { type: rcon, save_hooks: { allowed: [source], default: minecraft-java } }\n'), /control\.save_hooks\.default is invalid: .*not allowed/);
  assert.match(problem('control: { save_hooks: { allowed: [minecraft-java] } }\n'), /control\.save_hooks\.allowed needs control\.type/);
  assert.match(problem('control: { type: rcon, servers: { not-a-uuid: {} } }\n'), /control\.servers\.not-a-uuid is not a server uuid/);
  assert.match(problem('control: { type: rcon, rcon: { port: 70000 } }\n'), /control\.rcon\.port must be between 1 and 65535/);
  assert.match(problem('system: { user: { uid: 1000 } }\n'), /system\.user\.gid must be a non-negative integer/);
  assert.match(problem('control: { type: wings, wings: { url: "ftp://x", token: t } }\n'), /control\.wings\.url must be an http\(s\) URL/);
});

test('save hook check: presets within the allowed list, custom limits, no line breaks', () => {
  const all = ['none', 'minecraft-java', 'custom'];
  assert.deepEqual(checkSaveHook({ preset: 'minecraft-java' }, all), { hook: { preset: 'minecraft-java' } });
  assert.match((checkSaveHook({ preset: 'source' }, all) as { problem: string }).problem, /not allowed on this node/);
  assert.match((checkSaveHook({ preset: 'lua' }, all) as { problem: string }).problem, /must be one of/);
  assert.match((checkSaveHook({ preset: 'none', before: ['x'] }, all) as { problem: string }).problem, /only accepted with the custom preset/);
  assert.deepEqual(checkSaveHook({ preset: 'custom', before: [' say hi '], after: [] }, all), { hook: { preset: 'custom', before: ['say hi'], after: [] } });
  assert.match((checkSaveHook({ preset: 'custom', before: ['a\nstop'] }, all) as { problem: string }).problem, /line breaks/);
  assert.match((checkSaveHook({ preset: 'custom', after: Array(6).fill('a') }, all) as { problem: string }).problem, /At most 5 after/);
  assert.match((checkSaveHook({ preset: 'custom', before: ['x'.repeat(201)] }, all) as { problem: string }).problem, /at most 200/);
  assert.match((checkSaveHook('minecraft-java', all) as { problem: string }).problem, /must be an object/);
});

test('presets: commands in order', () => {
  assert.deepEqual(planFor({ preset: 'minecraft-java' }, 'SaveWorld').before.map((s) => s.command), ['save-off', 'save-all flush']);
  assert.deepEqual(planFor({ preset: 'minecraft-java' }, 'SaveWorld').after, ['save-on']);
  assert.deepEqual(planFor({ preset: 'minecraft-bedrock' }, 'x').before.map((s) => [s.command, s.poll === true]), [['save hold', false], ['save query', true]]);
  assert.deepEqual(planFor({ preset: 'minecraft-bedrock' }, 'x').after, ['save resume']);
  assert.deepEqual(planFor({ preset: 'source' }, 'SaveWorld'), { preset: 'source', before: [{ command: 'SaveWorld' }], after: [] });
  assert.deepEqual(planFor({ preset: 'none' }, 'x'), { preset: 'none', before: [], after: [] });
});

test('exec: placeholders, uuid appended when not named, state words of systemctl and docker', () => {
  const v = { uuid: S, dir: '/srv/x', command: 'save-all flush' };
  assert.deepEqual(expandArgv(['systemctl', 'stop', 'mc@{uuid}.service'], { uuid: S, dir: '/srv/x' }), ['systemctl', 'stop', `mc@${S}.service`]);
  assert.deepEqual(expandArgv(['/usr/local/bin/console'], v), ['/usr/local/bin/console', S, 'save-all flush']);
  assert.deepEqual(expandArgv(['docker', 'exec', '{uuid}', 'rcon-cli', '{command}'], v), ['docker', 'exec', S, 'rcon-cli', 'save-all flush']);
  assert.equal(parseStateOutput('inactive\n'), 'offline');
  assert.equal(parseStateOutput('active'), 'running');
  assert.equal(parseStateOutput('exited'), 'offline');
  assert.equal(parseStateOutput('deactivating'), 'stopping');
  assert.equal(parseStateOutput('banana'), null);
});

test('server.properties and new console lines', () => {
  const p = parseProperties('#Minecraft server properties\nenable-rcon=true\nrcon.password=p\\=ss word\nrcon.port = 25580\n');
  assert.equal(p.get('rcon.password'), 'p=ss word');
  assert.equal(p.get('rcon.port'), '25580');
  assert.deepEqual(newLogLines(['a', 'b', 'c'], ['b', 'c', 'd', 'e']), ['d', 'e']);
  assert.deepEqual(newLogLines(['a', 'b'], ['x', 'y']), ['x', 'y']);
  assert.deepEqual(newLogLines(['a', 'b'], ['a', 'b']), []);
});

test('beside Wings (--wings-config): control defaults to wings with Wings\' API and token', async () => {
  const { parseWingsConfig } = await import('../wings-config.ts');
  const text = 'uuid: n1\ntoken_id: abc\ntoken: wings-token-0123456789\nremote: https://panel.example.com\napi: { host: 0.0.0.0, port: 8080 }\nsystem: { user: { uid: 988, gid: 988 } }\n';
  const c = parseWingsConfig(text, '/etc/pterodactyl/config.yml');
  assert.equal(c.control.type, 'wings');
  assert.equal(c.control.power, 'wings');
  assert.equal(c.control.wings?.url, c.wings?.api.url);
  assert.equal(c.control.wings?.token.reveal(), 'wings-token-0123456789');
  assert.deepEqual(c.system.user, { uid: 988, gid: 988 });
  assert.equal(createServerControl(c.control).info().restore_stops_server, true);
});
