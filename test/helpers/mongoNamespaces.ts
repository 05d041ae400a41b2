import { createHash } from 'node:crypto';
import { deserialize, Long, serialize } from 'bson';
import { Crc64 } from '../../src/integrity/crc64.js';

const MAGIC = 0x8199e26d;
const TERMINATOR = Buffer.from([0xff, 0xff, 0xff, 0xff]);

const bson = (document: Record<string, unknown>): Buffer => Buffer.from(serialize(document));

/**
 * An uncompressed mongodump archive of database `db` holding, per collection, the documents
 * given: what the stand-in server holds (/stand-in/server.archive). Magic, header, collection
 * metadata, one data segment each, and EOF headers carrying the CRC-64 the tool's reader checks.
 */
export function mongodumpArchive(db: string, collections: Record<string, readonly Record<string, unknown>[]>): Buffer {
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(MAGIC);
  const parts = [magic, bson({ concurrent_collections: 1, version: '0.1', server_version: '7.0.12', tool_version: '100.9.4' })];
  for (const collection of Object.keys(collections)) {
    const metadata = JSON.stringify({ indexes: [{ v: 2, key: { _id: 1 }, name: '_id_' }], collectionName: collection, type: 'collection' });
    parts.push(bson({ db, collection, metadata, size: 0 }));
  }
  parts.push(TERMINATOR);
  for (const [collection, documents] of Object.entries(collections)) {
    const crc = Crc64.ecma();
    if (documents.length > 0) {
      parts.push(bson({ db, collection, EOF: false, CRC: Long.fromNumber(0) }));
      for (const document of documents) {
        const bytes = bson(document);
        crc.update(bytes);
        parts.push(bytes);
      }
      parts.push(TERMINATOR);
    }
    parts.push(bson({ db, collection, EOF: true, CRC: Long.fromBigInt(BigInt.asIntN(64, crc.digest())) }), TERMINATOR);
  }
  return Buffer.concat(parts);
}

/**
 * Every namespace of an uncompressed mongodump archive with the SHA-256 of its documents' bytes
 * and their count: `{ 'test.users': '3 <sha256>' }`. Two archives holding byte-identical
 * collections give the same entries.
 */
export function namespaceHashes(archive: Buffer): Record<string, string> {
  let offset = 4;
  const next = (): Buffer | null => {
    const length = archive.readInt32LE(offset);
    if (length === -1) {
      offset += 4;
      return null;
    }
    const document = archive.subarray(offset, offset + length);
    offset += length;
    return document;
  };
  next(); // the header
  const found = new Map<string, { hash: ReturnType<typeof createHash>; count: number }>();
  const entry = (name: string) => found.get(name) ?? found.set(name, { hash: createHash('sha256'), count: 0 }).get(name)!;
  for (let metadata = next(); metadata !== null; metadata = next()) {
    const { db, collection } = deserialize(metadata) as { db: string; collection: string };
    entry(`${db}.${collection}`);
  }
  while (offset < archive.length) {
    const { db, collection, EOF } = deserialize(next()!) as { db: string; collection: string; EOF: boolean };
    const namespace = entry(`${db}.${collection}`);
    for (let document = next(); document !== null; document = next()) {
      if (EOF) continue;
      namespace.hash.update(document);
      namespace.count += 1;
    }
  }
  return Object.fromEntries([...found].map(([name, { hash, count }]) => [name, `${count} ${hash.digest('hex')}`]));
}
