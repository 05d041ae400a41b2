import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import type { ComponentSource } from '../../src/archive/componentSource.js';
import type { IndexedFile } from '../../src/archive/fileIndex.js';
import { checkSelectedParts } from '../../src/components/mongodb/archivedCounts.js';
import { collectionsTaken, dumpPartsTaken } from '../../src/components/mongodb/selection.js';
import { MongoArchiveReader } from '../../src/mongo/archive.js';
import { dumpPartPath } from '../../src/mongo/archivedDump.js';
import { DumpSplitter, type DumpPart } from '../../src/mongo/dumpParts.js';
import { interleavedDump } from '../helpers/interleavedDump.js';

const whole = Buffer.concat(interleavedDump().map((piece) => piece.bytes));

async function partsOf(bytes: Buffer, partBytes?: number): Promise<DumpPart[]> {
  const parts: DumpPart[] = [];
  const splitter = new DumpSplitter(
    async (part) => {
      parts.push(part);
    },
    { partBytes },
  );
  await pipeline(Readable.from([bytes]), splitter);
  return parts;
}

/** The mongodb folder of an archive holding `parts`, each index line naming the namespace `label` gives it. */
function sourceOf(parts: DumpPart[], label: (part: DumpPart, sequence: number) => string | undefined): ComponentSource {
  const files = parts.map((part, sequence) => {
    const namespace = label(part, sequence);
    const file: IndexedFile = { path: dumpPartPath(sequence), size: part.bytes, details: namespace ? { namespace } : { prelude: true } };
    return { file, bytes: Buffer.concat(part.chunks) };
  });
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

/** The dump's own counts, as the plan has them (the manifest's shape, or the whole dump read). */
function countsOf(names: string[]) {
  const reader = new MongoArchiveReader();
  reader.push(whole);
  return reader.finish().namespaces.filter((namespace) => names.includes(`${namespace.db}.${namespace.collection}`));
}

const usersParts = dumpPartsTaken(collectionsTaken('shop', ['users']));

describe("a selection's parts checked before anything changes", () => {
  it('parts labelled as they are pass: the users parts hold the 80 documents the dump counts', async () => {
    const parts = await partsOf(whole);
    await expect(
      checkSelectedParts(
        sourceOf(parts, (part) => part.namespace),
        countsOf(['shop.users']),
        usersParts,
      ),
    ).resolves.toBeUndefined();
  });

  it('a users part whose index line names another collection is refused (exit 2, nothing touched): the parts named for users hold none of its documents', async () => {
    const parts = await partsOf(whole);
    const lying = sourceOf(parts, (part) => (part.namespace === 'shop.users' ? 'shop.audit' : part.namespace));
    await expect(checkSelectedParts(lying, countsOf(['shop.users']), usersParts)).rejects.toThrow(
      'b.tar.gz: mongodb/dump/ is damaged: the parts its index names for shop.users hold 0 documents, the dump 80.',
    );
  });

  it('a users data part labelled away while its EOF header stays is refused by the CRC-64 the EOF header carries', async () => {
    const small = await partsOf(whole, 1000); // users in several parts; the first is labelled as audit's
    const firstUsers = small.findIndex((part) => part.namespace === 'shop.users');
    expect(small.filter((part) => part.namespace === 'shop.users').length).toBeGreaterThan(1);
    const lying = sourceOf(small, (part, sequence) => (sequence === firstUsers ? 'shop.audit' : part.namespace));
    await expect(checkSelectedParts(lying, countsOf(['shop.users']), usersParts)).rejects.toThrow(
      /mongodb\/dump\/ is damaged: shop\.users fails its CRC-64 check\./,
    );
  });
});
