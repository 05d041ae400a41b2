import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectNoStackTrace, runCli, startCli } from '../helpers/cli.js';
import { hasRedisServer, startHostRedis, stopHostRedis, type HostRedis } from '../helpers/hostRedis.js';
import { makeProject } from '../helpers/project.js';

/**
 * restore --keys / --db / --to-db / --delete-missing through the binary, against a redis-server
 * on the host reached with REDIS_URL: exactly the selected keys change, every other key of every
 * database keeps its DUMP, and a restore that fails midway puts the kept values back.
 */

const env = { DOCKER_HOST: 'unix:///nonexistent.sock' };
const DATABASES = [0, 1, 2, 3];

afterAll(stopHostRedis);

/** Per database, per key: the SHA-1 of its DUMP and whether it has an expiry. */
function dumps(server: HostRedis, databases: readonly number[] = DATABASES): Record<string, string> {
  const script = `local keys = redis.call('KEYS', '*')
local out = {}
for _, key in ipairs(keys) do
  local ttl = redis.call('PTTL', key)
  out[#out + 1] = key .. ' ' .. redis.sha1hex(redis.call('DUMP', key)) .. ' ' .. (ttl > 0 and 'expires' or 'persistent')
end
return out`;
  const all: Record<string, string> = {};
  for (const db of databases) {
    const lines = server
      .cli('-n', String(db), 'EVAL', script, '0')
      .split('\n')
      .filter((line) => line !== '');
    for (const line of lines) {
      const [key, sha, ttl] = line.split(' ');
      all[`${db}/${key}`] = `${sha} ${ttl}`;
    }
  }
  return all;
}

function pick(all: Record<string, string>, test: (key: string) => boolean): Record<string, string> {
  return Object.fromEntries(Object.entries(all).filter(([key]) => test(key)));
}

function fill(server: HostRedis, db: number, prefix: string, from: number, to: number, value: string): void {
  server.cli('-n', String(db), 'EVAL', `for i = ${from}, ${to} do redis.call('SET', '${prefix}' .. i, '${value}-' .. i) end`, '0');
}

/**
 * A server whose backup holds db 0: session:1-300, session:list, user:1-50, cache:x (expiring in
 * an hour); db 1: session:1-10, other:1. Then changed: session:1-100 rewritten, session:250-300
 * deleted, session:new1-20 added, user:* rewritten, db 1's session:* rewritten.
 */
async function changedServer(password: string) {
  const server = await startHostRedis(password);
  fill(server, 0, 'session:', 1, 300, 'archived');
  server.cli('RPUSH', 'session:list', 'a', 'b', 'c');
  fill(server, 0, 'user:', 1, 50, 'archived');
  server.cli('SET', 'cache:x', 'cached', 'EX', '3600');
  fill(server, 1, 'session:', 1, 10, 'archived');
  server.cli('-n', '1', 'SET', 'other:1', 'one');
  const archivedDumps = dumps(server);
  const project = await makeProject({ env: `REDIS_URL=redis://:${password}@127.0.0.1:${server.port}\n` });
  const backup = await runCli(['backup', '-c', 'redis', '-y'], { cwd: project, env });
  expect(backup.code, backup.stderr).toBe(0);
  fill(server, 0, 'session:', 1, 100, 'changed');
  server.cli('EVAL', "for i = 250, 300 do redis.call('DEL', 'session:' .. i) end", '0');
  fill(server, 0, 'session:new', 1, 20, 'new');
  fill(server, 0, 'user:', 1, 50, 'changed');
  fill(server, 1, 'session:', 1, 10, 'changed');
  return { server, project, archive: backup.stdout.trim(), archivedDumps };
}

const session0 = (key: string) => key.startsWith('0/session:');
const sessionNew = (key: string) => key.startsWith('0/session:new');

async function keptFiles(project: string): Promise<string[]> {
  const [aside] = (await readdir(join(project, 'docker'))).filter((name) => name.startsWith('.pre-restore-'));
  if (aside === undefined) return [];
  const folder = join(project, 'docker', aside, 'redis');
  return (await readdir(folder)).map((name) => join(folder, name));
}

