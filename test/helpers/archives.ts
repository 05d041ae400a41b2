import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Header } from 'tar';

export interface RawEntry {
  path: string;
  content?: Buffer | string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link';
  linkpath?: string;
}

/** A hand-made .tar.gz with exactly these entries, for archives the tool must refuse. */
export async function writeRawArchive(file: string, entries: readonly RawEntry[]): Promise<void> {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const content = Buffer.from(entry.content ?? '');
    const type = entry.type ?? 'File';
    const size = type === 'File' ? content.length : 0;
    const header = new Header({ path: entry.path, type, size, mode: 0o600, mtime: new Date(0), linkpath: entry.linkpath });
    header.encode();
    blocks.push(header.block!);
    if (size > 0) blocks.push(content, Buffer.alloc((512 - (size % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, gzipSync(Buffer.concat(blocks)), { mode: 0o600 });
}

export function manifestFor(files: readonly { path: string; content: string | Buffer }[], overrides: Record<string, unknown> = {}) {
  return {
    schema: 'orkestra-backup/v1',
    createdAt: '2026-05-27T07:17:29Z',
    environment: 'staging',
    host: 'orkestra-staging-1',
    components: ['secrets'],
    files: files.map(({ path, content }) => ({
      path,
      size: Buffer.byteLength(content),
      sha256: createHash('sha256').update(content).digest('hex'),
    })),
    ...overrides,
  };
}

/** The uncompressed tar bytes of an archive, to tamper with and write back. */
export async function readTarBytes(file: string): Promise<Buffer> {
  return gunzipSync(await readFile(file));
}

export async function writeTarBytes(file: string, tar: Buffer): Promise<void> {
  await writeFile(file, gzipSync(tar), { mode: 0o600 });
}
