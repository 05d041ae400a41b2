import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseCompression, resolveCompression } from '../../src/archive/compression.js';
import { MANIFEST_SCHEMA } from '../../src/archive/manifest.js';
import { checkArchive, componentEntries, readManifest, sizeProblem } from '../../src/archive/reader.js';
import { ArchiveWriter, type UnindexedManifest } from '../../src/archive/writer.js';
import { PinnedArchive } from '../../src/archive/pinned.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

const manifestOf = (components: string[]): UnindexedManifest => ({
  schema: MANIFEST_SCHEMA,
  createdAt: '2026-12-05T01:00:00Z',
  environment: 'test',
  host: 'h',
  components,
});

async function zstdArchive(dir: string): Promise<{ path: string; text: Buffer; random: Buffer }> {
  const writer = await ArchiveWriter.open(join(dir, 'a.tar.zst'), { compression: { codec: 'zstd', level: 3 }, compressionThreads: 3 });
  const random = randomBytes(2 * 1024 * 1024 + 5); // several frames, stored
  const text = Buffer.from('tenant-4711 invoice-99 billing '.repeat(120_000)); // several frames, compressed
  await writer.addFile('rustfs/bucket/random.bin', random.length, Readable.from([random]));
  await writer.addFile('rustfs/bucket/text.txt', text.length, Readable.from([text]));
  await writer.addStream('mongodb/mongo.archive.gz', Readable.from([Buffer.from('streamed '), Buffer.from('output')]));
  const { path } = await writer.commit(manifestOf(['rustfs', 'mongodb']));
  return { path, text, random };
}

describe('zstd archives', () => {
  it('a multi-frame .tar.zst round-trips: manifest first, every file whole (Node 22.23 alone would decode only the manifest frame)', async () => {
    const dir = await temporaryFolder('zstd-');
    const { path, text, random } = await zstdArchive(dir);
    const bytes = await readFile(path);
    expect(bytes.readUInt32LE(0)).toBe(0xfd2fb528);
    // The zstd CLI and GNU tar read it as one stream; the frames are independent.
    execFileSync('zstd', ['-q', '-t', path]);
    const listing = execFileSync('tar', ['--zstd', '-tf', path], { encoding: 'utf8' }).trim().split('\n');
    expect(listing.slice(0, 3)).toEqual(['manifest.json', 'index/rustfs.jsonl', 'index/mongodb.jsonl']);

    const { manifest, manifestFirst } = await readManifest(path);
    expect(manifestFirst).toBe(true);
    expect((await checkArchive(path, manifest)).problems).toEqual([]);
    const pinned = await PinnedArchive.open(path);
    try {
      expect(await sizeProblem(pinned, manifest)).toBeUndefined();
    } finally {
      await pinned.close();
    }
    const contents = new Map<string, Buffer>();
    for await (const entry of componentEntries(path, 'rustfs')) contents.set(entry.path, Buffer.concat(await entry.content.toArray()));
    expect(contents.get('bucket/random.bin')!.equals(random)).toBe(true);
    expect(contents.get('bucket/text.txt')!.equals(text)).toBe(true);
    expect(bytes.length).toBeLessThan(random.length + text.length / 20);
  });

  it('a cut or extended .tar.zst fails the size check and verify names the damage', async () => {
    const dir = await temporaryFolder('zstd-');
    const { path } = await zstdArchive(dir);
    const { manifest } = await readManifest(path);
    const whole = await readFile(path);

    await truncate(path, whole.length - 1000);
    const cut = await PinnedArchive.open(path);
    try {
      expect(await sizeProblem(cut, manifest)).toMatch(/does not match its manifest/);
    } finally {
      await cut.close();
    }
    expect((await checkArchive(path, manifest)).problems.join('\n')).toMatch(
      /truncated or damaged \(the zstd stream ends inside a zstd frame/,
    );

    // One more frame than the manifest accounts for: the first bytes are then no longer exactly the manifest's frame.
    await writeFile(path, Buffer.concat([whole, whole.subarray(0, 200)]));
    const extended = await PinnedArchive.open(path);
    try {
      expect(await sizeProblem(extended, manifest)).toMatch(/does not match its manifest/);
    } finally {
      await extended.close();
    }

    const flipped = Buffer.from(whole);
    flipped[Math.floor(whole.length / 2)] ^= 0x55;
    await writeFile(path, flipped);
    expect((await checkArchive(path, manifest)).problems.length).toBeGreaterThan(0);
    expect((await stat(path)).size).toBe(whole.length);
  });

  it('--compression takes gzip, gzip:<0-9>, zstd and zstd:<1-19>, and refuses anything else', () => {
    expect(resolveCompression(parseCompression('zstd'), 6)).toEqual({ codec: 'zstd', level: 3 });
    expect(resolveCompression(parseCompression('zstd:19'), 6)).toEqual({ codec: 'zstd', level: 19 });
    expect(resolveCompression(parseCompression('gzip'), 4)).toEqual({ codec: 'gzip', level: 4 });
    expect(resolveCompression(parseCompression('gzip:9'), 6)).toEqual({ codec: 'gzip', level: 9 });
    expect(resolveCompression(undefined, 6)).toEqual({ codec: 'gzip', level: 6 });
    expect(() => parseCompression('zstd:0')).toThrow('the zstd level must be 1 to 19');
    expect(() => parseCompression('gzip:10')).toThrow('the gzip level must be 0 to 9');
    expect(() => parseCompression('xz')).toThrow('unknown compression');
    expect(() => parseCompression('zstd:fast')).toThrow('unknown compression');
  });
});
