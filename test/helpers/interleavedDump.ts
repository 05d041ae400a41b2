import { Long, serialize } from 'bson';
import { Crc64 } from '../../src/integrity/crc64.js';

/**
 * A dump of several collections, a time-series collection (metadata under its name, documents
 * under system.buckets.<name>), a view (metadata only) and another database, segments interleaved
 * as a concurrent mongodump writes them. Each piece is tagged with its namespace.
 */
const TERMINATOR = Buffer.from([0xff, 0xff, 0xff, 0xff]);
const bson = (document: Record<string, unknown>): Buffer => Buffer.from(serialize(document));

export interface Part {
  readonly bytes: Buffer;
  /** The namespace it belongs to; undefined for the magic, the header and the prelude's terminator. */
  readonly namespace?: string;
}

function metadata(db: string, collection: string, options: Record<string, unknown>, type: string): Part {
  const text = JSON.stringify({ indexes: [], collectionName: collection, type, options });
  return { bytes: bson({ db, collection, metadata: text, size: 0 }), namespace: `${db}.${collection}` };
}

export function interleavedDump(): Part[] {
  const magic = Buffer.alloc(4);
  magic.writeUInt32LE(0x8199e26d);
  const parts: Part[] = [
    { bytes: magic },
    { bytes: bson({ concurrent_collections: 4, version: '0.1', server_version: '7.0.12', tool_version: '100.9.4' }) },
    metadata('shop', 'users', {}, 'collection'),
    metadata('shop', 'audit', {}, 'collection'),
    metadata('shop', 'metrics', { timeseries: { timeField: 't' } }, 'timeseries'),
    metadata('shop', 'active_users', { viewOn: 'users', pipeline: [] }, 'view'),
    metadata('admin', 'system.version', {}, 'collection'),
    { bytes: TERMINATOR },
  ];
  const crcs = new Map<string, Crc64>();
  const segment = (db: string, collection: string, documents: number, size: number) => {
    const namespace = `${db}.${collection}`;
    const crc = crcs.get(namespace) ?? crcs.set(namespace, Crc64.ecma()).get(namespace)!;
    parts.push({ bytes: bson({ db, collection, EOF: false, CRC: Long.fromNumber(0) }), namespace });
    for (let index = 0; index < documents; index += 1) {
      const document = bson({ _id: `${collection}-${index}`, pad: 'x'.repeat(size + index) });
      crc.update(document);
      parts.push({ bytes: document, namespace });
    }
    parts.push({ bytes: TERMINATOR, namespace });
  };
  const end = (db: string, collection: string) => {
    const namespace = `${db}.${collection}`;
    const digest = crcs.get(namespace)?.digest() ?? 0n;
    parts.push({ bytes: bson({ db, collection, EOF: true, CRC: Long.fromBigInt(BigInt.asIntN(64, digest)) }), namespace });
    parts.push({ bytes: TERMINATOR, namespace });
  };
  segment('shop', 'users', 40, 300);
  segment('shop', 'audit', 3, 20);
  segment('shop', 'system.buckets.metrics', 5, 100);
  segment('shop', 'users', 40, 3000);
  segment('admin', 'system.version', 1, 10);
  segment('shop', 'audit', 2, 20);
  end('shop', 'users');
  end('shop', 'audit');
  end('shop', 'system.buckets.metrics');
  end('shop', 'active_users');
  end('admin', 'system.version');
  return parts;
}
