import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadEntry } from 'tar';
import { UsageError } from '../base/errors.js';
import { parseManifest, type FileRecord, type Manifest } from './manifest.js';
import { componentOf, MANIFEST_PATH, normalizeEntryPath, pathInComponent } from './paths.js';
import { locationPath, type ArchiveLocation } from './pinned.js';
import { HostileArchiveError, tarEntries } from './tarStream.js';

/** The manifest is small; anything bigger than this is not a manifest we wrote. */
const MANIFEST_LIMIT = 64 * 1024 * 1024;

export interface ManifestRead {
  manifest: Manifest;
  /** False for archives of the original bash scripts, where tar put the manifest anywhere. */
  manifestFirst: boolean;
}

export interface ArchiveEntry {
  /** Path inside the component's folder (`appendonlydir/appendonly.aof.1.base.rdb`). */
  path: string;
  size: number;
  content: Readable;
}

/** Reads only as far as the manifest, which our archives carry first: fast on any size. */
export async function readManifest(file: ArchiveLocation): Promise<ManifestRead> {
  await assertReadableFile(locationPath(file));
  const name = basename(locationPath(file));
  let sawFile = false;
  try {
    for await (const entry of tarEntries(file)) {
      if (entry.type !== 'File' && entry.type !== 'OldFile') continue;
      const normalized = normalizeEntryPath(entry.path);
      if ('path' in normalized && normalized.path === MANIFEST_PATH) {
        if (entry.size > MANIFEST_LIMIT) throw new UsageError(`${name}: manifest.json is implausibly large (${entry.size} bytes).`);
        return { manifest: parseManifest(await readText(entry), name), manifestFirst: !sawFile };
      }
      sawFile = true;
    }
  } catch (error) {
    throw asArchiveError(error, name);
  }
  throw new UsageError(`${name} has no manifest.json.`, {
    hint: 'It was not made by orkestra-backup or the original backup.sh.',
  });
}

export interface ArchiveCheck {
  /** Everything wrong, one line each; empty when the archive is sound. */
  problems: string[];
  /** What the archive holds, as read (size and SHA-256 computed from the bytes). */
  files: FileRecord[];
}

/**
 * Reads the whole archive once: every entry's path is safe, every file the manifest lists is
 * present with its size and SHA-256, nothing unlisted hides in it, and the stream is not cut short.
 */
export async function checkArchive(
  file: ArchiveLocation,
  manifest: Manifest,
  onBytes: (bytes: number) => void = () => undefined,
): Promise<ArchiveCheck> {
  const problems: string[] = [];
  const files: FileRecord[] = [];
  const listed = new Map((manifest.files ?? []).map((record) => [record.path, record]));
  const seen = new Set<string>();
  const captured = new Set(manifest.components);
  try {
    for await (const entry of tarEntries(file)) {
      const problem = entryProblem(entry, captured);
      if (problem) {
        problems.push(problem);
        continue;
      }
      if (entry.type === 'Directory') continue;
      const path = (normalizeEntryPath(entry.path) as { path: string }).path;
      if (seen.has(path)) problems.push(`${path} appears twice in the archive`);
      seen.add(path);
      const record = { path, size: entry.size, sha256: await sha256Of(entry, onBytes) };
      if (path === MANIFEST_PATH) continue;
      files.push(record);
      const expected = listed.get(path);
      if (manifest.files && !expected) problems.push(`${path} is in the archive but not in the manifest`);
      else if (expected && expected.size !== record.size) {
        problems.push(`${path} is ${record.size} bytes, the manifest says ${expected.size}`);
      } else if (expected && expected.sha256 !== record.sha256) problems.push(`${path} fails its SHA-256 checksum`);
    }
  } catch (error) {
    problems.push(error instanceof HostileArchiveError ? error.message : `the archive is truncated or damaged (${damageDetail(error)})`);
  }
  for (const path of listed.keys()) {
    if (!seen.has(path)) problems.push(`${path} is listed in the manifest but missing from the archive`);
  }
  return { problems, files };
}

/**
 * The files of one component, in archive order, for a restore to consume one at a time. Given
 * how many files the component has, the pass stops after the last of them instead of
 * decompressing the rest of the archive (a plan reading the first component's dump would
 * otherwise hold its consumer open until the end of a multi-gigabyte file).
 */
export async function* componentEntries(file: ArchiveLocation, component: string, fileCount = Infinity): AsyncGenerator<ArchiveEntry> {
  if (fileCount <= 0) return;
  let yielded = 0;
  try {
    for await (const entry of tarEntries(file)) {
      if (entry.type !== 'File' && entry.type !== 'OldFile') continue;
      const normalized = normalizeEntryPath(entry.path);
      if (!('path' in normalized) || componentOf(normalized.path) !== component) continue;
      yield { path: pathInComponent(normalized.path), size: entry.size, content: Readable.from(entry) };
      yielded += 1;
      if (yielded >= fileCount) return;
    }
  } catch (error) {
    throw asArchiveError(error, basename(locationPath(file)));
  }
}

function entryProblem(entry: ReadEntry, captured: Set<string>): string | undefined {
  const normalized = normalizeEntryPath(entry.path);
  if ('problem' in normalized) return `unsafe entry: ${normalized.problem}`;
  const path = normalized.path;
  if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'Directory') {
    return `unsafe entry: ${path} is a ${entry.type}, not a plain file`;
  }
  if (path === '' || path === MANIFEST_PATH) return undefined;
  const component = componentOf(path) ?? (entry.type === 'Directory' ? path : undefined);
  if (!component) return `unexpected file ${path} at the top of the archive`;
  if (!captured.has(component)) return `${path} belongs to ${component}, which the manifest does not list`;
  return undefined;
}

async function sha256Of(content: AsyncIterable<Buffer>, onBytes: (bytes: number) => void): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of content) {
    hash.update(chunk);
    onBytes(chunk.length);
  }
  return hash.digest('hex');
}

async function readText(content: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of content) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function assertReadableFile(file: string): Promise<void> {
  const info = await stat(file).catch(() => undefined);
  if (!info) throw new UsageError(`${file}: no such file.`, { hint: 'Pass the path of a backup archive.' });
  if (!info.isFile()) throw new UsageError(`${file} is not a file.`, { hint: 'Pass the path of a backup archive.' });
}

function damageDetail(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/incorrect header check|not in gzip format/i.test(message)) return 'not gzip-compressed';
  if (/unexpected end of file/i.test(message)) return 'the compressed stream ends early';
  if (/truncated/i.test(message)) return 'the tar stream ends inside a file';
  return message.split('\n')[0];
}

function asArchiveError(error: unknown, name: string): unknown {
  if (error instanceof UsageError) return error;
  if (error instanceof HostileArchiveError) {
    return new UsageError(`${name}: ${error.message}.`, { hint: 'Nothing was read past the problem; use another copy of the backup.' });
  }
  const detail = damageDetail(error);
  if (detail === 'not gzip-compressed') {
    return new UsageError(`${name} is not a .tar.gz archive.`, { hint: 'Pass a file made by orkestra-backup backup.' });
  }
  return new UsageError(`${name} is truncated or damaged: ${detail}.`, { hint: 'Use another copy of the backup.' });
}
