import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Long, ObjectId, serialize } from 'bson';
import { packTar, type PackEntry } from '../src/archive/tarPack.js';
import { BoundedTasks } from '../src/base/concurrency.js';
import { Crc64 } from '../src/integrity/crc64.js';
import type { StackContext } from '../test/engine/stack.js';

export interface DatasetPlan {
  mongoArchiveBytes: number;
  /** Of the archive, the bytes of its collection audit: a 1 % selection for `--ns`. */
  mongoAuditBytes: number;
  redisKeys: number;
  redisValueBytes: number;
  smallObjects: { count: number; bytes: number };
  largeText: { count: number; bytes: number };
  largeRandom: { count: number; bytes: number };
  /** The small-objects dataset: many objects of a few kilobytes over several buckets. */
  manySmall?: ManySmallObjects;
}

export interface ManySmallObjects {
  count: number;
  buckets: string[];
  minBytes: number;
  maxBytes: number;
}

/**
 * A store of user uploads: `count` objects of 1-16 KB (uniformly spread, ~8.5 KB on average)
 * over four buckets, beside the MongoDB and Redis data of the 256 MB dataset. Here requests, not
 * bytes, decide the time.
 */
export function planSmallObjects(count: number): DatasetPlan {
  const base = planDataset(256 * 1024 * 1024);
  return {
    ...base,
    smallObjects: { count: 0, bytes: 0 },
    largeText: { count: 0, bytes: 0 },
    largeRandom: { count: 0, bytes: 0 },
    manySmall: { count, buckets: ['avatars', 'attachments', 'thumbnails', 'documents'], minBytes: 1024, maxBytes: 16 * 1024 },
  };
}

/** The size of small object `index` (deterministic, so every run has the same dataset). */
export function smallObjectBytes(plan: ManySmallObjects, index: number): number {
  return plan.minBytes + ((index * 2_654_435_761) % (plan.maxBytes - plan.minBytes + 1));
}

/** Small object `index`: where it lives and its bytes. */
export function smallObject(plan: ManySmallObjects, index: number): { bucket: string; key: string; body: Buffer } {
  return {
    bucket: plan.buckets[index % plan.buckets.length],
    key: `tenant-${index % 97}/${String(Math.floor(index / 1000)).padStart(4, '0')}/object-${String(index).padStart(7, '0')}.json`,
    body: textLike(smallObjectBytes(plan, index), index + 1),
  };
}

/**
 * Writes the small objects. Into the s3rver stand-in's folder directly when it is the store (as
 * one tar through the archive API: a hundred thousand PUTs would take minutes to seed; the tools
 * read them over S3 all the same), else through PUTs, 16 at once. Both from the same keys, sizes
 * and bytes.
 */
export async function seedManySmallObjects(
  stack: StackContext,
  container: string,
  client: S3Client,
  plan: ManySmallObjects,
): Promise<void> {
  for (const bucket of plan.buckets) await client.send(new CreateBucketCommand({ Bucket: bucket }));
  if (stack.images.mode !== 'upstream') {
    await stack.docker.getContainer(container).putArchive(packTar(standInFiles(plan)), { path: '/data' });
    return;
  }
  const puts = new BoundedTasks(16, Number.POSITIVE_INFINITY);
  for (let index = 0; index < plan.count; index += 1) {
    const { bucket, key, body } = smallObject(plan, index);
    await puts.add(0, async () => {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    });
  }
  await puts.drain();
}

/** The stand-in's files of each small object: its bytes and its MD5, as s3rver keeps them. */
function* standInFiles(plan: ManySmallObjects): Generator<PackEntry> {
  for (let index = 0; index < plan.count; index += 1) {
    const { bucket, key, body } = smallObject(plan, index);
    const md5 = Buffer.from(createHash('md5').update(body).digest('hex'));
    const path = `${bucket}/${key}._S3rver_object`;
    yield { type: 'file', path, size: body.length, content: [body] };
    yield { type: 'file', path: `${path}.md5`, size: md5.length, content: [md5] };
  }
}

