import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { hasRedisServer, startHostRedis, stopHostRedis, type HostRedis } from '../helpers/hostRedis.js';
import { makeProject } from '../helpers/project.js';
import { downgradeToV1 } from '../helpers/archives.js';
import { setOfOneByteMembers, withRecord } from '../helpers/rdbRecords.js';

/**
 * The online restore through REDIS_URL against real redis-servers on the host, as an unlucky
 * operator meets it: a connection lost mid-way, an interrupt, a target that lacks a database or
 * takes shorter commands, a damaged RDB. The server ends with the archive's data or its own,
 * the message says which, and nothing crashes.
 */

const env = { DOCKER_HOST: 'unix:///nonexistent.sock' };
const STACK_TRACE = /\n\s+at [\w.<]/;

afterAll(stopHostRedis);

/** Per database: DBSIZE and a SHA-1 over every key and its value (all strings here), sorted. */
function digest(server: HostRedis, databases: readonly number[]): Record<number, string> {
  const script = `local keys = redis.call('KEYS', '*')
table.sort(keys)
local parts = {}
for _, key in ipairs(keys) do parts[#parts + 1] = key .. '=' .. redis.call('GET', key) end
return #keys .. ' ' .. redis.sha1hex(table.concat(parts, '\\n'))`;
  return Object.fromEntries(databases.map((db) => [db, server.cli('-n', String(db), 'EVAL', script, '0')]));
}

function fill(server: HostRedis, db: number, prefix: string, count: number, valueBytes = 64): void {
  const script = `local pad = string.rep('v', ${valueBytes}) for i = 1, ${count} do redis.call('SET', '${prefix}' .. i, pad .. i) end`;
  server.cli('-n', String(db), 'EVAL', script, '0');
}

/** A string value of `bytes` hex digits of SHA-1s: the RDB cannot compress it much, so its RESTORE payload is about as long. */
function setIncompressible(server: HostRedis, db: number, key: string, bytes: number): void {
  const script = `local parts = {} for i = 1, ${Math.ceil(bytes / 40)} do parts[i] = redis.sha1hex(tostring(i)) end redis.call('SET', KEYS[1], table.concat(parts))`;
  server.cli('-n', String(db), 'EVAL', script, '1', key);
}

