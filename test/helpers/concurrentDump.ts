import { Long, serialize } from 'bson';
import { Crc64 } from '../../src/integrity/crc64.js';

const TERMINATOR = Buffer.from([0xff, 0xff, 0xff, 0xff]);
const bson = (document: Record<string, unknown>): Buffer => Buffer.from(serialize(document));

/**
 * As mongodump --archive writes `collections` collections of `documents` 1 KiB documents with 4
 * dumped at once: segments of `perSegment` documents, round robin over the 4 open ones, each
 * collection's EOF header right after its last segment, the next one opened then.
 */
export function concurrentDump(collections: number, documents: number, perSegment: number, db = 'db'): Buffer[] {
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(0x8199e26d);
  const out: Buffer[] = [magic, bson({ concurrent_collections: 4, version: '0.1' })];
  const names = Array.from({ length: collections }, (_, n) => `c${n}`);
  for (const name of names) out.push(bson({ db, collection: name, metadata: '{"options":{}}', size: 0 }));
  out.push(TERMINATOR);
  const waiting = [...names];
  const open: { name: string; left: number; crc: Crc64 }[] = [];
  while (waiting.length > 0 || open.length > 0) {
    while (open.length < 4 && waiting.length > 0) open.push({ name: waiting.shift()!, left: documents, crc: Crc64.ecma() });
    for (const collection of [...open]) {
      out.push(bson({ db, collection: collection.name, EOF: false, CRC: Long.fromNumber(0) }));
      for (let n = 0; n < perSegment && collection.left > 0; n += 1, collection.left -= 1) {
        const document = bson({ _id: collection.left, pad: 'x'.repeat(1000) });
        collection.crc.update(document);
        out.push(document);
      }
      out.push(TERMINATOR);
      if (collection.left === 0) {
        const crc = Long.fromBigInt(BigInt.asIntN(64, collection.crc.digest()));
        out.push(bson({ db, collection: collection.name, EOF: true, CRC: crc }), TERMINATOR);
        open.splice(open.indexOf(collection), 1);
      }
    }
  }
  return out;
}