/** How a total splits into the kinds of data an Orkestra deployment holds. */
export function planDataset(total: number): DatasetPlan {
  return {
    mongoArchiveBytes: Math.round(total * 0.22),
    mongoAuditBytes: Math.round(total * 0.01),
    redisValueBytes: 200,
    redisKeys: Math.round((total * 0.08) / 220),
    smallObjects: { count: Math.max(500, Math.round((total * 0.2) / 65_536)), bytes: 65_536 },
    largeText: { count: 4, bytes: Math.round((total * 0.25) / 4) },
    largeRandom: { count: 3, bytes: Math.round((total * 0.25) / 3) },
  };
}

const WORDS = 'tenant module billing invoice marketing import user session token audit event config secret oauth'.split(' ');

/**
 * Text that compresses like application data: words, numbers, a little randomness. Written
 * straight into the buffer: a joined string stops at V8's limit (~512 MB), which the 8 GB
 * dataset's large objects pass.
 */
function textLike(bytes: number, seed: number): Buffer {
  const text = Buffer.allocUnsafe(bytes);
  let length = 0;
  let state = seed;
  while (length < bytes) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    length += text.write(`${WORDS[state % WORDS.length]}-${state % 100_000} `, length, 'latin1');
  }
  return text;
}

/**
 * A valid mongodump archive (the format of mongo-tools' spec: magic, header, metadata, segments,
 * EOF headers with CRC-64) of about `bytes`, then gzip-compressed next to it as mongodump --gzip would,
 * and beside it `<path>.segments.json`: where the prelude ends and each segment lies.
 * Collections users, events and module_configs share `bytes`; with `auditBytes`, a fourth, audit, holds that many of them.
 */
export async function writeMongoArchive(path: string, bytes: number, db = 'bench', auditBytes = 0): Promise<void> {
  const out = createWriteStream(path);
  let written = 0;
  const write = async (buffer: Buffer) => {
    written += buffer.length;
    if (!out.write(buffer)) await once(out, 'drain');
  };
  // Where each segment (and EOF block) lies: the stand-in dumps a few collections by reading theirs alone, as a server does.
  const segments: [string, string, number, number][] = [];
  let segmentAt = 0;
  const segmentEnds = (collection: string) => segments.push([db, collection, segmentAt, written - segmentAt]);
  const terminator = Buffer.from([0xff, 0xff, 0xff, 0xff]);
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(0x8199e26d);
  await write(magic);
  await write(Buffer.from(serialize({ concurrent_collections: 4, version: '0.1', server_version: '7.0.12', tool_version: '100.9.4' })));
  // Three collections share what audit (when asked for) leaves.
  const collections = ['users', 'events', 'module_configs', ...(auditBytes > 0 ? ['audit'] : [])];
  const targets = [...[0, 1, 2].map(() => Math.round((bytes - auditBytes) / 3)), auditBytes];
  for (const [index, collection] of collections.entries()) {
    const metadata = JSON.stringify({ indexes: [{ v: 2, key: { _id: 1 }, name: '_id_' }], collectionName: collection, type: 'collection' });
    await write(Buffer.from(serialize({ db, collection, metadata, size: targets[index] })));
  }
  await write(terminator);
  const prelude = written;
  const crcs = collections.map(() => Crc64.ecma());
  const filled = collections.map(() => 0);
  let batch = 0;
  // Batches go round the collections that still lack bytes, interleaved as a concurrent mongodump writes them.
  for (let turn = 0; filled.some((done, index) => done < targets[index]); turn += 1) {
    const index = turn % collections.length;
    if (filled[index] >= targets[index]) continue;
    segmentAt = written;
    await write(Buffer.from(serialize({ db, collection: collections[index], EOF: false, CRC: Long.fromNumber(0) })));
    for (let count = 0; count < 500; count += 1) {
      const document = Buffer.from(
        serialize({
          _id: new ObjectId(),
          tenant: `tenant-${count % 97}`,
          email: `user${batch}-${count}@example.com`,
          createdAt: new Date(1_700_000_000_000 + batch * 1000 + count),
          tags: WORDS.slice(count % 5, (count % 5) + 4),
          body: textLike(600, batch * 1000 + count).toString(),
          blob: randomBytes(200).toString('base64'),
        }),
      );
      crcs[index].update(document);
      await write(document);
      filled[index] += document.length;
    }
    await write(terminator);
    segmentEnds(collections[index]);
    batch += 1;
  }
  for (const [index, collection] of collections.entries()) {
    const crc = Long.fromBigInt(BigInt.asIntN(64, crcs[index].digest()));
    segmentAt = written;
    await write(Buffer.from(serialize({ db, collection, EOF: true, CRC: crc })));
    await write(terminator);
    segmentEnds(collection);
  }
  out.end();
  await once(out, 'finish');
  await writeFile(`${path}.segments.json`, JSON.stringify({ prelude, segments }));
  if (existsSync('/usr/bin/pigz')) execFileSync('pigz', ['-6', '-k', '-f', path]);
  else await pipeline(createReadStream(path), createGzip({ level: 6 }), createWriteStream(`${path}.gz`));
}

