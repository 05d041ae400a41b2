/** The bench's engine stack: MongoDB, Redis and two S3 servers seeded with a dataset, and the project that backs them up. */
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteObjectCommand, ListBucketsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { execText, startMongo, startRedis, startS3, uniqueName, type RunningContainer, type StackContext } from '../test/engine/stack.js';
import { s3Client as s3ClientFor } from '../test/helpers/s3.js';
import {
  copyIntoContainer,
  seedManySmallObjects,
  seedObjects,
  smallObjectBytes,
  writeMongoArchive,
  writeRedisCommands,
  type DatasetPlan,
} from './dataset.js';
import { ACCESS, log, MB, SECRET } from './pipelines.js';

export interface Bench {
  stack: StackContext;
  containers: RunningContainer[];
  project: string;
  work: string;
  s3Endpoint: string;
  mongo: string;
  redis: string;
  s3: string;
  /** A second S3 server: the off-site store of the `backup -o s3://` rows (separate, so the rustfs data stays the same). */
  offsite: { endpoint: string; name: string };
  dataBytes: number;
  /** Objects in the store. */
  objects: number;
  /** The key pair of the encrypted rows. */
  age: { identityFile: string; recipient: string };
}

export const OFFSITE_BUCKET = 'bench-offsite';

export async function buildBench(stack: StackContext, plan: DatasetPlan): Promise<Bench> {
  const work = await mkdtemp(join(tmpdir(), 'okb-bench-'));
  const project = await mkdtemp(join(tmpdir(), 'okb-bench-project-'));
  const containers: RunningContainer[] = [];
  const mongoFixture = join(work, 'bench.archive');
  log(`writing a mongodump archive of ${Math.round(plan.mongoArchiveBytes / MB)} MB`);
  await writeMongoArchive(mongoFixture, plan.mongoArchiveBytes, 'bench', plan.mongoAuditBytes);
  const mongo = await startMongo(stack, uniqueName('bench-mongo'), { fixture: 'bench.archive', extraEnv: ['MONGO_STANDIN_DISCARD=1'] });
  containers.push(mongo);
  await copyIntoContainer(stack, mongo.name, '/stand-in', 'bench.archive.gz', `${mongoFixture}.gz`);
  // The plain dump and where its segments lie: mongodump (plain, or of a few collections) reads what a server would.
  await copyIntoContainer(stack, mongo.name, '/stand-in', 'bench.archive', mongoFixture);
  await copyIntoContainer(stack, mongo.name, '/stand-in', 'bench.archive.segments.json', `${mongoFixture}.segments.json`);
  const redis = await startRedis(stack, uniqueName('bench-redis'), { appendonly: true });
  containers.push(redis);
  log(`loading ${plan.redisKeys} keys into Redis`);
  const commands = join(work, 'redis.resp');
  await writeRedisCommands(commands, plan.redisKeys, plan.redisValueBytes);
  await copyIntoContainer(stack, redis.name, '/tmp', 'load.resp', commands);
  await execText(stack, redis.name, ['sh', '-c', 'redis-cli --pipe < /tmp/load.resp > /dev/null && rm /tmp/load.resp']);
  await rm(commands);
  const s3 = await startS3(stack, uniqueName('bench-rustfs'), { accessKey: ACCESS, secretKey: SECRET });
  containers.push(s3);
  const objects = plan.smallObjects.count + plan.largeText.count + plan.largeRandom.count + (plan.manySmall?.count ?? 0);
  log(`seeding ${objects} objects`);
  const seeding = s3ClientFor(s3.endpoint, ACCESS, SECRET);
  await seedObjects(seeding, plan);
  if (plan.manySmall) await seedManySmallObjects(stack, s3.name, seeding, plan.manySmall);
  seeding.destroy();
  await mkdir(join(project, 'docker/keys'), { recursive: true });
  await writeFile(
    join(project, 'docker/.env'),
    `MONGO_DATABASE=bench\nRUSTFS_ENDPOINT=${s3.endpoint}\nRUSTFS_ACCESS_KEY=${ACCESS}\nRUSTFS_SECRET_KEY=${SECRET}\n`,
    { mode: 0o600 },
  );
  await writeFile(join(project, 'docker/keys/jwt-private.pem'), 'private key material\n', { mode: 0o600 });
  await mkdir(join(work, 'tmp'));
  const offsite = await startS3(stack, uniqueName('bench-offsite'), { accessKey: ACCESS, secretKey: SECRET });
  containers.push(offsite);
  const offsiteClient = s3ClientFor(offsite.endpoint, ACCESS, SECRET);
  await offsiteClient.send(new CreateBucketCommand({ Bucket: OFFSITE_BUCKET }));
  offsiteClient.destroy();
  const redisBytes = Number(
    (await execText(stack, redis.name, ['sh', '-c', 'redis-cli BGSAVE > /dev/null; sleep 2; du -sb /data | cut -f1'])).trim(),
  );
  const dataBytes =
    (await stat(`${mongoFixture}.gz`)).size +
    redisBytes +
    plan.smallObjects.count * plan.smallObjects.bytes +
    plan.largeText.count * plan.largeText.bytes +
    plan.largeRandom.count * plan.largeRandom.bytes +
    manySmallBytes(plan);
  log(
    `dataset: ${Math.round(dataBytes / MB)} MB (mongodump ${Math.round((await stat(`${mongoFixture}.gz`)).size / MB)} MB gzip, Redis files ${Math.round(redisBytes / MB)} MB, objects ${Math.round((dataBytes - redisBytes - (await stat(`${mongoFixture}.gz`)).size) / MB)} MB)`,
  );
  return {
    stack,
    containers,
    project,
    work,
    s3Endpoint: s3.endpoint,
    mongo: mongo.name,
    redis: redis.name,
    s3: s3.name,
    offsite: { endpoint: offsite.endpoint, name: offsite.name },
    dataBytes,
    objects,
    age: await benchKeyPair(work),
  };
}

function manySmallBytes(plan: DatasetPlan): number {
  let bytes = 0;
  for (let index = 0; index < (plan.manySmall?.count ?? 0); index += 1) bytes += smallObjectBytes(plan.manySmall!, index);
  return bytes;
}

async function benchKeyPair(work: string): Promise<Bench['age']> {
  const identity = await generateIdentity();
  const identityFile = join(work, 'age-key.txt');
  await writeFile(identityFile, `${identity}\n`, { mode: 0o600 });
  return { identityFile, recipient: await identityToRecipient(identity) };
}

/** Empties the object store so that both restores upload everything (neither may skip "unchanged"). */
export async function resetObjectStore(bench: Bench): Promise<void> {
  await execText(bench.stack, bench.s3, ['sh', '-c', 'rm -rf /data/*']);
  const client = s3ClientFor(bench.s3Endpoint, ACCESS, SECRET);
  const { Buckets } = await client.send(new ListBucketsCommand({}));
  if ((Buckets ?? []).length > 0) throw new Error('the object store did not empty');
}

export async function emptyOffsite(bench: Bench): Promise<void> {
  const client = s3ClientFor(bench.offsite.endpoint, ACCESS, SECRET);
  const { Contents } = await client.send(new ListObjectsV2Command({ Bucket: OFFSITE_BUCKET }));
  for (const { Key } of Contents ?? []) await client.send(new DeleteObjectCommand({ Bucket: OFFSITE_BUCKET, Key }));
  client.destroy();
}
