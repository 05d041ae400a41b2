import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Crc64 } from '../../src/integrity/crc64.js';
import { freePort } from '../engine/stack.js';
import { downgradeToV1 } from '../helpers/archives.js';
import { runCli } from '../helpers/cli.js';
import { hasRedisServer } from '../helpers/hostRedis.js';
import { makeProject } from '../helpers/project.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

/**
 * An archive whose RDB holds a value made to exhaust memory: 821 bytes of LZF declaring 2 GB
 * uncompressed, in a file whose CRC-64 and SHA-256 are valid. verify, the dry run and the restore
 * through REDIS_URL (redis-server on the host) refuse it by the key walk, before any change.
 */

const servers: ChildProcess[] = [];
afterAll(() => {
  for (const server of servers) server.kill();
});

async function startServer(password: string): Promise<{ port: number; cli: (...args: string[]) => string }> {
  const dir = await temporaryFolder('okb-redis-hostile-');
  const port = await freePort();
  servers.push(
    spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--requirepass', password],
      { stdio: 'ignore' },
    ),
  );
  const cli = (...args: string[]) =>
    execFileSync('redis-cli', ['-p', String(port), '--no-auth-warning', '-a', password, ...args], { encoding: 'utf8' }).trim();
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if (cli('PING') === 'PONG') return { port, cli };
    } catch {
      if (Date.now() > deadline) throw new Error('redis-server did not start');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The RDB with one more string key, "big", before its EOF: LZF bytes that expand to 72 kB at most
 * (the literal "a", then 273 back-references of 264 bytes) declaring 2 GB. CRC-64 recomputed.
 */
/** The RDB with `record` added before its EOF opcode, its CRC-64 recomputed: sound to the checksum. */
function withRecord(rdb: Buffer, record: Buffer): Buffer {
  const body = Buffer.concat([rdb.subarray(0, rdb.length - 9), record, Buffer.from([0xff])]);
  const crc = Crc64.jones();
  crc.update(body);
  const checksum = Buffer.alloc(8);
  checksum.writeBigUInt64LE(crc.digest());
  return Buffer.concat([body, checksum]);
}

function withLzfBomb(rdb: Buffer): Buffer {
  const compressed = Buffer.concat([Buffer.from([0x00, 0x61]), ...Array.from({ length: 273 }, () => Buffer.from([0xe0, 0xff, 0x00]))]);
  const lengths = Buffer.alloc(1 + 2 + 1 + 4);
  lengths.writeUInt16BE(0x4000 | compressed.length, 1); // 14-bit length
  lengths[0] = 0xc3; // LZF string encoding
  lengths[3] = 0x80; // 32-bit length
  lengths.writeUInt32BE(2 ** 31, 4);
  return withRecord(rdb, Buffer.concat([Buffer.from([0x00, 0x03]), Buffer.from('big'), lengths, compressed]));
}

/** A string key "cut" whose value declares 50 bytes where 5 follow (then the EOF opcode and the checksum). */
function withCutRecord(rdb: Buffer): Buffer {
  return withRecord(rdb, Buffer.concat([Buffer.from([0x00, 0x03]), Buffer.from('cut'), Buffer.from([50]), Buffer.from('short')]));
}

/** A server holding two keys, a project reaching it through REDIS_URL, and its backup with the RDB rewritten by `rewrite`. */
async function hostileArchive(rewrite: (rdb: Buffer) => Buffer) {
  const { port, cli } = await startServer('hostile-pw');
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

  it('a value declaring more bytes than the file holds: verify, the REDIS_URL dry run and the restore say the RDB is damaged there (not that it "holds the file ends inside a record"), exit 2, the server untouched', async () => {
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
