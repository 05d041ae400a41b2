import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { chmod, copyFile, cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { create as createTar } from 'tar';

/**
 * The images the engine tests run. Offline (the default here): small images made without a
 * registry — busybox, Debian's real redis-server, s3rver on Node, and MongoDB STAND-INS. With
 * ORKESTRA_TEST_IMAGES=upstream: the real mongo, redis, redis-stack and MinIO images, for
 * machines that can pull them.
 */
export interface TestImages {
  mode: 'offline' | 'upstream';
  redis: string;
  redisStack: string;
  s3: string;
  mongo: string;
}

/** The checkout, found from this file whether it runs as TypeScript (tests) or compiled (the benchmark). */
const REPO = (() => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== '/'; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'test/engine/standins'))) return dir;
  }
  throw new Error('cannot find the orkestra-backup checkout');
})();
const STANDINS = join(REPO, 'test/engine/standins');
const FIXTURES = join(REPO, 'test/fixtures/mongodump');

export const UPSTREAM_IMAGES = {
  redis: process.env.ORKESTRA_TEST_REDIS_IMAGE ?? 'redis:7',
  redisStack: process.env.ORKESTRA_TEST_REDIS_STACK_IMAGE ?? 'redis/redis-stack-server:7.2.0-v10',
  s3: process.env.ORKESTRA_TEST_S3_IMAGE ?? 'minio/minio:latest',
  mongo: process.env.ORKESTRA_TEST_MONGO_IMAGE ?? 'mongo:7',
};

export async function prepareImages(docker: Docker): Promise<TestImages> {
  if (process.env.ORKESTRA_TEST_IMAGES === 'upstream') {
    for (const image of Object.values(UPSTREAM_IMAGES)) await pull(docker, image);
    return { mode: 'upstream', ...UPSTREAM_IMAGES };
  }
  const redis = await buildImage(docker, 'redis', async (root) => {
    await addBusybox(root);
    await addBinary(root, '/usr/bin/redis-server');
    await addBinary(root, '/usr/bin/redis-cli');
    await mkdir(join(root, 'data'));
  });
  const s3 = await buildImage(docker, 's3', async (root) => {
    await addBusybox(root);
    await addBinary(root, realpathSync(process.execPath), '/usr/bin/node');
    await copyPackageClosure('s3rver', join(root, 'opt/s3/node_modules'));
    await copyFile(join(STANDINS, 's3-server.cjs'), join(root, 'opt/s3/server.cjs'));
    await mkdir(join(root, 'data'));
  });
  const mongo = await buildImage(docker, 'mongo-standin', async (root) => {
    await addBusybox(root);
    await addBinary(root, realpathSync(process.execPath), '/usr/bin/node');
    await copyPackageClosure('bson', join(root, 'opt/standin/node_modules'));
    await copyFile(join(STANDINS, 'common.cjs'), join(root, 'opt/standin/common.cjs'));
    for (const tool of ['mongodump', 'mongorestore', 'mongosh']) {
      await copyFile(join(STANDINS, tool), join(root, 'usr/bin', tool));
      await chmod(join(root, 'usr/bin', tool), 0o755);
    }
    await mkdir(join(root, 'stand-in'), { recursive: true });
    for (const fixture of await readdir(FIXTURES)) {
      if (fixture.endsWith('.archive')) await copyFile(join(FIXTURES, fixture), join(root, 'stand-in', fixture));
    }
  });
  return { mode: 'offline', redis, redisStack: redis, s3, mongo };
}

const BUSYBOX_APPLETS = [
  'sh',
  'ls',
  'cat',
  'tar',
  'mkdir',
  'rm',
  'sleep',
  'cp',
  'mv',
  'gzip',
  'gunzip',
  'head',
  'tail',
  'tee',
  'touch',
  'echo',
  'printf',
  'ps',
  'sed',
  'grep',
  'wc',
  'test',
  'env',
  'sha256sum',
  'id',
  'chmod',
  'kill',
  'find',
  'stat',
  'true',
  'false',
  'tr',
  'xargs',
];

