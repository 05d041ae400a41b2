import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { Containers, describeEngine, engineEnv, engineStack, imageMode, writeDotenv } from '../helpers/engine.js';
import { makeProject } from '../helpers/project.js';
import { s3Client, seed, snapshotStore } from '../helpers/s3.js';
import { execText, startMongo, startRedis, startS3, uniqueName, type StackContext } from '../engine/stack.js';
import { namesBesideHistory } from '../helpers/history.js';

const containers = new Containers();
let stack: StackContext;

beforeAll(() => {
  stack = engineStack();
});
afterAll(() => containers.removeAll());

async function running(name: string): Promise<boolean> {
  return (await stack.docker.getContainer(name).inspect()).State.Running;
}

/** Waits until the restore has put at least this many objects back. */
async function objectsRestored(client: ReturnType<typeof s3Client>, count: number): Promise<void> {
  for (;;) {
    const page = await client.send(new ListObjectsV2Command({ Bucket: 'many' })).catch(() => undefined);
    if ((page?.KeyCount ?? 0) >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describeEngine('faults on the real engine', () => {
  it.skipIf(imageMode === 'upstream')(
    'SIGINT or SIGTERM (encrypted) during a backup: quick exit, no archive, no partial file or spool, no password file, containers running [mongodump STAND-IN that hangs]',
    async () => {
      const mongo = containers.track(await startMongo(stack, uniqueName('okb-mongo'), { rootUser: 'root', rootPassword: 'sig-pw' })).name;
      await execText(stack, mongo, ['touch', '/stand-in/slow-dump']);
      for (const signal of ['SIGINT', 'SIGTERM'] as const) {
        const project = await makeProject();
        await writeDotenv(project, { MONGO_DATABASE: 'test' });
        // The SIGTERM run is encrypted: its spool beside the archive must go too.
        const encryption = signal === 'SIGTERM' ? ['-r', await identityToRecipient(await generateIdentity())] : [];
        const cli = startCli(['backup', 'all', '-y', '--container', `mongodb=${mongo}`, ...encryption], { cwd: project, env: engineEnv() });
        await cli.waitForStderr(/mongodb: dumping database test/);
        await new Promise((resolve) => setTimeout(resolve, 500));
        const sentAt = Date.now();
        cli.signal(signal);
        const result = await cli.result;
        expect(result.exitedAt - sentAt).toBeLessThan(5_000);
        expect(result.code).toBe(1);
        expect(result.stderr).toContain(`interrupted by ${signal}`);
        expect(result.stderr).not.toMatch(/\n\s+at /);
        expect(await namesBesideHistory(join(project, 'backups'))).toEqual([]); // not even a hidden partial file
        expect(await running(mongo)).toBe(true);
        expect(await execText(stack, mongo, ['sh', '-c', 'ls -a /tmp'])).not.toContain('.orkestra-backup-');
      }
    },
  );

  it('SIGINT during a redis restore: the container runs again on its previous data', async () => {
    const redis = containers.track(await startRedis(stack, uniqueName('okb-redis'), { password: 'int-pw' })).name;
    const cli = (...args: string[]) => execText(stack, redis, ['redis-cli', ...args], ['REDISCLI_AUTH=int-pw']);
    await cli('CONFIG', 'SET', 'rdbcompression', 'no');
    // 400 MB that the RDB stores uncompressed, so the copy into the container takes a while.
    await cli('EVAL', "for i=1,400 do redis.call('SET','big:'..i,string.rep('x',1048576)) end", '0');
    const project = await makeProject({ keys: false });
    await writeDotenv(project, { REDIS_PASSWORD: 'int-pw' });
    const args = ['--container', `redis=${redis}`];
    const backup = await runCli(['backup', '-c', 'redis', '-y', ...args], { cwd: project, env: engineEnv() });
    expect(backup.code).toBe(0);
    await cli('FLUSHALL');
    await cli('SET', 'after-backup', 'still-here');

    const restore = startCli(['restore', backup.stdout.trim(), '-y', ...args], { cwd: project, env: engineEnv() });
    await restore.waitForStderr(/redis: stopping /);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    restore.signal('SIGINT');
    const result = await restore.result;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/redis: starting /);
    expect(await running(redis)).toBe(true);
    for (let attempt = 0; attempt < 50 && !(await cli('PING')).includes('PONG'); attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // Interrupted mid-copy, the previous files were put back: the data is what it was before the restore.
    expect((await cli('GET', 'after-backup')).trim()).toBe('still-here');
    expect((await cli('DBSIZE')).trim()).toBe('1');

    // Uninterrupted, the same 400 MB restore completes (large files through the archive API both ways).
    const complete = await runCli(['restore', backup.stdout.trim(), '-y', ...args], { cwd: project, env: engineEnv(), timeoutMs: 200_000 });
    expect(complete.stderr).not.toContain('FAILED');
    expect(complete.code).toBe(0);
    expect((await cli('DBSIZE')).trim()).toBe('400');
    expect((await cli('STRLEN', 'big:400')).trim()).toBe('1048576');
  }, 400_000);

  it('the object store restarting in the middle of a restore is ridden out with retries; going away for good is one clear error naming what was restored', async () => {
    const s3 = containers.track(await startS3(stack, uniqueName('okb-rustfs'), { accessKey: 'fault-a', secretKey: 'fault-s' }));
    const client = s3Client(s3.endpoint, 'fault-a', 'fault-s');
    const objects = Array.from({ length: 400 }, (_, index) => ({
      bucket: 'many',
      key: `objects/${String(index).padStart(4, '0')}.txt`,
      body: Buffer.alloc(64 * 1024, `object ${index} `),
    }));
    await seed(client, ['many'], objects);
    const project = await makeProject({ keys: false });
    await writeDotenv(project, {
      RUSTFS_ACCESS_KEY: 'fault-a',
      RUSTFS_SECRET_KEY: 'fault-s',
      ...(imageMode === 'upstream' ? {} : { RUSTFS_ENDPOINT: s3.endpoint }),
    });
    const args = ['--container', `rustfs=${s3.name}`];
    const backup = await runCli(['backup', '-c', 'rustfs', '-y', ...args], { cwd: project, env: engineEnv() });
    expect(backup.code).toBe(0);
    const archive = backup.stdout.trim();
    const expected = await snapshotStore(client);

    // A restart in the middle: the restore waits and finishes.
    await execText(stack, s3.name, ['sh', '-c', 'rm -rf /data/many']);
    const restarted = startCli(['restore', archive, '-y', ...args], { cwd: project, env: engineEnv() });
    await restarted.waitForStderr(/rustfs: restoring/);
    await objectsRestored(client, 40);
    // Down for longer than the SDK's own quick retries last, as a container restart can be.
    await stack.docker.getContainer(s3.name).stop({ t: 0 });
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    await stack.docker.getContainer(s3.name).start();
    const ridden = await restarted.result;
    expect(ridden.stderr).toMatch(/cannot reach the object store .*; trying again in \d+ s/);
    expect(ridden.code).toBe(0);
    expect(await snapshotStore(client)).toEqual(expected);

    // Gone for good: after the retries, one error that says how far it got.
    await execText(stack, s3.name, ['sh', '-c', 'rm -rf /data/many']);
    const abandoned = startCli(['restore', archive, '-y', ...args], { cwd: project, env: engineEnv() });
    await abandoned.waitForStderr(/rustfs: restoring/);
    await objectsRestored(client, 40);
    await stack.docker.getContainer(s3.name).stop({ t: 0 });
    try {
      const result = await abandoned.result;
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /restore of rustfs failed: \d+ of 400 objects were restored before a failure at many\/objects\/\d{4}\.txt: cannot reach the object store .*run the restore again once the store answers\. No component was fully restored\./,
      );
      expect(result.stderr.split('\n').filter((line) => line.startsWith('orkestra-backup:'))).toHaveLength(1);
    } finally {
      await stack.docker.getContainer(s3.name).start();
    }
  }, 180_000);
});
