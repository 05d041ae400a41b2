import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { Containers, describeEngine, engineEnv, engineStack, imageMode } from '../helpers/engine.js';
import { makeProject } from '../helpers/project.js';
import { deleteObject, s3Client, seed, snapshotStore } from '../helpers/s3.js';
import { execText, startMongo, startRedis, startS3, uniqueName, watchArgv, type StackContext } from '../engine/stack.js';

const label = imageMode === 'upstream' ? '' : ' (mongodb through the STAND-INS)';
const containers = new Containers();
let stack: StackContext;
let project: string;
let env: NodeJS.ProcessEnv;
let redisName: string;
let mongoName: string;
let client: ReturnType<typeof s3Client>;

beforeAll(async () => {
  stack = engineStack();
  redisName = containers.track(await startRedis(stack, uniqueName('okb-redis'), { password: 'rt-redis-pw' })).name;
  mongoName = containers.track(await startMongo(stack, uniqueName('okb-mongo'), { rootUser: 'root', rootPassword: 'rt-mongo-pw' })).name;
  const s3 = containers.track(await startS3(stack, uniqueName('okb-rustfs'), { accessKey: 'rt-access', secretKey: 'rt-secret' }));
  client = s3Client(s3.endpoint, 'rt-access', 'rt-secret');
  project = await makeProject();
  const dotenv = [
    'MONGO_DATABASE=test',
    'MONGO_ROOT_PASSWORD=rt-mongo-pw',
    'REDIS_PASSWORD=rt-redis-pw',
    'RUSTFS_ACCESS_KEY=rt-access',
    'RUSTFS_SECRET_KEY=rt-secret',
    ...(imageMode === 'upstream' ? [] : [`RUSTFS_ENDPOINT=${s3.endpoint}`]),
  ];
  await writeFile(join(project, 'docker/.env'), `${dotenv.join('\n')}\n`, { mode: 0o600 });
  // Container names come from the environment here, as a fork would set them.
  env = {
    ...engineEnv(),
    ORKESTRA_MONGODB_CONTAINER: mongoName,
    ORKESTRA_REDIS_CONTAINER: redisName,
    ORKESTRA_RUSTFS_CONTAINER: s3.name,
    ORKESTRA_ENV: 'staging',
  };
  await execText(stack, redisName, ['redis-cli', 'SET', 'session:1', 'alive'], ['REDISCLI_AUTH=rt-redis-pw']);
  await seed(
    client,
    ['avatars', 'exports'],
    [
      { bucket: 'avatars', key: 'u/1.png', body: Buffer.from('png-bytes'), contentType: 'image/png', metadata: { owner: 'ada' } },
      { bucket: 'exports', key: 'report.csv', body: Buffer.from('a,b\n1,2\n'), contentType: 'text/csv' },
    ],
  );
});
afterAll(() => containers.removeAll());

