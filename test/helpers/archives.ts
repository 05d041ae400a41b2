import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { tarEntries } from '../../src/archive/tarStream.js';

export interface RawEntry {
  path: string;
  content?: Buffer | string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link';
  linkpath?: string;
}

/** A hand-made .tar.gz with exactly these entries, for archives the tool must refuse. */
export async function writeRawArchive(file: string, entries: readonly RawEntry[]): Promise<void> {
  const blocks: Uint8Array[] = [];
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

interface IndexLine {
  path: string;
  size: number;
  sha256: string;
  details?: Record<string, unknown>;
}

/**
 * Rewrites an archive of this version as the previous format (v1) wrote it: every file's record
 * in the manifest's `files`, every object's record in `details.rustfs`, no index entries. The
 * proof that archives made before the file indexes still restore.
 */
export async function downgradeToV1(file: string, target: string, replace?: (path: string, content: Buffer) => Buffer): Promise<void> {
  const entries: RawEntry[] = [];
  const indexes = new Map<string, IndexLine[]>();
  let manifest: Record<string, unknown> & { components: string[]; details: Record<string, unknown> } = { components: [], details: {} };
  for await (const entry of tarEntries(file)) {
    const content = Buffer.from(await entry.bytes());
    if (entry.path === 'manifest.json') manifest = JSON.parse(content.toString('utf8')) as typeof manifest;
    else if (entry.path.startsWith('index/')) {
      const component = entry.path.slice('index/'.length, -'.jsonl'.length);
      const lines = content.toString('utf8').split('\n').filter(Boolean);
      indexes.set(
        component,
        lines.map((line) => JSON.parse(line) as IndexLine),
      );
    } else entries.push({ path: entry.path, content: replace?.(entry.path, content) ?? content });
  }
  const contents = new Map(entries.map((entry) => [entry.path, Buffer.from(entry.content ?? '')]));
  // A replaced file is listed with its new size and checksum: the archive stays sound.
  const files = manifest.components.flatMap((component) =>
    (indexes.get(component) ?? []).map(({ path, size, sha256 }) => {
      const content = replace ? contents.get(`${component}/${path}`) : undefined;
      return content
        ? { path: `${component}/${path}`, size: content.length, sha256: createHash('sha256').update(content).digest('hex') }
        : { path: `${component}/${path}`, size, sha256 };
    }),
  );
  const rustfs = manifest.details.rustfs as { buckets: string[] } | undefined;
  const details = { ...manifest.details };
  if (rustfs) {
    const objects = indexes.get('rustfs') ?? [];
    details.rustfs = {
      buckets: rustfs.buckets.map((name) => ({
        name,
        objects: objects
          .filter((line) => line.path.startsWith(`${name}/`))
          .map((line) => ({ ...line.details, path: line.path.slice(name.length + 1), size: line.size })),
      })),
    };
  }
  // v1 had neither the indexes nor the fields added since (the size check's bytesAfterManifest, key fingerprints, backupId).
  const { index: _index, bytesAfterManifest: _bytes, keyFingerprints: _keys, backupId: _id, ...rest } = manifest;
  void [_index, _bytes, _keys, _id];
  const v1 = { ...rest, schema: 'orkestra-backup/v1', files, details };
  await writeRawArchive(target, [{ path: 'manifest.json', content: JSON.stringify(v1) }, ...entries]);
}