/** Puts a file into a container folder through the archive API. */
export async function copyIntoContainer(stack: StackContext, container: string, folder: string, name: string, file: string): Promise<void> {
  const size = (await stat(file)).size;
  const tar = packTar(
    (async function* () {
      yield { type: 'file' as const, path: name, size, content: createReadStream(file) as AsyncIterable<Buffer> };
    })(),
  );
  await stack.docker.getContainer(container).putArchive(tar, { path: folder });
}

/** Writes SET commands in Redis's protocol for `redis-cli --pipe`: many keys with random-ish values. */
export async function writeRedisCommands(path: string, keys: number, valueBytes: number): Promise<void> {
  const encode = (...words: string[]) =>
    `*${words.length}\r\n${words.map((word) => `$${Buffer.byteLength(word)}\r\n${word}\r\n`).join('')}`;
  async function* commands() {
    for (let start = 0; start < keys; start += 5000) {
      const lines: string[] = [];
      for (let key = start; key < Math.min(keys, start + 5000); key += 1) {
        lines.push(
          encode(
            'SET',
            `session:${key}`,
            randomBytes(valueBytes * 0.75)
              .toString('base64')
              .slice(0, valueBytes),
          ),
        );
      }
      yield lines.join('');
    }
  }
  await pipeline(Readable.from(commands()), createWriteStream(path));
}

export async function seedObjects(client: S3Client, plan: DatasetPlan): Promise<void> {
  if (plan.smallObjects.count + plan.largeText.count + plan.largeRandom.count === 0) return;
  for (const bucket of ['uploads', 'media', 'exports']) await client.send(new CreateBucketCommand({ Bucket: bucket }));
  const puts: (() => Promise<unknown>)[] = [];
  for (let index = 0; index < plan.smallObjects.count; index += 1) {
    const json = index % 2 === 0;
    puts.push(() =>
      client.send(
        new PutObjectCommand({
          Bucket: 'uploads',
          Key: `tenant-${index % 50}/${json ? 'data' : 'notes'}/${index}.${json ? 'json' : 'txt'}`,
          Body: textLike(plan.smallObjects.bytes, index),
          ContentType: json ? 'application/json' : 'text/plain',
          Metadata: { tenant: String(index % 50) },
        }),
      ),
    );
  }
  for (let index = 0; index < plan.largeText.count; index += 1) {
    puts.push(() =>
      client.send(
        new PutObjectCommand({
          Bucket: 'exports',
          Key: `reports/export-${index}.csv`,
          Body: textLike(plan.largeText.bytes, index + 7),
          ContentType: 'text/csv',
        }),
      ),
    );
  }
  for (let index = 0; index < plan.largeRandom.count; index += 1) {
    puts.push(() =>
      client.send(
        new PutObjectCommand({
          Bucket: 'media',
          Key: `photos/photo-${index}.jpg`,
          Body: randomBytes(plan.largeRandom.bytes),
          ContentType: 'image/jpeg',
        }),
      ),
    );
  }
  const workers = Array.from({ length: 8 }, async () => {
    for (let put = puts.shift(); put; put = puts.shift()) await put();
  });
  await Promise.all(workers);
}
