/**
 * The machine's limit for a dataset: the time the irreducible work of a backup and of a restore
 * takes on this machine, measured part by part with the leanest tools at hand, so the tool's time
 * can be read as a multiple of it (issue 16: backup within 1.5x).
 *
 * Backup: the raw streams out of the containers and the store, each to /dev/null (mongodump's
 * archive; Redis's SAVE and its data folder through the engine's archive API; every object read
 * with the S3 SDK, 8 at once), then `pigz -p <cores> -6` of the archive's tar bytes. Restore:
 * `pigz -d` of the archive, then the raw streams in (mongorestore from the dump, Redis stopped,
 * its files copied in, started and loaded; every object put back, 8 at once). The parts are run
 * one after the other and added: on two cores each of them alone already keeps both busy (pigz)
 * or shares them with the server that receives the data, so running them side by side would not
 * be faster. The tool overlaps some of them; the limit is a yardstick, not a bound it cannot beat.
 */
import { spawn } from 'node:child_process';
import { BoundedTasks } from '../src/base/concurrency.js';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join, relative } from 'node:path';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

export interface LimitPart {
  name: string;
  wallMs: number;
}

export interface Limit {
  operation: 'backup' | 'restore';
  codec?: 'zstd';
  parts: LimitPart[];
  wallMs: number;
}

export interface LimitTargets {
  dockerHost: string;
  mongo: string;
  redis: string;
  mongoDatabase: string;
  store: S3Client;
  /** A folder for the unpacked archive (removed after). */
  work: string;
  /** Empties the object store before the raw restore's uploads. */
  emptyStore: () => Promise<void>;
}

const TRANSFERS = 8;

export async function backupLimit(targets: LimitTargets, archive: string): Promise<Limit> {
  const parts: LimitPart[] = [];
  const shell = (command: string) => run('sh', ['-c', command], targets.dockerHost);
  parts.push(
    await timed('read MongoDB (mongodump to /dev/null)', () =>
      shell(`docker exec ${targets.mongo} mongodump --db ${targets.mongoDatabase} --archive > /dev/null`),
    ),
  );
  parts.push(
    await timed('read Redis (SAVE, data folder to /dev/null)', () =>
      shell(`docker exec ${targets.redis} redis-cli SAVE > /dev/null && docker cp ${targets.redis}:/data - > /dev/null`),
    ),
  );
  parts.push(await timed(`read the store (every object, ${TRANSFERS} at once)`, () => readEveryObject(targets.store)));
  const tar = join(targets.work, 'limit.tar');
  await shell(`pigz -dc '${archive}' > '${tar}'`);
  try {
    parts.push(
      await timed(`pigz -p ${availableParallelism()} -6 of the tar bytes`, () =>
        shell(`pigz -p ${availableParallelism()} -6 -c '${tar}' > /dev/null`),
      ),
    );
  } finally {
    await rm(tar, { force: true });
  }
  return total('backup', parts);
}

export async function restoreLimit(targets: LimitTargets, archive: string): Promise<Limit> {
  const parts: LimitPart[] = [];
  const shell = (command: string) => run('sh', ['-c', command], targets.dockerHost);
  parts.push(await timed('pigz -d of the archive', () => shell(`pigz -dc '${archive}' > /dev/null`)));
  const unpacked = join(targets.work, 'limit-unpacked');
  await mkdir(unpacked, { recursive: true });
  try {
    await shell(`tar xzf '${archive}' -C '${unpacked}'`);
    parts.push(
      await timed('write MongoDB (mongorestore --drop from the dump)', () =>
        shell(`cat '${unpacked}'/mongodb/dump/part-* | docker exec -i ${targets.mongo} mongorestore --drop --archive > /dev/null 2>&1`),
      ),
    );
    const redis = targets.redis;
    parts.push(
      await timed('write Redis (stop, copy the files in, start, loaded)', () =>
        shell(
          `docker stop ${redis} > /dev/null && docker cp '${unpacked}/redis/dump.rdb' ${redis}:/data/dump.rdb && ` +
            `docker cp '${unpacked}/redis/appendonlydir/.' ${redis}:/data/appendonlydir && docker start ${redis} > /dev/null && ` +
            `until docker exec ${redis} redis-cli DBSIZE 2>/dev/null | grep -qv LOADING; do sleep 0.05; done`,
        ),
      ),
    );
    await targets.emptyStore();
    parts.push(
      await timed(`write the store (every object, ${TRANSFERS} at once)`, () => putEveryObject(targets.store, join(unpacked, 'rustfs'))),
    );
  } finally {
    await rm(unpacked, { recursive: true, force: true });
  }
  return total('restore', parts);
}

