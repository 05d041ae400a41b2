import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import type { ComponentSource } from '../../src/archive/componentSource.js';
import type { IndexedFile } from '../../src/archive/fileIndex.js';
import { dumpPartsTaken } from '../../src/components/mongodb/selection.js';
import { MongoArchiveReader } from '../../src/mongo/archive.js';
import { dumpPartPath, selectedDumpStream } from '../../src/mongo/archivedDump.js';
import { DumpSplitter, type DumpPart } from '../../src/mongo/dumpParts.js';
import { interleavedDump } from '../helpers/interleavedDump.js';

async function partsOf(whole: Buffer): Promise<DumpPart[]> {
  const parts: DumpPart[] = [];
  await pipeline(
    Readable.from([whole]),
    new DumpSplitter(async (part) => {
      parts.push(part);
    }),
  );
  return parts;
}

function sourceOf(files: { file: IndexedFile; bytes: Buffer }[]): ComponentSource {
  return {
    archiveName: 'b.tar.gz',
    fileCount: files.length,
    details: undefined,
    async *files() {
      for (const { file } of files) yield file;
    },
    async *entries(wanted?: (file: IndexedFile) => boolean) {
      for (const { file, bytes } of files) {
        if (!wanted || wanted(file)) yield { path: file.path, size: bytes.length, content: Readable.from([bytes]) };
      }
    },
    readText: async () => undefined,
  };
}

describe('--ns on parts whose index details lie (adversarial review)', () => {
  it("a users part recorded as another collection's is not read: the stream mongorestore gets holds no users document, and nothing fails", async () => {
    const whole = Buffer.concat(interleavedDump().map((piece) => piece.bytes));
    const parts = await partsOf(whole);
    const files = parts.map((part, sequence) => ({
      file: {
        path: dumpPartPath(sequence),
        size: part.bytes,
        // the users part claims to be shop.audit's
        details:
          part.namespace === undefined ? { prelude: true } : { namespace: part.namespace === 'shop.users' ? 'shop.audit' : part.namespace },
      },
      bytes: Buffer.concat(part.chunks),
    }));
    const keep = (db: string, collection: string) => db === 'shop' && collection === 'users';
    const chunks: Buffer[] = [];
    for await (const chunk of selectedDumpStream(sourceOf(files), keep, dumpPartsTaken(keep))) chunks.push(chunk as Buffer);
    const reader = new MongoArchiveReader();
    reader.push(Buffer.concat(chunks));
    const found = reader.finish();
    // The archive holds 80 users documents; the stream holds the users metadata and none of them, and reads as sound.
    expect(found.problems).toEqual([]);
    expect(found.namespaces).toEqual([expect.objectContaining({ db: 'shop', collection: 'users', documents: 0, ended: false })]);
  });
});