/** Polls (never sleeps a fixed time) until `condition` holds; fails after `timeoutMs`. */
async function waitUntil(what: string, condition: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A project whose REDIS_URL names `server`, and an archive of it taken through the binary. */
async function backupOf(server: HostRedis, password: string): Promise<{ project: string; archive: string }> {
  const project = await makeProject({ env: `REDIS_URL=redis://:${password}@127.0.0.1:${server.port}\n` });
  const backup = await runCli(['backup', '-c', 'redis', '-y'], { cwd: project, env });
  expect(backup.code, backup.stderr).toBe(0);
  return { project, archive: backup.stdout.trim() };
}

/**
 * A server holding 400,000 keys in database 0 and, after them in the RDB, database 1 with a 3 MB
 * value; archived, then given other data ("old") in databases 0, 1 and 2.
 */
async function serverWithOtherData(password: string) {
  const server = await startHostRedis(password);
  fill(server, 0, 'new:', 400_000);
  fill(server, 1, 'new1:', 1_000);
  setIncompressible(server, 1, 'new1:big', 3 << 20);
  const { project, archive } = await backupOf(server, password);
  server.cli('FLUSHALL');
  fill(server, 0, 'old:', 5_000);
  fill(server, 1, 'old1:', 500);
  server.cli('-n', '2', 'SET', 'other', 'left alone');
  return { server, project, archive, old: digest(server, [0, 1, 2]) };
}

/** True once the restore has flushed database 0 and refilled a good part of it. */
function restoreUnderway(server: HostRedis): () => Promise<boolean> {
  return async () => (await server.cliAsync('EXISTS', 'old:1')) === '0' && Number(await server.cliAsync('DBSIZE')) >= 40_000;
}

// Each test restores hundreds of thousands of keys through the binary, some twice: on a busy
// 2-core machine that passes the default 60 s.
describe.skipIf(!hasRedisServer)(
  'online restore through REDIS_URL: the server ends with the archive data or its own (redis-server on the host)',
  { timeout: 240_000 },
  () => {
    it.each([
      [
        'its connection killed with CLIENT KILL',
        (server: HostRedis) => server.cliAsync('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes'),
      ],
      [
        'the server lowering proto-max-bulk-len under a 3 MB value to come (it drops the connection)',
        (server: HostRedis) => server.cliAsync('CONFIG', 'SET', 'proto-max-bulk-len', String(1024 * 1024)),
      ],
    ])(
      'a restore whose connection is lost after FLUSHDB (%s) puts the previous data back on a new connection and says so, with no stack trace',
      async (_, loseConnection) => {
        const { server, project, archive, old } = await serverWithOtherData('lost-pw');
        const restore = startCli(['restore', archive, '-y'], { cwd: project, env });
        await waitUntil('the restore is under way', restoreUnderway(server));
        await loseConnection(server);
        const result = await restore.result;
        const output = result.stdout + result.stderr;
        expect(result.code, output).toBe(1);
        expect(output).toMatch(
          /the online restore into Redis at 127\.0\.0\.1:\d+ stopped \(.*(closed the connection|was lost|Protocol error).*\); the previous data was put back, so 2 databases \(0, 1\) hold what they held before\./,
        );
        expect(output).toMatch(/It is also kept in docker\/\.pre-restore-[\dTZ-]+\/redis\/127\.0\.0\.1-\d+\.rdb/);
        expect(output).not.toMatch(STACK_TRACE);
        expect(output).not.toMatch(/EPIPE|unexpected failure/);
        expect(digest(server, [0, 1, 2])).toEqual(old);
      },
    );

    it('a server that dies mid-restore leaves the put-back failing too: the message says so plainly and names the kept snapshot, which holds the previous data', async () => {
      const { server, project, archive } = await serverWithOtherData('dead-pw');
      const restore = startCli(['restore', archive, '-y'], { cwd: project, env });
      await waitUntil('the restore is under way', restoreUnderway(server));
      server.process.kill('SIGKILL');
      const result = await restore.result;
      const output = result.stdout + result.stderr;
      expect(result.code, output).toBe(1);
      expect(output).toMatch(
        /the online restore into Redis at 127\.0\.0\.1:\d+ stopped \(.*\), and putting the previous data back failed too \(cannot reach Redis at 127\.0\.0\.1:\d+ \(ECONNREFUSED\)\): 2 databases \(0, 1\) are left flushed and partly restored\. The previous data is kept in (\S+\.rdb);/,
      );
      expect(output).not.toMatch(STACK_TRACE);
      const kept = /The previous data is kept in (\S+\.rdb);/.exec(output)![1];
      expect(kept.startsWith(join(project, 'docker', '.pre-restore-'))).toBe(true);
      const content = await readFile(kept);
      expect(content.subarray(0, 5).toString()).toBe('REDIS');
      expect(content.includes('old:4999')).toBe(true);
    });

    it('SIGINT during an online restore stops it between keys, puts the previous data back inside a critical section and says so', async () => {
      const { server, project, archive, old } = await serverWithOtherData('sigint-pw');
      const restore = startCli(['restore', archive, '-y'], { cwd: project, env });
      await waitUntil('the restore is under way', restoreUnderway(server));
      restore.signal('SIGINT');
      const result = await restore.result;
      const output = result.stdout + result.stderr;
      expect(result.code, output).toBe(1);
      expect(output).toMatch(
        /the online restore into Redis at 127\.0\.0\.1:\d+ was interrupted; the previous data was put back, so 2 databases \(0, 1\) hold what they held before\./,
      );
      expect(output).not.toMatch(STACK_TRACE);
      expect(digest(server, [0, 1, 2])).toEqual(old);
    });

    it('a database the target lacks (source: databases 32) or a value over its proto-max-bulk-len is refused by the dry run and the restore, exit 2, nothing changed', async () => {
      const source = await startHostRedis('src-pw', ['--databases', '32']);
      source.cli('SET', 'zero', '0');
      source.cli('-n', '20', 'SET', 'twenty', '20');
      setIncompressible(source, 0, 'big', 3 << 20);
      const { archive } = await backupOf(source, 'src-pw');

      const fewer = await startHostRedis('dst-pw');
      const shorter = await startHostRedis('dst-pw', ['--databases', '32', '--proto-max-bulk-len', '1mb']);
      for (const [target, refusal] of [
        [
          fewer,
          /the backup fills database 20 that Redis at 127\.0\.0\.1:\d+ does not have \(databases 0-15: its "databases" setting is 16\)/,
        ],
        [
          shorter,
          /the backup's key "big" needs a RESTORE of [\d.]+ MB, over the proto-max-bulk-len of Redis at 127\.0\.0\.1:\d+ \(1(\.0)? MB\)/,
        ],
      ] as const) {
        fill(target, 0, 'kept:', 100);
        const before = digest(target, [0]);
        const project = await makeProject({ env: `REDIS_URL=redis://:dst-pw@127.0.0.1:${target.port}\n` });
        for (const args of [['--dry-run'], ['-y']]) {
          const refused = await runCli(['restore', archive, ...args], { cwd: project, env });
          const output = refused.stdout + refused.stderr;
          expect(refused.code, output).toBe(2);
          expect(output).toMatch(refusal);
          expect(output).toContain('Nothing was touched.');
        }
        expect(digest(target, [0])).toEqual(before);
        expect((await readdir(join(project, 'docker'))).filter((name) => name.startsWith('.pre-restore-'))).toEqual([]);
      }
    });

    it('an RDB that fails its CRC-64 (as verify reports) is refused by the online dry run and restore, exit 2, nothing changed', async () => {
      const server = await startHostRedis('crc-pw');
      server.cli('SET', 'site', 'orkestra-value');
      const { project, archive } = await backupOf(server, 'crc-pw');
      // One byte of a value changed, the RDB's CRC-64 left as it was; the archive's own checksums recomputed.
      const damaged = join(project, 'backups', 'crc-damaged.tar.gz');
      await downgradeToV1(archive, damaged, (path, content) => {
        if (path !== 'redis/dump.rdb') return content;
        const at = content.indexOf('orkestra-value');
        expect(at).toBeGreaterThan(0);
        const copy = Buffer.from(content);
        copy[at + 'orkestra-value'.length - 1] = 'f'.charCodeAt(0);
        return copy;
      });
      const verify = await runCli(['verify', damaged], { cwd: project, env });
      expect(verify.stdout + verify.stderr).toMatch(/fails its CRC-64 checksum/);
      server.cli('SET', 'site', 'current');
      for (const args of [['--dry-run'], ['-y']]) {
        const refused = await runCli(['restore', damaged, ...args], { cwd: project, env });
        const output = refused.stdout + refused.stderr;
        expect(refused.code, output).toBe(2);
        expect(output).toMatch(
          /the backup's RDB file fails its CRC-64 checksum \(truncated or damaged\); an online restore does not load it/,
        );
      }
      expect(server.cli('GET', 'site')).toBe('current');
      expect(server.cli('DBSIZE')).toBe('1');
    });

    it('a server that stops reading mid-restore (SIGSTOP) is given up after ORKESTRA_REDIS_TIMEOUT_SECONDS, not waited on forever; the put-back meets the same limit and the message names the kept snapshot', async () => {
      const { server, project, archive } = await serverWithOtherData('stall-pw');
      const restore = startCli(['restore', archive, '-y'], { cwd: project, env: { ...env, ORKESTRA_REDIS_TIMEOUT_SECONDS: '2' } });
      await waitUntil('the restore is under way', restoreUnderway(server));
      server.process.kill('SIGSTOP');
      try {
        const result = await restore.result;
        const output = result.stdout + result.stderr;
        expect(result.code, output).toBe(1);
        expect(output).toMatch(
          /the online restore into Redis at 127\.0\.0\.1:\d+ stopped \(Redis at 127\.0\.0\.1:\d+ neither read nor answered for 2 s \(ORKESTRA_REDIS_TIMEOUT_SECONDS=2\); the connection was given up\), and putting the previous data back failed too \(Redis at 127\.0\.0\.1:\d+ neither read nor answered for 2 s .*\): 2 databases \(0, 1\) are left flushed and partly restored\. The previous data is kept in (\S+\.rdb);/,
        );
        expect(output).not.toMatch(STACK_TRACE);
      } finally {
        server.process.kill('SIGCONT');
      }
    });

    it('a restore that fails before its first FLUSHDB (SELECT refused to its user by an ACL) changes nothing and puts nothing back: the message says nothing was changed', async () => {
      const { server, archive, old } = await serverWithOtherData('acl-pw');
      server.cli('ACL', 'SETUSER', 'noselect', 'on', '>noselect-pw', '~*', '&*', '+@all', '-select');
      const project = await makeProject({ env: `REDIS_URL=redis://noselect:noselect-pw@127.0.0.1:${server.port}\n` });
      server.cli('-n', '1', 'SET', 'old1:1', 'written after the snapshot was kept');
      const before = digest(server, [0, 1, 2]);
      expect(before).not.toEqual(old);
      const result = await runCli(['restore', archive, '-y'], { cwd: project, env });
      const output = result.stdout + result.stderr;
      expect(result.code, output).toBe(1);
      expect(output).toMatch(
        /the online restore into Redis at 127\.0\.0\.1:\d+ stopped before its first change \(Redis at 127\.0\.0\.1:\d+ refused SELECT 0: NOPERM.*\); nothing was changed\./,
      );
      expect(output).not.toMatch(/put back|putting the previous data back/);
      expect(digest(server, [0, 1, 2])).toEqual(before);
    });

    it('a live server whose own value needs a RESTORE over its proto-max-bulk-len is refused before the first change: its data could not be put back online, and the message says it is the live data', async () => {
      const source = await startHostRedis('small-pw');
      source.cli('SET', 'new', 'value');
      const { archive } = await backupOf(source, 'small-pw');
      const live = await startHostRedis('live-pw');
      fill(live, 0, 'old:', 100);
      setIncompressible(live, 0, 'live:big', 3 << 20);
      live.cli('CONFIG', 'SET', 'proto-max-bulk-len', String(1024 * 1024));
      const before = digest(live, [0]);
      const project = await makeProject({ env: `REDIS_URL=redis://:live-pw@127.0.0.1:${live.port}\n` });
      const result = await runCli(['restore', archive, '-y'], { cwd: project, env });
      const output = result.stdout + result.stderr;
      expect(result.code, output).toBe(1);
      expect(output).toMatch(
        /the current data of Redis at 127\.0\.0\.1:\d+ could not be put back online if the restore failed \(its snapshot: key "live:big" needs a RESTORE of [\d.]+ MB, over its proto-max-bulk-len \(1(\.0)? MB\)\)\. This is the live server's own data, not the archive's/,
      );
      expect(output).toContain('Nothing was changed.');
      expect(output).not.toMatch(/another archive/);
      expect(digest(live, [0])).toEqual(before);
    });

    it('the dry run of a hostile RDB whose set has 4 million one-byte members (gzips small) measures it without holding it: refused over a 1 MB proto-max-bulk-len, and accepted under the default one, with the heap capped at 96 MB', async () => {
      const source = await startHostRedis('set-pw');
      source.cli('SET', 'kept', 'untouched');
      const { project: sourceProject, archive } = await backupOf(source, 'set-pw');
      const hostile = join(sourceProject, 'backups', 'many-members.tar.gz');
      await downgradeToV1(archive, hostile, (path, content) =>
        path === 'redis/dump.rdb' ? withRecord(content, setOfOneByteMembers('many', 4_000_000)) : content,
      );
      const capped = { ...env, NODE_OPTIONS: '--max-old-space-size=96' };
      const tight = await startHostRedis('tight-pw', ['--proto-max-bulk-len', '1mb']);
      for (const [target, password, expected] of [
        [tight, 'tight-pw', 2],
        [source, 'set-pw', 0],
      ] as const) {
        const project = await makeProject({ env: `REDIS_URL=redis://:${password}@127.0.0.1:${target.port}\n` });
        const dryRun = await runCli(['restore', hostile, '--dry-run'], { cwd: project, env: capped });
        const output = dryRun.stdout + dryRun.stderr;
        expect(dryRun.code, output).toBe(expected);
        if (expected === 2) {
          expect(output).toMatch(
            /the backup's key "many" needs a RESTORE of 8(\.0)? MB, over the proto-max-bulk-len of Redis at 127\.0\.0\.1:\d+ \(1(\.0)? MB\)/,
          );
        } else {
          expect(output).toContain('2 keys in database 0, each with RESTORE');
        }
        expect(output).not.toMatch(/heap|out of memory/i);
      }
      expect(source.cli('DBSIZE')).toBe('1');
    });

    it('the dry run of a backup of an empty Redis says no database is flushed and changes nothing', async () => {
      const server = await startHostRedis('empty-pw');
      const { project, archive } = await backupOf(server, 'empty-pw');
      server.cli('SET', 'later', 'kept');
      const dryRun = await runCli(['restore', archive, '--dry-run'], { cwd: project, env });
      expect(dryRun.code, dryRun.stdout + dryRun.stderr).toBe(0);
      expect(dryRun.stdout).toContain("the backup's RDB holds no keys, so no database is flushed and nothing is restored");
      expect(dryRun.stdout).not.toContain('()');
      const restore = await runCli(['restore', archive, '-y'], { cwd: project, env });
      expect(restore.code, restore.stdout + restore.stderr).toBe(0);
      expect(server.cli('GET', 'later')).toBe('kept');
    });
  },
);