/**
 * The same limits with zstd in place of pigz: the reads and writes of the gzip limits (measured
 * there, the same work whatever the compression), then `zstd -T<cores> -3` of the same tar bytes
 * (the backup) and `zstd -d` of what it wrote (the restore; zstd decodes on one thread).
 */
export async function zstdLimits(targets: LimitTargets, archive: string, gzipLimits: readonly Limit[]): Promise<Limit[]> {
  const shell = (command: string) => run('sh', ['-c', command], targets.dockerHost);
  const tar = join(targets.work, 'limit.tar');
  const compressed = join(targets.work, 'limit.tar.zst');
  await shell(`pigz -dc '${archive}' > '${tar}'`);
  try {
    const cores = availableParallelism();
    const compress = await timed(`zstd -T${cores} -3 of the tar bytes`, () => shell(`zstd -q -T${cores} -3 -c '${tar}' > '${compressed}'`));
    const decompress = await timed('zstd -d of that', () => shell(`zstd -q -dc '${compressed}' > /dev/null`));
    return gzipLimits.map((limit) => {
      const moved = limit.parts.filter((part) => !part.name.startsWith('pigz'));
      const parts = [...moved, limit.operation === 'backup' ? compress : decompress];
      return { ...total(limit.operation, parts), codec: 'zstd' as const };
    });
  } finally {
    await rm(tar, { force: true });
    await rm(compressed, { force: true });
  }
}

function total(operation: Limit['operation'], parts: LimitPart[]): Limit {
  return { operation, parts, wallMs: parts.reduce((sum, part) => sum + part.wallMs, 0) };
}

async function timed(name: string, work: () => Promise<unknown>): Promise<LimitPart> {
  const started = performance.now();
  await work();
  return { name, wallMs: performance.now() - started };
}

function run(command: string, args: string[], dockerHost: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, DOCKER_HOST: dockerHost }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${args.join(' ')} failed (${code}): ${stderr.slice(-500)}`))));
  });
}

/** Every object of every bucket, read and dropped, TRANSFERS at once. */
async function readEveryObject(store: S3Client): Promise<void> {
  const keys = async function* () {
    const { Buckets } = await store.send(new ListBucketsCommand({}));
    for (const { Name } of Buckets ?? []) {
      let token: string | undefined;
      do {
        const page = await store.send(new ListObjectsV2Command({ Bucket: Name!, ContinuationToken: token }));
        for (const object of page.Contents ?? []) yield { bucket: Name!, key: object.Key! };
        token = page.NextContinuationToken;
      } while (token);
    }
  };
  await eachAtOnce(keys(), async ({ bucket, key }) => {
    const { Body } = await store.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    for await (const _ of Body as AsyncIterable<Buffer>);
  });
}

/** Every file under `<folder>/<bucket>/` put back as an object, TRANSFERS at once. */
async function putEveryObject(store: S3Client, folder: string): Promise<void> {
  const files = async function* () {
    for (const bucket of await readdir(folder)) {
      for (const path of await readdir(join(folder, bucket), { recursive: true })) {
        const file = join(folder, bucket, path);
        const info = await stat(file);
        if (info.isFile()) yield { bucket, key: relative(join(folder, bucket), file), file, size: info.size };
      }
    }
  };
  for (const bucket of await readdir(folder)) await store.send(new CreateBucketCommand({ Bucket: bucket }));
  await eachAtOnce(files(), async ({ bucket, key, file, size }) => {
    await store.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(file), ContentLength: size }));
  });
}

async function eachAtOnce<T>(items: AsyncIterable<T>, work: (item: T) => Promise<void>): Promise<void> {
  const transfers = new BoundedTasks(TRANSFERS, Number.POSITIVE_INFINITY);
  for await (const item of items) await transfers.add(0, () => work(item));
  await transfers.drain();
}
