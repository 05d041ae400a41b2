import { createReadStream, createWriteStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { planOnlineRestore, replicaSnapshot, restoreOnline } from '../../src/redis/direct.js';
import { parseRedisUrl } from '../../src/redis/resp.js';
import { temporaryFolder } from '../helpers/tempFolders.js';
import { fillKey, hasRedisServer, startHostRedis, stopHostRedis, type HostRedis } from '../helpers/hostRedis.js';
import { runCli } from '../helpers/cli.js';
import { makeProject } from '../helpers/project.js';
import { downgradeToV1 } from '../helpers/archives.js';
import { MODULE_KEY, withRecord } from '../helpers/rdbRecords.js';

/**
 * Redis without Docker, against real redis-servers on the host (Debian's Redis 7.0, installed by
 * `.ci/run`): a backup through the replication handshake and an online restore by RESTORE
 * commands, compared key by key with DUMP and the absolute expiry.
 */

/**
 * Every key of databases 0-3 with its encoding, the SHA-1 of its DUMP payload (of its sorted
 * content for hash tables) and its absolute expiry.
 */
function contents(server: HostRedis): Record<string, string> {
  const script = `local out = {}
for db = 0, 3 do
  redis.call('SELECT', db)
  local cursor = '0'
  repeat
    local page = redis.call('SCAN', cursor, 'COUNT', 1000)
    cursor = page[1]
    for _, key in ipairs(page[2]) do
      out[#out + 1] = db .. ':' .. key
      -- A hash table dumps its elements in its own iteration order, which a rebuilt table does not
      -- share: for those, the sorted content is compared instead of the DUMP bytes.
      local encoding = redis.call('OBJECT', 'ENCODING', key)
      local ktype = redis.call('TYPE', key)['ok']
      if encoding == 'hashtable' and ktype == 'set' then
        local members = redis.call('SMEMBERS', key)
        table.sort(members)
        out[#out + 1] = 'set ' .. redis.sha1hex(table.concat(members, '\\n'))
      elseif encoding == 'hashtable' and ktype == 'hash' then
        local pairs = redis.call('HGETALL', key)
        local joined = {}
        for i = 1, #pairs, 2 do joined[#joined + 1] = pairs[i] .. '=' .. pairs[i + 1] end
        table.sort(joined)
        out[#out + 1] = 'hash ' .. redis.sha1hex(table.concat(joined, '\\n'))
      else
        out[#out + 1] = encoding .. ' ' .. redis.sha1hex(redis.call('DUMP', key))
      end
      out[#out + 1] = tostring(redis.call('PEXPIRETIME', key))
    end
  until cursor == '0'
end
return out`;
  const lines = server.cli('--raw', 'EVAL', script, '0').split('\n');
  const result: Record<string, string> = {};
  for (let index = 0; index + 2 < lines.length; index += 3) result[lines[index]] = `${lines[index + 1]} @${lines[index + 2]}`;
  return result;
}

afterAll(stopHostRedis);

describe.skipIf(!hasRedisServer)('Redis through REDIS_URL: replication backup, online restore (redis-server on the host)', () => {
  it('every type and encoding, TTLs and several databases come back with identical DUMP payloads (hash tables: identical sorted content); keys not in the backup are removed from its databases only', async () => {
    const source = await startHostRedis('src-pw');
    source.cli('SET', 'string:short', 'v');
    source.cli('SET', 'string:int', '12345');
    source.cli('SET', 'string:long', 'x'.repeat(5000));
    source.cli('SET', 'string:ttl', 'soon', 'PX', '86400000');
    for (const [kind, key, count] of [
      ['hash', 'hash:small', 5],
      ['hash', 'hash:large', 600],
      ['list', 'list:small', 5],
      ['list', 'list:large', 5000],
      ['set', 'set:small', 5],
      ['set', 'set:large', 600],
      ['intset', 'set:ints', 50],
      ['zset', 'zset:small', 5],
      ['zset', 'zset:large', 600],
      ['stream', 'stream:big', 300],
    ] as const) {
      fillKey(source, kind, key, count);
    }
    source.cli('RPUSH', 'list:huge-element', 'y'.repeat(20_000));
    source.cli('XADD', 'stream:events', '*', 'kind', 'login');
    source.cli('XADD', 'stream:events', '*', 'kind', 'logout');
    source.cli('XGROUP', 'CREATE', 'stream:events', 'workers', '0');
    source.cli('XREADGROUP', 'GROUP', 'workers', 'alice', 'COUNT', '1', 'STREAMS', 'stream:events', '>');
    source.cli('EXPIRE', 'hash:small', '3600');
    source.cli('-n', '3', 'SET', 'db3:key', 'three');
    fillKey(source, 'hash', 'db3:hash', 3, 3);
    const expected = contents(source);

    const folder = await temporaryFolder('okb-redis-rdb-');
    const file = join(folder, 'dump.rdb');
    const snapshot = await replicaSnapshot(parseRedisUrl(`redis://:src-pw@127.0.0.1:${source.port}`));
    await pipeline(snapshot.content, createWriteStream(file));
    expect(snapshot.size).toBeGreaterThan(10_000);

    const target = await startHostRedis('dst-pw');
    target.cli('SET', 'string:short', 'older value');
    target.cli('SET', 'only-in-target', 'removed by FLUSHDB');
    target.cli('-n', '1', 'SET', 'db1:untouched', 'kept: database 1 is not in the backup');
    const address = parseRedisUrl(`redis://:dst-pw@127.0.0.1:${target.port}`);
    const plan = await planOnlineRestore(address, createReadStream(file));
    expect(Object.fromEntries(plan.keysPerDb)).toEqual({ 0: 16, 3: 2 });
    const result = await restoreOnline(address, createReadStream(file), [...plan.keysPerDb.keys()], () => undefined);
    expect(result).toEqual({ restored: 18, expired: 0 });
    const restored = contents(target);
    expect(restored['1:db1:untouched']).toBeDefined();
    delete restored['1:db1:untouched'];
    expect(restored).toEqual(expected);
  });

  it('a server that refuses SYNC (as managed services do) is named, with the way out', async () => {
    const server = await startHostRedis('sync-pw');
    server.cli('ACL', 'SETUSER', 'backup', 'on', '>backup-pw', '~*', '+@all', '-sync', '-psync');
    const attempt = replicaSnapshot(parseRedisUrl(`redis://backup:backup-pw@127.0.0.1:${server.port}`));
    const error = await attempt.catch((caught: Error) => caught);
    expect((error as Error).message).toMatch(/refused SYNC \(NOPERM/);
    expect((error as { hint?: string }).hint).toMatch(/unset REDIS_URL/);
  });

  it('through the binary: REDIS_URL backs up by replication and restores online (dry run first), keeping the previous data; a bad REDIS_URL is exit 2', async () => {
    const server = await startHostRedis('cli-pw');
    server.cli('SET', 'config:site', 'orkestra');
    fillKey(server, 'hash', 'user:1', 3);
    server.cli('-n', '2', 'SET', 'db2:key', 'two', 'PX', '86400000');
    const expected = contents(server);
    const url = `redis://:cli-pw@127.0.0.1:${server.port}`;
    const project = await makeProject({ env: `REDIS_URL=${url}\n` });
    const env = { DOCKER_HOST: 'unix:///nonexistent.sock' };
    const backup = await runCli(['backup', '-c', 'redis', '-y'], { cwd: project, env });
    expect(backup.stderr).not.toContain('FAILED');
    expect(backup.code).toBe(0);
    expect(backup.stderr).toContain(`Redis at 127.0.0.1:${server.port} (REDIS_URL): snapshot through the replication handshake (SYNC)`);
    const archive = backup.stdout.trim();
    const verify = await runCli(['verify', archive], { cwd: project, env });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);

    server.cli('SET', 'config:site', 'changed');
    server.cli('SET', 'added:later', 'removed by the restore');
    const dryRun = await runCli(['restore', archive, '--dry-run'], { cwd: project, env });
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain('FLUSHDB in 2 databases (0, 2): keys not in the backup are removed there');
    expect(dryRun.stdout).toContain('3 keys in 2 databases (0, 2), each with RESTORE … REPLACE ABSTTL');
    expect(server.cli('GET', 'config:site')).toBe('changed');
    const restore = await runCli(['restore', archive, '-y'], { cwd: project, env });
    expect(restore.stderr).not.toContain('FAILED');
    expect(restore.code).toBe(0);
    expect(contents(server)).toEqual(expected);
    const [aside] = (await readdir(join(project, 'docker'))).filter((name) => name.startsWith('.pre-restore-'));
    expect(await readdir(join(project, 'docker', aside, 'redis'))).toEqual([`127.0.0.1-${server.port}.rdb`]);
    for (const output of [backup.stderr, dryRun.stdout, restore.stderr, restore.stdout]) expect(output).not.toContain('cli-pw');

    const malformed = await runCli(['backup', '-c', 'redis', '-y'], {
      cwd: await makeProject({ env: 'REDIS_URL=http://:pw@host\n' }),
      env,
    });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/REDIS_URL must start with redis:\/\/ or rediss:\/\//);
  });

  it('an RDB holding a type an online restore cannot convert (module data) is named and refused by the dry run and the restore, nothing changed', async () => {
    const server = await startHostRedis('mod-pw');
    server.cli('SET', 'kept', 'untouched');
    const project = await makeProject({ env: `REDIS_URL=redis://:mod-pw@127.0.0.1:${server.port}\n` });
    const env = { DOCKER_HOST: 'unix:///nonexistent.sock' };
    const backup = await runCli(['backup', '-c', 'redis', '-y'], { cwd: project, env });
    expect(backup.code).toBe(0);
    // The same archive, its RDB ending with a key of a module type (7), CRC-64 recomputed: sound to verify.
    const withModule = join(project, 'backups', 'module-key.tar.gz');
    await downgradeToV1(backup.stdout.trim(), withModule, (path, content) =>
      path === 'redis/dump.rdb' ? withRecord(content, MODULE_KEY) : content,
    );
    expect((await runCli(['verify', withModule], { cwd: project, env })).code).toBe(0);
    for (const args of [['--dry-run'], ['-y']]) {
      const refused = await runCli(['restore', withModule, ...args], { cwd: project, env });
      expect(refused.code).toBe(1);
      expect(refused.stdout + refused.stderr).toMatch(
        /the backup's RDB holds value type 7 \(module data, or a type newer than this tool knows\), which an online restore cannot turn into RESTORE commands/,
      );
    }
    expect(server.cli('GET', 'kept')).toBe('untouched');
    expect(server.cli('DBSIZE')).toBe('1');
  });
});