describeEngine('all four components, end to end through the binary', () => {
  it(`backup all → damage → restore --dry-run → restore -y brings everything back, no secret in any output or argv${label}`, async () => {
    const watchers = [await watchArgv(stack, redisName), await watchArgv(stack, mongoName)];
    const backup = await runCli(['backup', 'all', '-y'], { cwd: project, env });
    expect(backup.stderr).not.toContain('FAILED');
    expect(backup.code).toBe(0);
    const archive = backup.stdout.trim();
    expect(archive).toMatch(/backups\/orkestra-backup-staging-\d{8}-\d{6}\.tar\.gz$/);
    const listing = execFileSync('tar', ['tzf', archive], { encoding: 'utf8' }).trim().split('\n');
    expect(listing.slice(0, 5)).toEqual(['manifest.json', ...['mongodb', 'redis', 'rustfs', 'secrets'].map((c) => `index/${c}.jsonl`)]);
    const folders = [...new Set(listing.slice(5).map((path) => path.split('/')[0]))];
    expect(folders).toEqual(['mongodb', 'redis', 'rustfs', 'secrets']);
    expect(listing).toEqual(
      expect.arrayContaining([
        'mongodb/dump/part-00000000',
        'mongodb/database.txt',
        'redis/dump.rdb',
        'redis/redis-layout.txt',
        'redis/appendonlydir/appendonly.aof.manifest',
        'rustfs/avatars/u/1.png',
        'rustfs/exports/report.csv',
        'secrets/.env',
        'secrets/keys/jwt-private.pem',
        'secrets/keys/jwt-public.pem',
      ]),
    );
    const manifest = JSON.parse(execFileSync('tar', ['xzOf', archive, 'manifest.json'], { encoding: 'utf8' }));
    expect(manifest.components).toEqual(['mongodb', 'redis', 'rustfs', 'secrets']);
    expect(manifest.environment).toBe('staging');
    const secretValues = ['rt-redis-pw', 'rt-mongo-pw', 'rt-secret'];
    for (const secret of secretValues) {
      expect(JSON.stringify(manifest)).not.toContain(secret);
      expect(backup.stderr + backup.stdout).not.toContain(secret);
    }

    await execText(stack, redisName, ['redis-cli', 'FLUSHALL'], ['REDISCLI_AUTH=rt-redis-pw']);
    await deleteObject(client, 'avatars', 'u/1.png');
    const envPath = join(project, 'docker/.env');
    const originalEnv = await readFile(envPath, 'utf8');
    await writeFile(envPath, `${originalEnv}EDITED_AFTER_BACKUP=1\n`);

    const dryRun = await runCli(['restore', archive, '--dry-run'], { cwd: project, env });
    expect(dryRun.code).toBe(0);
    for (const heading of ['\nmongodb\n', '\nredis\n', '\nrustfs\n', '\nsecrets\n']) expect(dryRun.stdout).toContain(heading);
    expect(dryRun.stdout).toContain('add avatars/u/1.png');
    expect(dryRun.stdout).toContain('docker/.env: exists (would prompt / move aside)');
    expect((await execText(stack, redisName, ['redis-cli', 'DBSIZE'], ['REDISCLI_AUTH=rt-redis-pw'])).trim()).toBe('0');

    const restore = await runCli(['restore', archive, '-y'], { cwd: project, env });
    expect(restore.stderr).not.toContain('FAILED');
    expect(restore.code).toBe(0);
    expect(
      restore.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(':')[0]),
    ).toEqual(['restored mongodb', 'restored redis', 'restored rustfs', 'restored secrets']);
    expect((await execText(stack, redisName, ['redis-cli', 'GET', 'session:1'], ['REDISCLI_AUTH=rt-redis-pw'])).trim()).toBe('alive');
    expect((await snapshotStore(client))['avatars/u/1.png']).toMatchObject({ contentType: 'image/png', metadata: { owner: 'ada' } });
    expect(await readFile(envPath, 'utf8')).toBe(originalEnv);
    for (const secret of secretValues) expect(restore.stderr + restore.stdout + dryRun.stdout + dryRun.stderr).not.toContain(secret);
    const argv = (await Promise.all(watchers.map((watcher) => watcher.stop()))).join('\n');
    expect(argv).toContain('redis-server'); // the sampler saw the processes
    for (const secret of secretValues) expect(argv).not.toContain(secret);
  });

  it('backup all skips a stopped component and names it with the reason; the manifest lists only what was captured', async () => {
    await stack.docker.getContainer(mongoName).stop({ t: 1 });
    try {
      const backup = await runCli(['backup', 'all', '-y', '--json'], { cwd: project, env });
      expect(backup.code).toBe(0);
      expect(backup.stderr).toMatch(new RegExp(`Skipping mongodb: container ${mongoName} is exited`));
      const result = JSON.parse(backup.stdout);
      expect(result.components).toEqual(['redis', 'rustfs', 'secrets']);
      expect(result.skipped).toEqual([{ component: 'mongodb', reason: `container ${mongoName} is exited` }]);
      const manifest = JSON.parse(execFileSync('tar', ['xzOf', result.archive, 'manifest.json'], { encoding: 'utf8' }));
      expect(manifest.components).toEqual(['redis', 'rustfs', 'secrets']);

      // --strict (for CI): the same run fails with exit 1, naming what was skipped.
      const strict = await runCli(['backup', 'all', '-y', '--json', '--strict'], { cwd: project, env });
      expect(strict.code).toBe(1);
      expect(JSON.parse(strict.stdout)).toMatchObject({ ok: false, skipped: [{ component: 'mongodb' }] });
      expect(strict.stderr).toMatch(new RegExp(`--strict: skipped mongodb \\(container ${mongoName} is exited\\)`));

      const named = await runCli(['backup', '-c', 'mongodb,secrets', '-y'], { cwd: project, env });
      expect(named.code).toBe(1);
      expect(named.stderr).toMatch(/cannot back up mongodb \(container .* is exited\)\. Nothing was written\./);
    } finally {
      await stack.docker.getContainer(mongoName).start();
    }
  });

  it('an unreachable Docker engine is one line naming DOCKER_HOST; backup all still captures the secrets, and the object store through RUSTFS_ENDPOINT alone', async () => {
    const unreachable = { ...env, DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
    const named = await runCli(['backup', '-c', 'redis', '-y'], { cwd: project, env: unreachable });
    expect(named.code).toBe(1);
    expect(named.stderr).toMatch(/cannot reach the Docker engine at DOCKER_HOST=unix:\/\/\/nonexistent\/docker\.sock/);
    expect(
      named.stderr
        .trim()
        .split('\n')
        .filter((line) => line.startsWith('orkestra-backup:')),
    ).toHaveLength(1);
    const all = await runCli(['backup', 'all', '-y', '--json'], { cwd: project, env: unreachable });
    expect(all.code).toBe(0);
    // Offline, docker/.env names the store's endpoint: it needs no Docker (upstream, the endpoint comes from the container).
    expect(JSON.parse(all.stdout).components).toEqual(imageMode === 'upstream' ? ['secrets'] : ['rustfs', 'secrets']);
  });
});