describe.skipIf(!hasRedisServer)('restore --keys through REDIS_URL (redis-server on the host)', { timeout: 120_000 }, () => {
  it('--keys with --db restores exactly the matched keys of that database; every other key of every database keeps its DUMP, keys absent from the archive are left alone', async () => {
    const { server, project, archive, archivedDumps } = await changedServer('keys-pw');
    const before = dumps(server);
    const selectors = ['--keys', 'session:*', '--db', '0'];

    const dryRun = await runCli(['restore', archive, ...selectors, '--dry-run'], { cwd: project, env });
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect(dryRun.stdout).toContain('--keys session:*: 301 keys in the archive (database 0: 301); matching now: 270 in database 0');
    expect(dryRun.stdout).toContain('301 keys in the archive: 51 to add, 250 to overwrite');
    expect(dryRun.stdout).toContain('20 keys matching now in database 0 are absent from the archive: left alone');
    expect(dumps(server)).toEqual(before);

    const result = await runCli(['restore', archive, ...selectors, '-y'], { cwd: project, env });
    expect(result.code, result.stderr).toBe(0);
    const after = dumps(server);
    expect(pick(after, (key) => session0(key) && !sessionNew(key))).toEqual(pick(archivedDumps, session0));
    expect(pick(after, (key) => !session0(key) || sessionNew(key))).toEqual(pick(before, (key) => !session0(key) || sessionNew(key)));
    const [kept] = await keptFiles(project);
    expect(kept).toMatch(/\.pre-restore-[\dTZ-]+\/redis\/127\.0\.0\.1-\d+\.keys\.resp$/);
    expect((await stat(kept)).mode & 0o777).toBe(0o600);
    expect((await readFile(kept)).includes('changed-1')).toBe(true);
  });

  it('--keys without --db picks from every database, each key back into its own', async () => {
    const { server, project, archive, archivedDumps } = await changedServer('alldb-pw');
    const before = dumps(server);
    const result = await runCli(['restore', archive, '--keys', 'session:[1-5]', '-y'], { cwd: project, env });
    expect(result.code, result.stderr).toBe(0);
    const picked = (key: string) => /^[01]\/session:[1-5]$/.test(key);
    const after = dumps(server);
    expect(pick(after, picked)).toEqual(pick(archivedDumps, picked));
    expect(Object.keys(pick(after, picked))).toHaveLength(10);
    expect(pick(after, (key) => !picked(key))).toEqual(pick(before, (key) => !picked(key)));
  });

  it('--delete-missing deletes only the matched keys absent from the archive, after keeping them', async () => {
    const { server, project, archive, archivedDumps } = await changedServer('delete-pw');
    const before = dumps(server);
    const selectors = ['--keys', 'session:*', '--db', '0', '--delete-missing'];
    const dryRun = await runCli(['restore', archive, ...selectors, '--dry-run'], { cwd: project, env });
    expect(dryRun.stdout).toContain('301 keys in the archive: 51 to add, 250 to overwrite, 20 to delete');
    const result = await runCli(['restore', archive, ...selectors, '-y'], { cwd: project, env });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).toContain('20 keys absent from the archive deleted');
    const after = dumps(server);
    expect(pick(after, session0)).toEqual(pick(archivedDumps, session0));
    expect(pick(after, (key) => !session0(key))).toEqual(pick(before, (key) => !session0(key)));
    const [kept] = await keptFiles(project);
    expect((await readFile(kept)).includes('new-20')).toBe(true);
  });

  it('--to-db restores the picked keys into another database; the live database and every other one keep their DUMPs', async () => {
    const { server, project, archive, archivedDumps } = await changedServer('todb-pw');
    server.cli('-n', '2', 'SET', 'session:1', 'in db 2 before');
    server.cli('-n', '2', 'SET', 'unrelated', 'stays');
    const before = dumps(server);
    const selectors = ['--keys', 'session:*', '--db', '0', '--to-db', '2'];
    const dryRun = await runCli(['restore', archive, ...selectors, '--dry-run'], { cwd: project, env });
    expect(dryRun.code, dryRun.stderr).toBe(0);
    expect(dryRun.stdout).toContain('301 keys in the archive: 300 to add, 1 to overwrite');
    expect(dryRun.stdout).toContain('database 0 (the live one) is not touched');
    const result = await runCli(['restore', archive, ...selectors, '-y'], { cwd: project, env });
    expect(result.code, result.stderr).toBe(0);
    const after = dumps(server);
    const inDb2 = (key: string) => key.startsWith('2/session:');
    const asDb2 = Object.fromEntries(Object.entries(pick(archivedDumps, session0)).map(([key, value]) => [`2/${key.slice(2)}`, value]));
    expect(pick(after, inDb2)).toEqual(asDb2);
    expect(pick(after, (key) => !inDb2(key))).toEqual(pick(before, (key) => !inDb2(key)));
  });

  it('a selector matching nothing is refused with exit 2 naming it, and nothing changes', async () => {
    const { server, project, archive } = await changedServer('none-pw');
    const before = dumps(server);
    const none = await runCli(['restore', archive, '--keys', 'nomatch:*', '-y'], { cwd: project, env });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/--keys nomatch:\* matches no key of redis in orkestra-backup-.*\.tar\.gz\./);
    const emptyDb = await runCli(['restore', archive, '--db', '3', '-y'], { cwd: project, env });
    expect(emptyDb.code).toBe(2);
    expect(emptyDb.stderr).toContain('--db 3 picks no key of redis in');
    const toDbAlone = await runCli(['restore', archive, '--keys', 'session:*', '--to-db', '2', '-y'], { cwd: project, env });
    expect(toDbAlone.code).toBe(2);
    expect(toDbAlone.stderr).toContain('--to-db needs --db');
    const twice = await runCli(['restore', archive, '--keys', 'session:*', '--delete-missing', '--delete-missing', '-y'], {
      cwd: project,
      env,
    });
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain('--delete-missing may be given once');
    const badDb = await runCli(['restore', archive, '--db', 'zero', '-y'], { cwd: project, env });
    expect(badDb.code).toBe(2);
    expect(badDb.stderr).toContain('--db needs a database number');
    expect(dumps(server)).toEqual(before);
    expect(await keptFiles(project)).toEqual([]);
  });

  it('a RESTORE the server refuses midway (an ACL user that may not write ro:*) puts the kept values back, says what and where, and every key keeps its DUMP', async () => {
    const server = await startHostRedis('acl-pw');
    fill(server, 0, 'sel:', 1, 2000, 'archived');
    server.cli('-n', '1', 'SET', 'ro:1', 'archived');
    const project = await makeProject({ env: `REDIS_URL=redis://:acl-pw@127.0.0.1:${server.port}\n` });
    const backup = await runCli(['backup', '-c', 'redis', '-y'], { cwd: project, env });
    expect(backup.code, backup.stderr).toBe(0);
    const archive = backup.stdout.trim();
    fill(server, 0, 'sel:', 1, 1000, 'changed');
    server.cli('EVAL', "for i = 1500, 2000 do redis.call('DEL', 'sel:' .. i) end", '0');
    server.cli('-n', '1', 'SET', 'ro:1', 'changed');
    server.cli('ACL', 'SETUSER', 'picker', 'on', '>pick-pw', '%R~*', '%W~sel:*', '+@all');
    const before = dumps(server);

    const picker = `redis://picker:pick-pw@127.0.0.1:${server.port}`;
    const result = await runCli(['restore', archive, '--keys', '*', '--redis-url', picker, '-y'], { cwd: project, env });
    const output = result.stdout + result.stderr;
    expect(result.code, output).toBe(1);
    expect(output).toMatch(
      /the selective restore into Redis at 127\.0\.0\.1:\d+ stopped \(Redis at 127\.0\.0\.1:\d+ refused the RESTORE of "ro:1": NOPERM[^)]*\); the kept values were put back \(1,499 keys given its previous value, 501 added keys deleted\), so the selected keys hold what they held before\./,
    );
    expect(output).toMatch(/The previous values are also kept in docker\/\.pre-restore-[\dTZ-]+\/redis\/127\.0\.0\.1-\d+\.keys\.resp\./);
    expectNoStackTrace(output);
    expect(dumps(server)).toEqual(before);
  });

  it('a server that refuses DUMP (an ACL user without it) is refused before any change: a refusal never passes for a missing key', async () => {
    const { server, project, archive } = await changedServer('nodump-pw');
    server.cli('ACL', 'SETUSER', 'nodump', 'on', '>nodump-pw', '~*', '+@all', '-dump');
    const before = dumps(server);
    const url = `redis://nodump:nodump-pw@127.0.0.1:${server.port}`;
    const result = await runCli(['restore', archive, '--keys', 'session:*', '--redis-url', url, '-y'], { cwd: project, env });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/Redis at 127\.0\.0\.1:\d+ did not give the current value of "session:[^"]+" \(NOPERM[^)]*\)\./);
    expect(result.stderr).toContain('Nothing was changed.');
    expect(dumps(server)).toEqual(before);
  });

  it.each([
    ['its connection killed with CLIENT KILL', 'stopped \\(.*(closed the connection|was lost).*\\)', 'kill'],
    ['SIGINT', 'was interrupted', 'sigint'],
  ] as const)(
    'a selective restore stopped midway (%s) deletes again the keys it added, on a new connection, and says so',
    async (_, said, how) => {
      const server = await startHostRedis(`${how}-pw`);
      server.cli('EVAL', `for i = 1, 100000 do redis.call('SET', 'bulk:' .. i, string.rep('v', 64) .. i) end`, '0');
      const project = await makeProject({ env: `REDIS_URL=redis://:${how}-pw@127.0.0.1:${server.port}\n` });
      const backup = await runCli(['backup', '-c', 'redis', '-y'], { cwd: project, env });
      expect(backup.code, backup.stderr).toBe(0);
      server.cli('FLUSHALL');
      server.cli('SET', 'other:1', 'stays');
      const before = dumps(server);
      const restore = startCli(['restore', backup.stdout.trim(), '--keys', 'bulk:*', '-y'], { cwd: project, env });
      await waitUntil('the restore is under way', async () => Number(await server.cliAsync('DBSIZE')) >= 10_000);
      if (how === 'kill') await server.cliAsync('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      else restore.signal('SIGINT');
      const result = await restore.result;
      const output = result.stdout + result.stderr;
      expect(result.code, output).toBe(1);
      expect(output).toMatch(
        new RegExp(
          `the selective restore into Redis at 127\\.0\\.0\\.1:\\d+ ${said}; the kept values were put back \\(0 keys given its previous value, [\\d,]+ added keys deleted\\), so the selected keys hold what they held before\\.`,
        ),
      );
      expectNoStackTrace(output);
      expect(dumps(server)).toEqual(before);
    },
  );
});

/** Polls (never sleeps a fixed time) until `condition` holds; fails after `timeoutMs`. */
async function waitUntil(what: string, condition: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
