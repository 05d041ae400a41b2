import { describe, expect, it } from 'vitest';
import type { ComponentSource } from '../../src/archive/componentSource.js';
import type { IndexedFile } from '../../src/archive/fileIndex.js';
import { checkMongoFiles } from '../../src/components/mongodb/dumpFiles.js';

const part = (sequence: number, size = 10): IndexedFile => ({ path: `dump/part-${String(sequence).padStart(8, '0')}`, size });

function sourceOf(files: readonly IndexedFile[]): ComponentSource {
  return {
    archiveName: 'b.tar.gz',
    fileCount: files.length,
    details: undefined,
    async *files() {
      yield* files;
    },
    entries: () => {
      throw new Error('not read');
    },
    readText: async () => undefined,
  };
}

describe('checkMongoFiles on hostile layouts', () => {
  const cases: [string, IndexedFile[], RegExp][] = [
    ['parts out of order', [part(0), part(2), part(1)], /part-00000002 is out of place: mongodb\/dump\/part-00000001 belongs there/],
    ['a part twice', [part(0), part(1), part(1)], /part-00000001 is out of place/],
    ['no part 0', [part(1), part(2)], /part-00000001 is out of place: mongodb\/dump\/part-00000000/],
    ['a part of 0 bytes', [part(0), part(1, 0)], /part-00000001 is empty/],
    ['both layouts', [part(0), { path: 'mongo.archive.gz', size: 5 }], /holds two dumps/],
    ['a 9-digit name', [part(0), { path: 'dump/part-000000001', size: 5 }], /out of place/],
    ['a stray file', [part(0), { path: 'dump/evil', size: 5 }], /not a MongoDB file/],
    ['nothing', [], /mongodb holds no dump \(neither dump\/ nor mongo.archive.gz\)/],
  ];
  for (const [name, files, problem] of cases) {
    it(`${name}: refused (UsageError, exit 2)`, async () => {
      await expect(checkMongoFiles(sourceOf(files))).rejects.toThrow(problem);
    });
  }

  it('20,000 parts in order pass, in well under a second', async () => {
    const started = Date.now();
    await expect(checkMongoFiles(sourceOf(Array.from({ length: 20_000 }, (_, n) => part(n))))).resolves.toBe('parts');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
