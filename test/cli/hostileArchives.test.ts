import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip, gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { describe, expect, it } from 'vitest';
import { manifestFor, writeRawArchive } from '../helpers/archives.js';
import { runCli } from '../helpers/cli.js';
import { makeProject, snapshotTree } from '../helpers/project.js';

/**
 * Archives made to exhaust time or memory. Each run of the binary gets a 256 MB heap (where a
 * whole-entry read or a quadratic buffer would die) and must answer within its time limit, with
 * exit 2 and one clear line, and nothing in docker/ touched.
 */
const HEAP_LIMIT = { NODE_OPTIONS: '--max-old-space-size=256' };

function tarBlock(path: string, size: number): Uint8Array {
  const header = new Header({ path, type: 'File', size, mode: 0o600, mtime: new Date(0) });
  header.encode();
  return header.block!;
}

function padded(content: Buffer): Buffer {
  return Buffer.concat([content, Buffer.alloc((512 - (content.length % 512)) % 512)]);
}

/** A valid secrets archive (manifest first), then `after` written after its end marker, streamed through gzip. */
async function writeWithTrailer(file: string, trailer: () => AsyncGenerator<Buffer>): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const env = Buffer.from('A=1\n');
  const manifest = Buffer.from(JSON.stringify(manifestFor([{ path: 'secrets/.env', content: env }])));
  async function* body() {
    yield tarBlock('manifest.json', manifest.length);
    yield padded(manifest);
    yield tarBlock('secrets/.env', env.length);
    yield padded(env);
    yield Buffer.alloc(1024); // the end marker
    yield* trailer();
  }
  await pipeline(body, createGzip({ level: 1 }), createWriteStream(file));
}

async function expectRefusedQuickly(project: string, args: string[], message: RegExp, withinMs: number): Promise<void> {
  const before = await snapshotTree(join(project, 'docker'));
  const started = Date.now();
  const result = await runCli(args, { cwd: project, env: HEAP_LIMIT, timeoutMs: withinMs * 3 });
  expect(Date.now() - started).toBeLessThan(withinMs);
  expect(result.stderr + result.stdout).toMatch(message);
  expect(result.code).toBe(2);
  expect(await snapshotTree(join(project, 'docker'))).toEqual(before);
}

describe('hostile archives are refused fast, within bounded memory', () => {
  it('2 GB of zeros after the tar end marker: refused after reading 1 MiB of it', { timeout: 120_000 }, async () => {
    const project = await makeProject();
    const file = join(project, 'backups', 'zeros.tar.gz');
    await writeWithTrailer(file, async function* () {
      const zeros = Buffer.alloc(1 << 20);
      for (let mebibyte = 0; mebibyte < 2048; mebibyte += 1) yield zeros;
    });
    const message = /damaged or hostile archive: more than 1 MiB after the end of the tar archive/;
    await expectRefusedQuickly(project, ['restore', file, '--dry-run'], message, 20_000);
    await expectRefusedQuickly(project, ['verify', file], message, 20_000);
  });

  it('data hidden after the end marker is reported, not read as sound', async () => {
    const project = await makeProject();
    const file = join(project, 'backups', 'trailing.tar.gz');
    await writeWithTrailer(file, async function* () {
      yield Buffer.from('#!/bin/sh\necho hidden payload\n');
    });
    await expectRefusedQuickly(project, ['verify', file], /damaged or hostile archive: data after the end of the tar archive/, 20_000);
  });

  it('an entry after a single zero block, where tar stops reading, is reported, not skipped unseen', async () => {
    const project = await makeProject();
    const file = join(project, 'backups', 'afterzero.tar.gz');
    const env = Buffer.from('A=1\n');
    const hidden = Buffer.from('#!/bin/sh\necho hidden payload\n');
    const manifest = Buffer.from(JSON.stringify(manifestFor([{ path: 'secrets/.env', content: env }])));
    async function* body() {
      yield tarBlock('manifest.json', manifest.length);
      yield padded(manifest);
      yield tarBlock('secrets/.env', env.length);
      yield padded(env);
      yield Buffer.alloc(512); // one zero block: the end, for tar 8 and bsdtar
      yield tarBlock('secrets/hidden', hidden.length);
      yield padded(hidden);
      yield Buffer.alloc(1024);
    }
    await mkdir(dirname(file), { recursive: true });
    await pipeline(body, createGzip({ level: 1 }), createWriteStream(file));
    await expectRefusedQuickly(project, ['verify', file], /damaged or hostile archive: data after the end of the tar archive/, 20_000);
  });

  it('a manifest of 6 million empty records is refused before validating them', { timeout: 120_000 }, async () => {
    const project = await makeProject();
    const file = join(project, 'backups', 'records.tar.gz');
    const manifest = JSON.stringify({ ...manifestFor([]), files: [] }).replace('"files":[]', `"files":[${'{},'.repeat(5_999_999)}{}]`);
    await writeRawArchive(file, [{ path: 'manifest.json', content: manifest }]);
    for (const command of [
      ['inspect', file],
      ['restore', file, '--dry-run'],
    ]) {
      await expectRefusedQuickly(project, command, /manifest\.json is damaged or hostile \(more than 5,000,000 records\)/, 30_000);
    }
  });

  it('a 200 MB database.txt (a small text file by its role) is refused unread by the dry run', { timeout: 120_000 }, async () => {
    const project = await makeProject();
    const file = join(project, 'backups', 'bigtext.tar.gz');
    const files = [
      { path: 'mongodb/database.txt', content: Buffer.alloc(200 * 1024 * 1024, 0x61) },
      { path: 'mongodb/mongo.archive.gz', content: gzipSync(Buffer.from('x')) },
    ];
    await writeRawArchive(file, [
      { path: 'manifest.json', content: JSON.stringify(manifestFor(files, { components: ['mongodb'] })) },
      ...files,
    ]);
    await expectRefusedQuickly(
      project,
      ['restore', file, '--dry-run'],
      /mongodb\/database\.txt is 209715200 bytes, not a small text file/,
      30_000,
    );
    const verified = await runCli(['verify', file], { cwd: project, env: HEAP_LIMIT });
    expect(verified.code).toBe(1);
    expect(verified.stdout).toContain('mongodb/database.txt is 209715200 bytes, not a small text file');
  });

  it('200,000 unlisted empty files: verify lists a summary, never a crash or 200,000 lines', { timeout: 180_000 }, async () => {
    const project = await makeProject();
    const file = join(project, 'backups', 'many.tar.gz');
    const manifest = Buffer.from(JSON.stringify(manifestFor([])));
    async function* body() {
      yield tarBlock('manifest.json', manifest.length);
      yield padded(manifest);
      for (let index = 0; index < 200_000; index += 1) yield tarBlock(`secrets/keys/f${index}`, 0);
      yield Buffer.alloc(1024);
    }
    await mkdir(dirname(file), { recursive: true });
    await pipeline(body, createGzip({ level: 1 }), createWriteStream(file));
    const result = await runCli(['verify', file], { cwd: project, env: HEAP_LIMIT });
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(/call stack|\n\s+at /);
    expect(result.stdout).toContain('secrets/keys/f0 is in the archive but not in the manifest');
    expect(result.stdout).toContain('Result: 200,000 problems:');
    expect(result.stdout).toContain('… and 199,900 more problems (--json lists the first 1,000)');
    expect(result.stdout.split('\n').length).toBeLessThan(1200); // at most 1,000 listed files and 100 problems
  });
});