async function addBusybox(root: string): Promise<void> {
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((path) => existsSync(path));
  if (!busybox) throw new Error('busybox is not installed (apt-get install busybox-static)');
  for (const dir of ['bin', 'usr/bin', 'etc', 'tmp', 'root', 'proc', 'sys', 'dev']) await mkdir(join(root, dir), { recursive: true });
  await chmod(join(root, 'tmp'), 0o1777);
  await copyFile(busybox, join(root, 'bin/busybox'));
  await chmod(join(root, 'bin/busybox'), 0o755);
  for (const applet of BUSYBOX_APPLETS) await symlink('/bin/busybox', join(root, 'bin', applet));
  await writeFile(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  await writeFile(join(root, 'etc/group'), 'root:x:0:\n');
}

/** Copies a dynamically linked binary and every library ldd lists, at the same paths. */
async function addBinary(root: string, hostPath: string, containerPath = hostPath): Promise<void> {
  await copyRegular(hostPath, join(root, containerPath));
  await chmod(join(root, containerPath), 0o755);
  const ldd = execFileSync('ldd', [hostPath], { encoding: 'utf8' });
  for (const line of ldd.split('\n')) {
    const match = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (match && !existsSync(join(root, match[1]))) await copyRegular(match[1], join(root, match[1]));
  }
}

/** Copies file content (following symlinks) without writing through a symlink at the destination. */
async function copyRegular(source: string, destination: string): Promise<void> {
  await mkdir(dirname(destination), { recursive: true });
  await rm(destination, { force: true });
  await copyFile(realpathSync(source), destination);
}

/** A package and its runtime dependencies, resolved the way Node resolves them, into a node_modules folder. */
async function copyPackageClosure(name: string, targetModules: string): Promise<void> {
  const modulesRoot = join(REPO, 'node_modules');
  const seen = new Set<string>();
  const visit = async (packageDir: string) => {
    if (seen.has(packageDir)) return;
    seen.add(packageDir);
    const relative = packageDir.slice(modulesRoot.length + 1);
    await cp(packageDir, join(targetModules, relative), {
      recursive: true,
      filter: (source) => !source.slice(packageDir.length).includes('/node_modules'),
    });
    const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    for (const dependency of Object.keys(manifest.dependencies ?? {})) {
      await visit(resolvePackage(dependency, packageDir, modulesRoot));
    }
  };
  await visit(join(modulesRoot, name));
}

function resolvePackage(name: string, fromDir: string, modulesRoot: string): string {
  for (let dir = fromDir; dir.startsWith(modulesRoot); dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
  }
  const top = join(modulesRoot, name);
  if (existsSync(join(top, 'package.json'))) return top;
  throw new Error(`cannot resolve ${name} from ${fromDir}`);
}

/** Builds a root filesystem in a temp folder and imports it as an image tagged by its content. */
async function buildImage(docker: Docker, name: string, fill: (root: string) => Promise<void>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), `okb-image-${name}-`));
  try {
    await fill(root);
    const digest = execFileSync('sh', ['-c', `cd "${root}" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum`], {
      encoding: 'utf8',
    }).slice(0, 12);
    const tag = `orkestra-test/${name}:${digest}`;
    const exists = await docker
      .getImage(tag)
      .inspect()
      .then(
        () => true,
        () => false,
      );
    if (!exists) {
      const stream = Readable.fromWeb(createTar({ cwd: root, portable: true }, ['.']));
      const progress = await docker.importImage(stream, {
        repo: `orkestra-test/${name}`,
        tag: digest,
      });
      await followProgress(docker, progress);
    }
    return tag;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

async function pull(docker: Docker, image: string): Promise<void> {
  const exists = await docker
    .getImage(image)
    .inspect()
    .then(
      () => true,
      () => false,
    );
  if (!exists) await followProgress(docker, await docker.pull(image));
}

function followProgress(docker: Docker, stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(stream, (error: Error | null, output: { error?: string }[]) => {
      const failed = output?.find((entry) => entry.error);
      if (error || failed) reject(error ?? new Error(failed!.error));
      else resolve();
    });
  });
}
