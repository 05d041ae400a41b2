import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runCli } from './cli.js';
import { engineEnv, engineStack, imageMode, type Containers } from './engine.js';
import { makeProject } from './project.js';
import { s3Client } from './s3.js';
import { execText, startMongo, startRedis, startS3, uniqueName, type StackContext } from '../engine/stack.js';

/** A live stack to drill from: its containers, a project whose docker/.env holds their secrets, the env to run the binary with. */
export interface DrillStack {
  stack: StackContext;
  names: { redis: string; mongo: string; s3: string };
  client: ReturnType<typeof s3Client>;
  project: string;
  env: NodeJS.ProcessEnv;
  redisPassword: string;
  /** The project's drill objects (other test files drill their own projects on the same engine at the same time). */
  drillLeftovers: () => Promise<string[]>;
  /** redis-cli against the live Redis, authenticated. */
  redis: (...args: string[]) => Promise<string>;
}

/**
 * Starts live Redis, MongoDB and S3 containers (tracked for removal) and a project pointing at
 * them; every secret is `<prefix>-…`, so each test file's stack is told apart on the shared engine.
 */
export async function startDrillStack(containers: Containers, prefix: string): Promise<DrillStack> {
  const stack = engineStack();
  const redisPassword = `${prefix}-redis-pw`;
  const accessKey = `${prefix}-access`;
  const secretKey = `${prefix}-secret`;
  // appendonly off: the live server's RDB is what the backup holds, and a restored server loads it alone.
  const redisContainer = containers.track(await startRedis(stack, uniqueName('okb-redis'), { password: redisPassword, appendonly: false }));
  const mongo = containers.track(
    await startMongo(stack, uniqueName('okb-mongo'), { rootUser: 'root', rootPassword: `${prefix}-mongo-pw` }),
  );
  const s3 = containers.track(await startS3(stack, uniqueName('okb-rustfs'), { accessKey, secretKey }));
  const names = { redis: redisContainer.name, mongo: mongo.name, s3: s3.name };
  const project = await makeProject({
    env: [
      'MONGO_DATABASE=test',
      `MONGO_ROOT_PASSWORD=${prefix}-mongo-pw`,
      `REDIS_PASSWORD=${redisPassword}`,
      `RUSTFS_ACCESS_KEY=${accessKey}`,
      `RUSTFS_SECRET_KEY=${secretKey}`,
      `OAUTH_TOKEN_ENCRYPTION_KEY=${prefix}-oauth-key`,
      // The live endpoint: a drill must never use it, whatever docker/.env says.
      ...(imageMode === 'upstream' ? [] : [`RUSTFS_ENDPOINT=${s3.endpoint}`]),
      '',
    ].join('\n'),
  });
  const env = {
    ...engineEnv(),
    ORKESTRA_MONGODB_CONTAINER: names.mongo,
    ORKESTRA_REDIS_CONTAINER: names.redis,
    ORKESTRA_RUSTFS_CONTAINER: names.s3,
  };
  return {
    stack,
    names,
    client: s3Client(s3.endpoint, accessKey, secretKey),
    project,
    env,
    redisPassword,
    drillLeftovers: () => drillObjects(stack, project),
    redis: (...args) => execText(stack, names.redis, ['redis-cli', ...args], [`REDISCLI_AUTH=${redisPassword}`]),
  };
}

/** A project's drill objects: containers, networks and volumes labelled with it. */
async function drillObjects(stack: StackContext, project: string): Promise<string[]> {
  const filters = { label: [`orkestra-backup.drill.project=${project}`] };
  const [containerList, networks, volumes] = await Promise.all([
    stack.docker.listContainers({ all: true, filters }),
    stack.docker.listNetworks({ filters }),
    stack.docker.listVolumes({ filters }),
  ]);
  return [
    ...containerList.map((container) => `container ${container.Names[0]}`),
    ...networks.map((network) => `network ${network.Name}`),
    ...(volumes.Volumes ?? []).map((volume) => `volume ${volume.Name}`),
  ];
}

/**
 * A project with a directory component `spool` (docker/spool: inner/run.sh and note.txt), backed
 * up with its secrets; returns the project folder and the archive.
 */
export async function spoolProject(options: Parameters<typeof makeProject>[0] = {}): Promise<{ dir: string; archive: string }> {
  const dir = await makeProject(options);
  await writeFile(
    join(dir, 'orkestra-backup.json'),
    JSON.stringify({ components: { spool: { kind: 'directory', path: 'docker/spool' } } }),
  );
  await mkdir(join(dir, 'docker/spool/inner'), { recursive: true });
  await writeFile(join(dir, 'docker/spool/inner/run.sh'), '#!/bin/sh\nid\n');
  await writeFile(join(dir, 'docker/spool/note.txt'), 'hello\n');
  const backup = await runCli(['backup', '-c', 'spool,secrets', '-y'], { cwd: dir, env: engineEnv() });
  expect(backup.code).toBe(0);
  return { dir, archive: backup.stdout.trim() };
}
