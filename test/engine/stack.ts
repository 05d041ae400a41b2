import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type Docker from 'dockerode';
import { clientFor } from './engine.js';
import type { TestImages } from './images.js';

/**
 * Test containers on the engine. Offline, Redis and the MongoDB stand-in run with network mode
 * "none" (their own loopback only, like a container on the stack network: `redis-cli` inside
 * reaches its server on 6379) and the S3 server on the host's loopback at a free port. Upstream
 * images run on the default bridge with the S3 port published, as a Compose stack does.
 */
export interface StackContext {
  docker: Docker;
  dockerHost: string;
  images: TestImages;
}

export interface RunningContainer {
  name: string;
  remove(): Promise<void>;
}

export function stackContext(dockerHost: string, images: TestImages): StackContext {
  return { docker: clientFor(dockerHost), dockerHost, images };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

export interface RedisOptions {
  /** `data`: stock redis image (dir /data); `root`: redis-stack (dir /). */
  layout?: 'data' | 'root';
  appendonly?: boolean;
  password?: string;
  /** Put REDIS_PASSWORD in the container's environment (where the tool may find it). */
  passwordInContainerEnv?: boolean;
  /** `save` points (`3600 1`); none by default, so that no snapshot is written unasked. */
  savePoints?: string;
}

export async function startRedis(stack: StackContext, name: string, options: RedisOptions = {}): Promise<RunningContainer> {
  const dir = options.layout === 'root' ? '/' : '/data';
  const appendonly = options.appendonly === false ? 'no' : 'yes';
  // The password goes through a config file, never redis-server's argv.
  const script = [
    options.password ? `printf 'requirepass %s\\n' "$TEST_REDIS_PASSWORD" > /tmp/redis.conf` : ': > /tmp/redis.conf',
    `exec redis-server /tmp/redis.conf --dir ${dir} --appendonly ${appendonly} --bind 127.0.0.1 --port 6379 --save '${options.savePoints ?? ''}'`,
  ].join(' && ');
  const upstream = stack.images.mode === 'upstream';
  const image = options.layout === 'root' ? stack.images.redisStack : stack.images.redis;
  const env = [`TEST_REDIS_PASSWORD=${options.password ?? ''}`];
  if (options.password && options.passwordInContainerEnv) env.push(`REDIS_PASSWORD=${options.password}`);
  const container = await create(stack, name, {
    Image: image,
    Entrypoint: ['/bin/sh', '-c'],
    Cmd: [script],
    Env: env,
    HostConfig: { Init: true, NetworkMode: upstream ? 'bridge' : 'none' },
  });
  await waitFor(async () => {
    const output = await execText(stack, name, ['redis-cli', 'PING'], options.password ? [`REDISCLI_AUTH=${options.password}`] : []);
    return output.includes('PONG');
  }, `redis in ${name}`);
  return container;
}

export interface S3Options {
  accessKey: string;
  secretKey: string;
}

export async function startS3(stack: StackContext, name: string, options: S3Options): Promise<RunningContainer & { endpoint: string }> {
  if (stack.images.mode === 'upstream') {
    const container = await create(stack, name, {
      Image: stack.images.s3,
      Cmd: ['server', '/data', '--address', ':9000'],
      Env: [`MINIO_ROOT_USER=${options.accessKey}`, `MINIO_ROOT_PASSWORD=${options.secretKey}`],
      ExposedPorts: { '9000/tcp': {} },
      HostConfig: { Init: true, PortBindings: { '9000/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } },
    });
    const info = await stack.docker.getContainer(name).inspect();
    const port = info.NetworkSettings.Ports['9000/tcp'][0].HostPort;
    const endpoint = `http://127.0.0.1:${port}`;
    await waitForHttp(endpoint);
    return { ...container, endpoint };
  }
  const port = await freePort();
  const container = await create(stack, name, {
    Image: stack.images.s3,
    Cmd: ['/usr/bin/node', '--openssl-legacy-provider', '/opt/s3/server.cjs'],
    Env: [`S3_PORT=${port}`, `RUSTFS_ACCESS_KEY=${options.accessKey}`, `RUSTFS_SECRET_KEY=${options.secretKey}`],
    HostConfig: { Init: true, NetworkMode: 'host' },
  });
  const endpoint = `http://127.0.0.1:${port}`;
  await waitForHttp(endpoint);
  return { ...container, endpoint };
}

/**
 * Writes `count` small objects (`p0000/o0000000` …, 1,000 per folder) straight into the s3rver
 * stand-in's folder, with their `.md5` files: putting a million objects through its HTTP API
 * takes far too long, and s3rver walks a whole folder on every listing page. Whatever reads
 * them afterwards reads them over S3. Not possible with real RustFS, whose disk format is its own.
 */
export async function fillStandInBucket(stack: StackContext, name: string, bucket: string, count: number): Promise<void> {
  const script = `
const fs = require('fs');
const crypto = require('crypto');
const [bucket, count] = [process.argv[1], Number(process.argv[2])];
for (let folder = 0; folder * 1000 < count; folder += 1) {
  const dir = '/data/' + bucket + '/p' + String(folder).padStart(4, '0');
  fs.mkdirSync(dir, { recursive: true });
  for (let n = folder * 1000; n < Math.min(count, (folder + 1) * 1000); n += 1) {
    const file = dir + '/o' + String(n).padStart(7, '0') + '._S3rver_object';
    const body = 'object ' + n + '\\n';
    fs.writeFileSync(file, body);
    fs.writeFileSync(file + '.md5', crypto.createHash('md5').update(body).digest('hex'));
  }
}
console.log('filled ' + count);
`;
  const output = await execText(stack, name, ['node', '-e', script, bucket, String(count)]);
  if (!output.includes(`filled ${count}`)) throw new Error(`filling ${bucket} in ${name} failed: ${output}`);
}

export interface MongoOptions {
  /** The real archive the stand-in replays (a file of test/fixtures/mongodump). */
  fixture?: string;
  rootUser?: string;
  rootPassword?: string;
  /** More environment for the container (the benchmark's MONGO_STANDIN_DISCARD=1). */
  extraEnv?: string[];
}

/** Offline: a container carrying the mongodump/mongorestore STAND-INS. Upstream: a real mongod. */
export async function startMongo(stack: StackContext, name: string, options: MongoOptions = {}): Promise<RunningContainer> {
  const env = [];
  if (options.rootUser) env.push(`MONGO_INITDB_ROOT_USERNAME=${options.rootUser}`);
  if (options.rootPassword) env.push(`MONGO_INITDB_ROOT_PASSWORD=${options.rootPassword}`);
  if (stack.images.mode === 'upstream') {
    const container = await create(stack, name, { Image: stack.images.mongo, Env: env, HostConfig: { Init: true } });
    await waitFor(
      async () => (await execText(stack, name, ['mongosh', '--quiet', '--eval', 'db.runCommand({ping:1}).ok'])).includes('1'),
      `mongod in ${name}`,
    );
    return container;
  }
  env.push(`MONGO_STANDIN_FIXTURE=${options.fixture ?? 'test.bar.archive'}`, ...(options.extraEnv ?? []));
  return create(stack, name, {
    Image: stack.images.mongo,
    Cmd: ['/bin/sh', '-c', 'while :; do sleep 3600; done'],
    Env: env,
    HostConfig: { Init: true, NetworkMode: 'none' },
  });
}

async function create(stack: StackContext, name: string, options: Docker.ContainerCreateOptions): Promise<RunningContainer> {
  const container = await stack.docker.createContainer({ name, ...options });
  await container.start();
  return {
    name,
    remove: () =>
      container.remove({ force: true, v: true }).then(
        () => undefined,
        () => undefined,
      ),
  };
}

/** Runs a command in a container and returns its stdout (stderr appended), as a test helper. */
export async function execText(stack: StackContext, name: string, command: string[], env: string[] = []): Promise<string> {
  const exec = await stack.docker.getContainer(name).exec({ Cmd: command, Env: env, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  const { PassThrough } = await import('node:stream');
  const out = new PassThrough();
  out.on('data', (chunk: Buffer) => chunks.push(chunk));
  stack.docker.modem.demuxStream(stream, out, out);
  await new Promise((resolve) => stream.on('end', resolve));
  return Buffer.concat(chunks).toString('utf8');
}

/** The bytes of a file in a container, through the archive API. */
export async function readContainerFile(stack: StackContext, name: string, path: string): Promise<Buffer> {
  const { entries } = await import('tar');
  const archive = await stack.docker.getContainer(name).getArchive({ path });
  const chunks: Uint8Array[] = [];
  for await (const entry of entries(archive as AsyncIterable<Buffer>)) chunks.push(await entry.bytes());
  return Buffer.concat(chunks);
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function waitForHttp(endpoint: string): Promise<void> {
  await waitFor(async () => {
    await fetch(endpoint);
    return true;
  }, `S3 at ${endpoint}`);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Samples the argv of every process in a container every 20 ms until stopped: a secret passed
 * on a command line would show up here, as it would in `ps` inside the container.
 */
export async function watchArgv(stack: StackContext, name: string): Promise<{ stop(): Promise<string> }> {
  const exec = await stack.docker.getContainer(name).exec({
    Cmd: ['sh', '-c', 'while :; do cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\\000" " "; echo; sleep 0.02; done'],
    AttachStdout: true,
    AttachStderr: true,
  });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  stream.on('error', () => undefined);
  return {
    async stop() {
      stream.destroy();
      return Buffer.concat(chunks).toString('latin1');
    },
  };
}
