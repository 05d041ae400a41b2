import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { ComponentSource } from '../../src/archive/componentSource.js';
import { MongoArchiveReader } from '../../src/mongo/archive.js';
import { selectedDumpStream } from '../../src/mongo/archivedDump.js';
import { interleavedDump } from '../helpers/interleavedDump.js';

/**
 * The archive reader passing on part of a dump (ArchiveForward): a dump of several collections,
 * a time-series collection (metadata under its name, documents under system.buckets.<name>),
 * a view (metadata only) and another database, segments interleaved as a concurrent mongodump
 * writes them. Each part is tagged with its namespace; what passes on must be exactly the parts
 * of the kept namespaces and the untagged framing, in order.
 */
function forward(bytes: Buffer, keep: (db: string, collection: string) => boolean, chunkSize: number): Buffer {
  const passed: Buffer[] = [];
  const reader = new MongoArchiveReader({ forward: { keep, write: (part) => passed.push(Buffer.from(part)) } });
  for (let offset = 0; offset < bytes.length; offset += chunkSize) reader.push(bytes.subarray(offset, offset + chunkSize));
  expect(reader.finish().problems).toEqual([]);
  return Buffer.concat(passed);
}

const OWNERS = new Set(['audit', 'metrics', 'active_users']);
const keepOwners = (db: string, collection: string) => db === 'shop' && OWNERS.has(collection.replace(/^system\.buckets\./, ''));

describe('passing on the selected namespaces of a mongodump archive', () => {
  const parts = interleavedDump();
  const whole = Buffer.concat(parts.map((part) => part.bytes));
  const expected = Buffer.concat(
    parts
      .filter((part) => part.namespace === undefined || keepOwners(...(part.namespace.split(/\.(.*)/s) as [string, string])))
      .map((part) => part.bytes),
  );

  for (const chunkSize of [1, 7, 4096, whole.length]) {
    it(`keeps the prelude with the chosen metadata, their segments and EOF headers byte for byte, time-series buckets and the view included (chunks of ${chunkSize})`, () => {
      expect(forward(whole, keepOwners, chunkSize).equals(expected)).toBe(true);
    });
  }

  it('what is passed on reads as a sound archive of the chosen namespaces alone, every CRC matching', () => {
    const reader = new MongoArchiveReader();
    reader.push(forward(whole, keepOwners, 333));
    const summary = reader.finish();
    expect(summary.problems).toEqual([]);
    expect(
      summary.namespaces.map((namespace) => [`${namespace.db}.${namespace.collection}`, namespace.documents, namespace.crcMatches]),
    ).toEqual([
      ['shop.audit', 5, true],
      ['shop.metrics', 0, undefined],
      ['shop.active_users', 0, true],
      ['shop.system.buckets.metrics', 5, true],
    ]);
    expect(expected.length).toBeLessThan(whole.length / 10);
  });

  it('keeping everything passes on the whole archive, and keeping nothing only the header and prelude terminator', () => {
    expect(forward(whole, () => true, 100).equals(whole)).toBe(true);
    expect(forward(whole, () => false, 100).equals(Buffer.concat(parts.filter((part) => !part.namespace).map((part) => part.bytes)))).toBe(
      true,
    );
  });

  /** An archive's mongodb/ folder holding `dump` as mongo.archive.gz, read in small chunks; `fail` makes the read fail after that many bytes. */
  const sourceOf = (dump: Buffer, fail?: number): ComponentSource =>
    ({
      async *entries() {
        const chunks = async function* () {
          for (let offset = 0; offset < dump.length; offset += 512) {
            if (fail !== undefined && offset >= fail) throw new Error('the archive could not be read');
            yield dump.subarray(offset, offset + 512);
          }
        };
        yield { path: 'mongo.archive.gz', content: Readable.from(chunks()) };
      },
    }) as unknown as ComponentSource;
  const collect = async (stream: Readable): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const gzipped = gzipSync(whole);

  const all = () => true;

  it("selectedDumpStream inflates an older archive's gzip dump and passes on the same bytes, plain", async () => {
    let read = 0;
    const passed = await collect(selectedDumpStream(sourceOf(gzipped), keepOwners, all, (bytes) => (read += bytes)));
    expect(passed.equals(expected)).toBe(true);
    expect(read).toBe(gzipped.length);
  });

  it('selectedDumpStream cut by an interrupt ends cleanly where it is: a shorter archive', async () => {
    const cut = new AbortController();
    let read = 0;
    const onBytes = (bytes: number) => {
      read += bytes;
      if (read >= gzipped.length / 2) cut.abort();
    };
    const passed = await collect(selectedDumpStream(sourceOf(gzipped), () => true, all, onBytes, cut.signal));
    expect(passed.length).toBeLessThan(whole.length);
    expect(passed.equals(whole.subarray(0, passed.length))).toBe(true);
  });

  it('selectedDumpStream fails with the archive when reading it fails, and does not hang', async () => {
    await expect(collect(selectedDumpStream(sourceOf(gzipped, gzipped.length / 2), keepOwners, all))).rejects.toThrow(
      'the archive could not be read',
    );
  });
});
