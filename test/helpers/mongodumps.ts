import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { Binary, Long, serialize } from 'bson';
import { Crc64 } from '../../src/integrity/crc64.js';

const MAGIC = 0x8199e26d;
const TERMINATOR = Buffer.from([0xff, 0xff, 0xff, 0xff]);
const DOCUMENTS_PER_SEGMENT = 64;

const bson = (document: Record<string, unknown>): Buffer => Buffer.from(serialize(document));

/**
 * Writes a valid mongodump archive, gzip-compressed as `mongodump --archive --gzip` writes it,
 * of one collection `db.blobs` whose documents carry random bytes: the file is about
 * `compressedBytes` long even compressed. What the tools and the tool's own reader check holds:
 * magic, header, collection metadata, segments, and an EOF header carrying the CRC-64 of the data.
 */
export async function writeIncompressibleDump(path: string, db: string, compressedBytes: number, documentBytes = 64 * 1024): Promise<void> {
  async function* archive(): AsyncGenerator<Buffer> {
    const magic = Buffer.alloc(4);
    magic.writeUInt32LE(MAGIC);
    yield magic;
    yield bson({ concurrent_collections: 1, version: '0.1', server_version: '7.0.12', tool_version: '100.11.0' });
    const metadata = JSON.stringify({ indexes: [{ v: 2, key: { _id: 1 }, name: '_id_' }], collectionName: 'blobs', type: 'collection' });
    yield bson({ db, collection: 'blobs', metadata, size: compressedBytes });
    yield TERMINATOR;
    const crc = Crc64.ecma();
    let id = 0;
    for (let written = 0; written < compressedBytes;) {
      yield bson({ db, collection: 'blobs', EOF: false, CRC: Long.fromNumber(0) });
      for (let count = 0; count < DOCUMENTS_PER_SEGMENT && written < compressedBytes; count += 1) {
        const document = bson({ _id: id++, blob: new Binary(randomBytes(documentBytes)) });
        crc.update(document);
        written += document.length;
        yield document;
      }
      yield TERMINATOR;
    }
    yield bson({ db, collection: 'blobs', EOF: true, CRC: Long.fromBigInt(BigInt.asIntN(64, crc.digest())) });
    yield TERMINATOR;
  }
  await pipeline(Readable.from(archive()), createGzip({ level: 1 }), createWriteStream(path, { mode: 0o600 }));
}

/**
 * Writes an uncompressed mongodump archive of `db` holding `collections` (name → number of small
 * documents; 0 is an empty collection, as mongodump writes one: metadata and an EOF header).
 */
export async function writeCountedDump(path: string, db: string, collections: Record<string, number>): Promise<void> {
  async function* archive(): AsyncGenerator<Buffer> {
    const magic = Buffer.alloc(4);
    magic.writeUInt32LE(MAGIC);
    yield magic;
    yield bson({ concurrent_collections: 1, version: '0.1', server_version: '7.0.12', tool_version: '100.11.0' });
    for (const collection of Object.keys(collections)) {
      const metadata = JSON.stringify({
        indexes: [{ v: 2, key: { _id: 1 }, name: '_id_' }],
        collectionName: collection,
        type: 'collection',
      });
      yield bson({ db, collection, metadata, size: 0 });
    }
    yield TERMINATOR;
    for (const [collection, count] of Object.entries(collections)) {
      const crc = Crc64.ecma();
      if (count > 0) {
        yield bson({ db, collection, EOF: false, CRC: Long.fromNumber(0) });
        for (let id = 0; id < count; id += 1) {
          const document = bson({ _id: id, name: `${collection}-${id}` });
          crc.update(document);
          yield document;
        }
        yield TERMINATOR;
      }
      yield bson({ db, collection, EOF: true, CRC: Long.fromBigInt(BigInt.asIntN(64, crc.digest())) });
      yield TERMINATOR;
    }
  }
  await pipeline(Readable.from(archive()), createWriteStream(path, { mode: 0o600 }));
}
