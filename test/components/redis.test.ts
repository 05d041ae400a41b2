import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { manifestFor, writeRawArchive } from '../helpers/archives.js';
import { expectNoStackTrace, runCli, startCli } from '../helpers/cli.js';
import { Containers, describeEngine, engineEnv, engineStack, writeDotenv } from '../helpers/engine.js';
import { makeProject } from '../helpers/project.js';
import { namesBesideHistory } from '../helpers/history.js';
import { withLzfBomb, withRecord } from '../helpers/rdbRecords.js';
import { execText, startRedis, uniqueName, type StackContext } from '../engine/stack.js';

const PASSWORD = 'redis-pw-Zq81';
const containers = new Containers();
let stack: StackContext;

beforeAll(() => {
  stack = engineStack();
});
afterAll(() => containers.removeAll());

function cli(name: string, ...args: string[]): Promise<string> {
  return execText(stack, name, ['redis-cli', ...args], [`REDISCLI_AUTH=${PASSWORD}`]);
}

async function seed(name: string): Promise<void> {
  await cli(name, 'SET', 'greeting', 'hello world');
  await cli(name, 'HSET', 'user:1', 'name', 'Ada', 'role', 'admin');
  await cli(name, 'RPUSH', 'queue', 'a', 'b', 'c');
  await cli(name, 'SADD', 'tags', 'x', 'y');
  await cli(name, 'ZADD', 'scores', '1', 'one', '2.5', 'two');
  await cli(name, 'SET', 'session:ttl', 'expires', 'EX', '3600');
}

async function expectSeeded(name: string): Promise<void> {
  expect((await cli(name, 'GET', 'greeting')).trim()).toBe('hello world');
  expect((await cli(name, 'HGETALL', 'user:1')).trim().split('\n')).toEqual(['name', 'Ada', 'role', 'admin']);
  expect((await cli(name, 'LRANGE', 'queue', '0', '-1')).trim().split('\n')).toEqual(['a', 'b', 'c']);
  expect((await cli(name, 'SMEMBERS', 'tags')).trim().split('\n').sort()).toEqual(['x', 'y']);
  expect((await cli(name, 'ZRANGE', 'scores', '0', '-1', 'WITHSCORES')).trim().split('\n')).toEqual(['one', '1', 'two', '2.5']);
  const ttl = Number((await cli(name, 'TTL', 'session:ttl')).trim());
  expect(ttl).toBeGreaterThan(3000);
  expect(ttl).toBeLessThanOrEqual(3600);
}

async function startedAt(name: string): Promise<string> {
  return (await stack.docker.getContainer(name).inspect()).State.StartedAt;
}

/** The previous files a restore kept of the container, by name (none yet: empty). */
async function keptFiles(project: string, name: string): Promise<string[]> {
  const asides = (await readdir(join(project, 'docker')).catch(() => [])).filter((entry) => entry.startsWith('.pre-restore-'));
  const found = await Promise.all(asides.map((aside) => readdir(join(project, 'docker', aside, 'redis', name)).catch(() => [])));
  return found.flat();
}

async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A project whose docker/.env holds the password of the test servers. */
async function projectFor(_name: string): Promise<string> {
  const project = await makeProject({ keys: false });
  await writeDotenv(project, { REDIS_PASSWORD: PASSWORD });
  return project;
}

function run(project: string, name: string, args: string[]) {
  return runCli([...args, '--container', `redis=${name}`], { cwd: project, env: engineEnv() });
}

