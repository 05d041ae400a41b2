import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { downgradeToV1 } from '../helpers/archives.js';
import { runCli } from '../helpers/cli.js';
import { hasRedisServer, startHostRedis, stopHostRedis } from '../helpers/hostRedis.js';
import { makeProject } from '../helpers/project.js';
import { withLzfBomb, withRecord } from '../helpers/rdbRecords.js';

/**
 * An archive whose RDB holds a value made to exhaust memory: 821 bytes of LZF declaring 2 GB
 * uncompressed, in a file whose CRC-64 and SHA-256 are valid. verify, the dry run and the restore
 * through REDIS_URL (redis-server on the host) refuse it by the key walk, before any change.
 */

afterAll(stopHostRedis);

/** A string key "cut" whose value declares 50 bytes where 5 follow (then the EOF opcode and the checksum). */
function withCutRecord(rdb: Buffer): Buffer {
  return withRecord(rdb, Buffer.concat([Buffer.from([0x00, 0x03]), Buffer.from('cut'), Buffer.from([50]), Buffer.from('short')]));
}

/** A server holding two keys, a project reaching it through REDIS_URL, and its backup with the RDB rewritten by `rewrite`. */
async function hostileArchive(rewrite: (rdb: Buffer) => Buffer) {
  const { port, cli } = await startHostRedis('hostile-pw');
  cli('SET', 'kept', 'untouched');
  cli('HSET', 'kept:hash', 'a', '1', 'b', '2');
  const project = await makeProject({ env: `REDIS_URL=redis://:hostile-pw@127.0.0.1:${port}\n` });
  const backup = await runCli(['backup', '-c', 'redis', '-y'], { cwd: project, env: ENV });
  expect(backup.code, backup.stderr).toBe(0);
  const archive = join(project, 'backups', 'hostile.tar.gz');
  await downgradeToV1(backup.stdout.trim(), archive, (path, content) => (path === 'redis/dump.rdb' ? rewrite(content) : content));
  const untouched = async () => {
    expect(cli('DBSIZE')).toBe('2');
    expect(cli('GET', 'kept')).toBe('untouched');
    expect(cli('HGETALL', 'kept:hash').split('\n')).toEqual(['a', '1', 'b', '2']);
    expect((await readdir(join(project, 'docker'))).filter((name) => name.startsWith('.pre-restore-'))).toEqual([]);
  };
  return { cli, project, archive, untouched };
}

const ENV = { DOCKER_HOST: 'unix:///nonexistent.sock' };

describe.skipIf(!hasRedisServer)('hostile RDB values (redis-server on the host)', () => {
  it('an LZF value of 821 bytes declaring 2 GB: verify reports the archive damaged (exit 2), the dry run and the restore through REDIS_URL refuse it with exit 2 naming the key, the server untouched', async () => {
    const { cli, project, archive, untouched } = await hostileArchive(withLzfBomb);
    const verify = await runCli(['verify', archive], { cwd: project, env: ENV });
    expect(verify.code, verify.stdout + verify.stderr).toBe(2);
    expect(verify.stdout).not.toContain('Result: sound.');
    expect(verify.stdout).toMatch(
      /redis: redis\/dump\.rdb: in the value of key "big" \(database 0\), at byte \d+: an LZF-compressed string declares 2\.1 GB uncompressed from 821 bytes, which LZF expands to 72\.2 kB at most \(damaged or hostile archive\)/,
    );

    const memoryBefore = Number(/used_memory:(\d+)/.exec(cli('INFO', 'memory'))![1]);
    for (const args of [['--dry-run'], ['-y']]) {
      const refused = await runCli(['restore', archive, ...args], { cwd: project, env: ENV });
      expect(refused.code, refused.stdout + refused.stderr).toBe(2);
      expect(refused.stderr).toMatch(
        /the RDB file is damaged in the value of key "big" \(database 0\), at byte \d+: an LZF-compressed string declares 2\.1 GB uncompressed from 821 bytes, which LZF expands to 72\.2 kB at most\. Nothing was touched\./,
      );
      expect(refused.stderr).not.toMatch(/\n\s+at /); // no stack trace
    }
    await untouched();
    expect(Number(/used_memory:(\d+)/.exec(cli('INFO', 'memory'))![1])).toBeLessThan(memoryBefore + 1024 * 1024);
  });

  it('a value declaring more bytes than the file holds: verify, the REDIS_URL dry run and the restore say the RDB is damaged there, naming the key and the byte, exit 2, the server untouched', async () => {
    const { project, archive, untouched } = await hostileArchive(withCutRecord);
    const verify = await runCli(['verify', archive], { cwd: project, env: ENV });
    expect(verify.code, verify.stdout + verify.stderr).toBe(2);
    expect(verify.stdout).toMatch(
      /in the value of key "cut" \(database 0\), at byte \d+: a string declares 50 bytes, past the end of the file \(14 left\)/,
    );
    for (const args of [['--dry-run'], ['-y']]) {
      const refused = await runCli(['restore', archive, ...args], { cwd: project, env: ENV });
      expect(refused.code, refused.stdout + refused.stderr).toBe(2);
      expect(refused.stderr).toMatch(
        /the RDB file is damaged in the value of key "cut" \(database 0\), at byte \d+: a string declares 50 bytes, past the end of the file \(14 left\)\. Nothing was touched\./,
      );
      expect(refused.stderr).not.toContain('holds the file ends');
    }
    await untouched();
  });
});
