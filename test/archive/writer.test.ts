import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MANIFEST_SCHEMA } from '../../src/archive/manifest.js';
import { checkArchive, componentEntries, readManifest } from '../../src/archive/reader.js';
import { ArchiveWriter, codingFor, type UnindexedManifest } from '../../src/archive/writer.js';
import { temporaryFolder } from '../helpers/tempFolders.js';

function manifestOf(components: string[]): UnindexedManifest {
  return { schema: MANIFEST_SCHEMA, createdAt: '2026-11-22T10:00:00Z', environment: 'test', host: 'h', components };
}

describe('archive writer and reader', () => {
  it('writes manifest.json first, mode 0600, readable by tar and gunzip, with correct checksums', async () => {
    const dir = await temporaryFolder('writer-');
    const writer = await ArchiveWriter.open(join(dir, 'a.tar.gz'));
    const random = randomBytes(3 * 1024 * 1024 + 17); // several gzip members, stored (incompressible)
    const text = Buffer.from('compressible '.repeat(200_000));
    await writer.addFile('rustfs/bucket/random.bin', random.length, Readable.from([random]), { compressible: false });
    await writer.addFile('rustfs/bucket/text.txt', text.length, Readable.from([text]));
    await writer.addText(`rustfs/bucket/${'long-name-'.repeat(20)}ü.txt`, 'pax path');
    await writer.addStream('mongodb/mongo.archive.gz', Readable.from([Buffer.from('streamed '), Buffer.from('output')]));
    const { path } = await writer.commit(manifestOf(['rustfs', 'mongodb']));

    expect((await stat(path)).mode & 0o777).toBe(0o600);
    // Names as stored whatever the locale: without one, tar escapes every non-ASCII byte.
    const listing = execFileSync('tar', ['--quoting-style=literal', '-tzf', path], { encoding: 'utf8' }).trim().split('\n');
    expect(listing.slice(0, 3)).toEqual(['manifest.json', 'index/rustfs.jsonl', 'index/mongodb.jsonl']);
    expect(listing).toContain(`rustfs/bucket/${'long-name-'.repeat(20)}ü.txt`);
    execFileSync('gunzip', ['-t', path]);
    expect(gunzipSync(readFileSync(path)).length % 512).toBe(0);

    const { manifest, manifestFirst } = await readManifest(path);
    expect(manifestFirst).toBe(true);
    const check = await checkArchive(path, manifest);
    expect(check.problems).toEqual([]);
    expect(manifest.files).toBeUndefined();
    expect(manifest.index).toMatchObject({ rustfs: { files: 3 }, mongodb: { files: 1, bytes: 'streamed output'.length } });
    const indexed = [];
    for await (const file of check.index.of('rustfs').entries()) indexed.push(file.path);
    expect(indexed).toEqual(['bucket/random.bin', 'bucket/text.txt', `bucket/${'long-name-'.repeat(20)}ü.txt`]);
    // Only the final archive is left: body, spool and partial files are gone.
    expect(await readdir(dir)).toEqual(['a.tar.gz']);

    const contents: Record<string, string> = {};
    for await (const entry of componentEntries(path, 'mongodb')) {
      contents[entry.path] = Buffer.concat(await entry.content.toArray()).toString();
    }
    expect(contents).toEqual({ 'mongo.archive.gz': 'streamed output' });
  });

  it('stores incompressible data instead of deflating it again: marked or found by the probe, and switchable off', async () => {
    const dir = await temporaryFolder('writer-');
    const random = randomBytes(4 * 1024 * 1024);
    const write = async (name: string, options: { compressible?: boolean; storeIncompressible?: boolean }) => {
      const writer = await ArchiveWriter.open(join(dir, `${name}.tar.gz`), { storeIncompressible: options.storeIncompressible });
      await writer.addFile('rustfs/b/x', random.length, Readable.from([random]), { compressible: options.compressible });
      const bytes = await readFile((await writer.commit(manifestOf(['rustfs']))).path);
      return { coding: writer.codings.get('rustfs/b/x'), bytes };
    };
    const marked = await write('marked', { compressible: false });
    expect(marked.coding).toBe('store');
    // Stored deflate blocks carry the bytes as they are, and add ~5 bytes per 64 KiB.
    expect(marked.bytes.includes(random.subarray(1_000_000, 1_004_096))).toBe(true);
    expect(marked.bytes.length).toBeLessThan(random.length * 1.001 + 4096);
    expect((await write('probed', {})).coding).toBe('store');
    expect((await write('off', { storeIncompressible: false })).coding).toBe('deflate');
  });

  it('chooses a coding from a sample: store random bytes, Huffman-only for base64, deflate for text', () => {
    expect(codingFor(randomBytes(64 * 1024))).toBe('store');
    expect(codingFor(Buffer.from(randomBytes(48 * 1024).toString('base64')))).toBe('huffman');
    expect(codingFor(Buffer.from('tenant-4711 invoice-99 billing '.repeat(3000)))).toBe('deflate');
    expect(codingFor(Buffer.from('tiny'))).toBe('deflate'); // too small to judge
  });

  it('Huffman-codes a large file of base64 values: a valid archive, within a few percent of deflate, and switchable off', async () => {
    const dir = await temporaryFolder('writer-');
    // 4 MiB of Redis-like records: a short repeated prefix (deflate finds it) and a base64 value.
    const lines: string[] = [];
    for (let index = 0, length = 0; length < 4 << 20; index += 1) {
      lines.push(`SET session:${index} ${randomBytes(150).toString('base64')}\n`);
      length += lines.at(-1)!.length;
    }
    const values = Buffer.from(lines.join(''));
    const sizes: Record<string, number> = {};
    for (const huffmanOnly of [true, false]) {
      const writer = await ArchiveWriter.open(join(dir, `${huffmanOnly}.tar.gz`), { huffmanOnly });
      await writer.addFile('redis/dump.rdb', values.length, Readable.from([values.subarray(0, 1 << 20), values.subarray(1 << 20)]));
      const { path } = await writer.commit(manifestOf(['redis']));
      expect(execFileSync('tar', ['xzOf', path, 'redis/dump.rdb'], { maxBuffer: 64 << 20 }).equals(values)).toBe(true);
      sizes[String(huffmanOnly)] = (await stat(path)).size;
    }
    // base64 carries 6 bits per byte: entropy coding alone gets close to 0.75 of the input.
    expect(sizes.true).toBeLessThan(values.length * 0.78);
    expect(sizes.true).toBeGreaterThan(sizes.false); // deflate still finds the prefixes…
    expect(sizes.true).toBeLessThan(sizes.false * 1.08); // …which gain it only a few percent
  });

  it("a component's entries stop after its last file instead of reading the rest of the archive", async () => {
    const dir = await temporaryFolder('writer-');
    const writer = await ArchiveWriter.open(join(dir, 'a.tar.gz'));
    await writer.addText('mongodb/database.txt', 'app\n');
    const objects = randomBytes(4 * 1024 * 1024);
    await writer.addFile('rustfs/b/big.bin', objects.length, Readable.from([objects]));
    const { path } = await writer.commit(manifestOf(['mongodb', 'rustfs']));
    await truncate(path, (await stat(path)).size - 1024 * 1024); // the tail is gone: only a full pass notices

    const read = async (fileCount?: number) => {
      const paths: string[] = [];
      for await (const entry of componentEntries(path, 'mongodb', fileCount)) {
        paths.push(entry.path);
        entry.content.resume();
      }
      return paths;
    };
    expect(await read(1)).toEqual(['database.txt']);
    await expect(read()).rejects.toThrow(/truncated or damaged/);
  });

  it('refuses content longer or shorter than announced and leaves nothing behind', async () => {
    const dir = await temporaryFolder('writer-');
    const writer = await ArchiveWriter.open(join(dir, 'a.tar.gz'));
    await expect(writer.addFile('secrets/.env', 3, Readable.from([Buffer.from('four')]))).rejects.toThrow(/grew/);
    await expect(writer.addFile('secrets/.env', 9, Readable.from([Buffer.from('four')]))).rejects.toThrow(/ended after 4 of 9/);
    await writer.discard();
    expect(await readdir(dir)).toEqual([]);
  });

  it('never overwrites an existing archive; a default name gets a -2 suffix instead', async () => {
    const dir = await temporaryFolder('writer-');
    const paths: string[] = [];
    for (let index = 0; index < 2; index += 1) {
      const writer = await ArchiveWriter.open(join(dir, 'same.tar.gz'), { uniqueName: true });
      await writer.addText('secrets/.env', `run ${index}`);
      paths.push((await writer.commit(manifestOf(['secrets']))).path);
    }
    expect(paths).toEqual([join(dir, 'same.tar.gz'), join(dir, 'same-2.tar.gz')]);
    const writer = await ArchiveWriter.open(join(dir, 'same.tar.gz'));
    await writer.addText('secrets/.env', 'third');
    await expect(writer.commit(manifestOf(['secrets']))).rejects.toThrow(/already exists/);
    expect((await readdir(dir)).sort()).toEqual(['same-2.tar.gz', 'same.tar.gz']);
  });

  it('a failed read-back check keeps no archive', async () => {
    const dir = await temporaryFolder('writer-');
    const writer = await ArchiveWriter.open(join(dir, 'a.tar.gz'));
    await writer.addText('secrets/.env', 'x');
    await expect(
      writer.commit(manifestOf(['secrets']), async () => {
        throw new Error('read-back failed');
      }),
    ).rejects.toThrow(/read-back failed/);
    expect(await readdir(dir)).toEqual([]);
  });
});