describeEngine('redis through the Docker Engine API', () => {
  it.each([
    ['data', '/data'],
    ['root', '/'],
  ] as const)(
    'every data type survives backup → FLUSHALL → restore with dir=%s (appendonly yes); keys of every database are counted',
    async (layout, dir) => {
      const name = containers.track(await startRedis(stack, uniqueName('okb-redis'), { layout, password: PASSWORD })).name;
      const project = await projectFor(name);
      await seed(name);
      await cli(name, '-n', '1', 'SET', 'other-db:key', 'kept');

      const backup = await run(project, name, ['backup', '-c', 'redis', '-y']);
      expect(backup.stderr).toContain(`layout: dir=${dir}`);
      expect(backup.code).toBe(0);
      expect(backup.stderr).toMatch(/redis: done, .* — 7 keys, RDB/);
      const archive = backup.stdout.trim();
      const listing = execFileSync('tar', ['tzf', archive], { encoding: 'utf8' }).trim().split('\n');
      expect(listing).toContain('redis/dump.rdb');
      expect(listing).toContain('redis/redis-layout.txt');
      expect(listing.some((path) => /^redis\/appendonlydir\/appendonly\.aof\.\d+\.base\.rdb$/.test(path))).toBe(true);
      expect(listing).toContain('redis/appendonlydir/appendonly.aof.manifest');
      expect(execFileSync('tar', ['xzOf', archive, 'redis/redis-layout.txt'], { encoding: 'utf8' })).toContain(`dir=${dir}\n`);

      await cli(name, 'FLUSHALL');
      expect((await cli(name, 'DBSIZE')).trim()).toBe('0');
      const before = await startedAt(name);

      const dryRun = await run(project, name, ['restore', archive, '--dry-run']);
      expect(dryRun.code).toBe(0);
      const rdbTarget = dir === '/' ? '/dump.rdb' : '/data/dump.rdb';
      expect(dryRun.stdout).toContain(`redis/dump.rdb → ${name}:${rdbTarget}`);
      expect(dryRun.stdout).toMatch(/redis\/appendonlydir\/ \(\d+ files\) → .*appendonlydir\//);
      expect((await cli(name, 'DBSIZE')).trim()).toBe('0');
      expect(await startedAt(name)).toBe(before); // dry-run never stopped it

      const restore = await run(project, name, ['restore', archive, '-y']);
      expect(restore.stderr).not.toContain('FAILED');
      expect(restore.code).toBe(0);
      expect(restore.stdout).toMatch(/restored redis: 7 keys loaded/);
      expect((await cli(name, '-n', '1', 'GET', 'other-db:key')).trim()).toBe('kept');
      expect((await stack.docker.getContainer(name).inspect()).State.Running).toBe(true);
      await expectSeeded(name);
      // What the restore replaced is kept on the host, as the tar files `docker cp` writes.
      const aside = (await readdir(join(project, 'docker'))).find((entry) => /^\.pre-restore-\d{8}-\d{6}$/.test(entry))!;
      const kept = await readdir(join(project, 'docker', aside, 'redis', name));
      expect(kept.sort()).toEqual(['appendonlydir.tar', 'dump.rdb.tar']);
      const keptRdb = execFileSync('tar', ['tf', join(project, 'docker', aside, 'redis', name, 'dump.rdb.tar')], { encoding: 'utf8' });
      expect(keptRdb.trim()).toBe('dump.rdb');
    },
  );

  it.each([true, false])(
    'a server with save points and appendonly %s is stopped without its shutdown snapshot only when the AOF holds every write (the kept files show which); its save points are back after the restart',
    async (appendonly) => {
      const name = containers.track(
        await startRedis(stack, uniqueName('okb-redis'), { appendonly, password: PASSWORD, savePoints: '3600 1' }),
      ).name;
      const project = await projectFor(name);
      await seed(name);
      const backup = await run(project, name, ['backup', '-c', 'redis', '-y']);
      expect(backup.code).toBe(0);
      await cli(name, 'SET', 'canary', 'written-after-the-backup'); // after the backup's BGSAVE: only in the AOF, or in a shutdown snapshot

      const restore = await run(project, name, ['restore', backup.stdout.trim(), '-y']);
      expect(restore.code).toBe(0);
      expect(restore.stderr.includes('no shutdown snapshot')).toBe(appendonly);
      await expectSeeded(name);
      expect((await cli(name, 'CONFIG', 'GET', 'save')).trim().split('\n')[1]).toBe('3600 1');
      const aside = (await readdir(join(project, 'docker'))).find((entry) => /^\.pre-restore-\d{8}-\d{6}$/.test(entry))!;
      const kept = (file: string) => readFileSync(join(project, 'docker', aside, 'redis', name, file)).includes('written-after-the-backup');
      expect(kept('dump.rdb.tar')).toBe(!appendonly);
      if (appendonly) expect(kept('appendonlydir.tar')).toBe(true);
    },
  );

  it('appendonly no: the RDB alone is restored', async () => {
    const name = containers.track(await startRedis(stack, uniqueName('okb-redis'), { appendonly: false, password: PASSWORD })).name;
    const project = await projectFor(name);
    await seed(name);
    const backup = await run(project, name, ['backup', '-c', 'redis', '-y']);
    expect(backup.code).toBe(0);
    await cli(name, 'FLUSHALL');
    const restore = await run(project, name, ['restore', backup.stdout.trim(), '-y']);
    expect(restore.code).toBe(0);
    await expectSeeded(name);
  });

  it('an RDB-only backup restored into a server with appendonly yes is loaded (the RDB becomes the AOF base)', async () => {
    const source = containers.track(await startRedis(stack, uniqueName('okb-redis'), { appendonly: false, password: PASSWORD })).name;
    const target = containers.track(await startRedis(stack, uniqueName('okb-redis'), { appendonly: true, password: PASSWORD })).name;
    const project = await projectFor(source);
    await seed(source);
    const backup = await run(project, source, ['backup', '-c', 'redis', '-y']);
    expect(backup.code).toBe(0);
    await cli(target, 'SET', 'stale', 'value-from-before');
    const dryRun = await run(project, target, ['restore', backup.stdout.trim(), '--dry-run']);
    expect(dryRun.stdout).toContain('gets a new AOF manifest whose base is the restored RDB');
    const restore = await run(project, target, ['restore', backup.stdout.trim(), '-y']);
    expect(restore.code).toBe(0);
    await expectSeeded(target);
    expect((await cli(target, 'EXISTS', 'stale')).trim()).toBe('0');
  });

  it('the password is found in the container environment when docker/.env has none', async () => {
    const name = containers.track(
      await startRedis(stack, uniqueName('okb-redis'), { password: PASSWORD, passwordInContainerEnv: true }),
    ).name;
    const project = await makeProject({ keys: false, env: 'OTHER=1\n' });
    await seed(name);
    const backup = await run(project, name, ['backup', '-c', 'redis', '-y']);
    expect(backup.code).toBe(0);
  });

  it('a wrong password is a clear precondition failure, and nothing is written', async () => {
    const name = containers.track(await startRedis(stack, uniqueName('okb-redis'), { password: PASSWORD })).name;
    const project = await makeProject({ keys: false });
    await writeDotenv(project, { REDIS_PASSWORD: 'wrong-password' });
    const backup = await run(project, name, ['backup', '-c', 'redis', '-y']);
    expect(backup.code).toBe(1);
    expect(backup.stderr).toMatch(/refused the password.*REDIS_PASSWORD/);
    expect(backup.stderr).not.toContain('wrong-password');
    expect(await namesBesideHistory(`${project}/backups`)).toEqual([]);
  });

  it('a stopped container fails the dry-run and the restore before anything changes', async () => {
    const name = containers.track(await startRedis(stack, uniqueName('okb-redis'), { password: PASSWORD })).name;
    const project = await projectFor(name);
    await seed(name);
    const backup = await run(project, name, ['backup', '-c', 'redis', '-y']);
    expect(backup.code).toBe(0);
    await stack.docker.getContainer(name).stop({ t: 1 });
    const dryRun = await run(project, name, ['restore', backup.stdout.trim(), '--dry-run']);
    expect(dryRun.code).toBe(1);
    expect(dryRun.stdout).toMatch(/FAILED: container .* is exited, not running/);
    const restore = await run(project, name, ['restore', backup.stdout.trim(), '-y']);
    expect(restore.code).toBe(1);
    expect(restore.stderr).toMatch(/restore refused, nothing was changed — redis: container .* is exited/);
    expect((await stack.docker.getContainer(name).inspect()).State.Running).toBe(false);
    const asked = await run(project, name, ['backup', '-c', 'redis', '-y']);
    expect(asked.code).toBe(1);
    expect(asked.stderr).toMatch(/cannot back up redis \(container .* is exited\)/);
  });

  /** The backup with its RDB replaced by other bytes (checksums recomputed): what a damaged or foreign RDB looks like. */
  async function withRdb(archive: string, rdb: Buffer): Promise<string> {
    const manifest = JSON.parse(execFileSync('tar', ['xzOf', archive, 'manifest.json'], { encoding: 'utf8' }));
    const layout = execFileSync('tar', ['xzOf', archive, 'redis/redis-layout.txt']);
    const files = [
      { path: 'redis/redis-layout.txt', content: layout },
      { path: 'redis/dump.rdb', content: rdb },
    ];
    const crafted = join(dirname(archive), `crafted-${Date.now()}.tar.gz`);
    const rebuilt = manifestFor(files, { components: ['redis'], details: manifest.details });
    await writeRawArchive(crafted, [{ path: 'manifest.json', content: JSON.stringify(rebuilt) }, ...files]);
    return crafted;
  }

  it('Redis that does not load the restored RDB gets its previous files back and runs again, and the error says so', async () => {
    const name = containers.track(await startRedis(stack, uniqueName('okb-redis'), { password: PASSWORD, appendonly: false })).name;
    const project = await projectFor(name);
    await seed(name);
    const backup = await run(project, name, ['backup', '-c', 'redis', '-y']);
    expect(backup.code).toBe(0);
    await cli(name, 'SAVE'); // the previous files on disk hold the seeded keys
    // The real RDB with a key of a module type (7) this server has no module for: sound to the
    // tool's checks (CRC-64 recomputed; the walk cannot step over module data), refused by Redis.
    const rdb = execFileSync('tar', ['xzOf', backup.stdout.trim(), 'redis/dump.rdb']);
    const unloadable = await withRdb(backup.stdout.trim(), withRecord(rdb, Buffer.from([0x07, 0x01, 0x6d, 0x01, 0x00])));
    const restore = await run(project, name, ['restore', unloadable, '-y']);
    expect(restore.code).toBe(1);
    expect(restore.stderr).toMatch(
      /Redis in \S+ did not load the restored files: it exited instead of loading them.*The previous files were put back and it runs again on them \(6 keys\)/,
    );
    expect((await stack.docker.getContainer(name).inspect()).State.Running).toBe(true);
    await expectSeeded(name);
  });

  it('interrupted while the restored files are copied in: the previous files are put back, Redis runs on them, and the error says so and where they are kept', async () => {
    const name = containers.track(await startRedis(stack, uniqueName('okb-redis'), { password: PASSWORD })).name;
    const project = await projectFor(name);
    await seed(name);
    const fill = 'head -c 100000000 /dev/urandom > /tmp/random && redis-cli -x SET random < /tmp/random && rm /tmp/random';
    expect(await execText(stack, name, ['/bin/sh', '-c', fill], [`REDISCLI_AUTH=${PASSWORD}`])).toContain('OK');
    const backup = await run(project, name, ['backup', '-c', 'redis', '-y', '--compression', 'gzip:1']);
    expect(backup.code, backup.stderr).toBe(0);
    await cli(name, 'DEL', 'random');
    const restoring = startCli(['restore', backup.stdout.trim(), '-y', '--container', `redis=${name}`], {
      cwd: project,
      env: engineEnv(),
      timeoutMs: 240_000,
    });
    // The AOF folder is the last of the previous files kept: once its tar is there, the copy in is next.
    await waitUntil(async () => (await keptFiles(project, name)).includes('appendonlydir.tar'), 120_000);
    restoring.signal('SIGINT');
    const result = await restoring.result;
    expect(result.code, result.stderr).not.toBe(0);
    expectNoStackTrace(result.stderr);
    expect(result.stderr).toMatch(
      /the copy of the restored files into \S+ was interrupted; the previous files were put back and it is started on them\. They are also kept in \S+\/\.pre-restore-[\d-]+\/redis\/okb-redis\S*\./,
    );
    await waitUntil(async () => (await cli(name, 'DBSIZE').catch(() => '')).trim() === '6', 60_000);
    await expectSeeded(name);
    expect((await cli(name, 'EXISTS', 'random')).trim()).toBe('0');
  });

  it('a backup RDB newer than the live Redis can load is refused by the dry run, before the container is stopped', async () => {
    const name = containers.track(await startRedis(stack, uniqueName('okb-redis'), { password: PASSWORD })).name;
    const project = await projectFor(name);
    await seed(name);
    const backup = await run(project, name, ['backup', '-c', 'redis', '-y']);
    const before = await startedAt(name);
    const future = await withRdb(backup.stdout.trim(), Buffer.concat([Buffer.from('REDIS0099'), Buffer.alloc(32)]));
    const dryRun = await run(project, name, ['restore', future, '--dry-run']);
    expect(dryRun.code).toBe(1);
    expect(dryRun.stdout).toMatch(/FAILED: the backup's RDB is version 99, newer than Redis [\d.]+ in \S+ can load \(up to version \d+\)/);
    const restore = await run(project, name, ['restore', future, '-y']);
    expect(restore.code).toBe(1);
    expect(await startedAt(name)).toBe(before);
  });

  it('a hostile RDB (2 GB declared by 821 bytes of LZF, CRC-64 and SHA-256 valid) is refused by the dry run and the restore through the container, exit 2, before Redis is stopped', async () => {
    const name = containers.track(await startRedis(stack, uniqueName('okb-redis'), { password: PASSWORD })).name;
    const project = await projectFor(name);
    await seed(name);
    const backup = await run(project, name, ['backup', '-c', 'redis', '-y']);
    expect(backup.code).toBe(0);
    const rdb = execFileSync('tar', ['xzOf', backup.stdout.trim(), 'redis/dump.rdb']);
    const hostile = await withRdb(backup.stdout.trim(), withLzfBomb(rdb));
    const before = await startedAt(name);
    for (const args of [['--dry-run'], ['-y']]) {
      const refused = await run(project, name, ['restore', hostile, ...args]);
      expect(refused.code, refused.stdout + refused.stderr).toBe(2);
      expect(refused.stdout + refused.stderr).toMatch(
        /redis\/dump\.rdb: in the value of key "big" \(database 0\), at byte \d+: an LZF-compressed string declares 2\.1 GB uncompressed from 821 bytes/,
      );
    }
    expect(await startedAt(name)).toBe(before);
    await expectSeeded(name);
  });
});
