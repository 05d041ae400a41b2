import { Transform } from 'node:stream';
import { RuntimeError } from '../../base/errors.js';
import type { NamespaceSummary } from '../../mongo/archive.js';
import type { ComponentShape } from '../../model/shape.js';

const GZIP_MAGIC = [0x1f, 0x8b];

/** Fails the stream when mongodump's output is empty or not gzip: a 0-byte "success" is a failure. */
export function requireGzipOutput(): Transform {
  let seen = 0;
  let head = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      if (head.length < 2) {
        head = Buffer.concat([head, chunk]).subarray(0, 2);
        if (head.length === 2 && (head[0] !== GZIP_MAGIC[0] || head[1] !== GZIP_MAGIC[1])) {
          callback(new RuntimeError('mongodump wrote something that is not a gzip archive.'));
          return;
        }
      }
      seen += chunk.length;
      callback(null, chunk);
    },
    flush(callback) {
      callback(seen < 2 ? new RuntimeError('mongodump exited without writing an archive (0 bytes).') : null);
    },
  });
}

/** Documents per collection ("orkestra.users"), views aside: an emptied or vanished collection is an anomaly. */
export function dumpShape(namespaces: readonly NamespaceSummary[]): ComponentShape {
  const collections = namespaces.filter((namespace) => namespace.type !== 'view');
  const groups = Object.fromEntries(
    collections.map((namespace) => [`${namespace.db}.${namespace.collection}`, { items: namespace.documents, bytes: namespace.bytes }]),
  );
  return { items: 'documents', group: 'collection', groups };
}

/** mongorestore's per-namespace lines: `finished restoring orkestra.users (3 documents, 0 failures)`. */
export function reportedCounts(stderr: string): Record<string, { documents: number; failures: number }> {
  const counts: Record<string, { documents: number; failures: number }> = {};
  for (const match of stderr.matchAll(/finished restoring (\S+) \((\d+) documents?, (\d+) failures?\)/g)) {
    counts[match[1]] = { documents: Number(match[2]), failures: Number(match[3]) };
  }
  return counts;
}
