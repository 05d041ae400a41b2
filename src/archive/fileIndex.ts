import { createHash } from 'node:crypto';
import type { ReadEntry } from 'tar';
import { z } from 'zod';
import { UsageError } from '../base/errors.js';
import type { FileRecord, IndexSummary, Manifest } from './manifest.js';
import { componentOf, componentPath, INDEX_FOLDER, indexPath, MANIFEST_PATH, normalizeEntryPath, pathInComponent } from './paths.js';
import { locationName, type ArchiveLocation } from './location.js';
import { tarEntries } from './tarStream.js';

/** One file of a component as its index lists it. */
export interface IndexedFile {
  /** Path inside the component's folder. */
  path: string;
  size: number;
  /** Absent for archives of the original bash scripts. */
  sha256?: string;
  /** What the component recorded about this file at backup time (an object's key and content type). */
  details?: Record<string, unknown>;
  /** Where the file's header starts in the uncompressed body; absent from older archives. */
  at?: number;
}

/** The files of one component, streamed in archive order as often as asked. */
export interface ComponentIndex {
  readonly files: number;
  readonly bytes: number;
  /** Where its first file starts in the uncompressed body; absent from older archives. */
  readonly at?: number;
  entries(): AsyncIterable<IndexedFile>;
}

/** Every component's files: read from the archive's index entries, from a v1 manifest, or found by reading a legacy archive. */
export interface ArchiveIndex {
  /** False when nothing listed the files up front (archives of the original scripts): they were found by reading the archive. */
  readonly listed: boolean;
  readonly files: number;
  readonly bytes: number;
  /** Components holding files, in the order their files appear. */
  readonly order: readonly string[];
  of(component: string): ComponentIndex;
}

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const IndexLineSchema = z.object({
  path: z.string().min(1),
  size: z.number().int().nonnegative(),
  sha256: sha256Hex,
  details: z.record(z.string(), z.unknown()).optional(),
  at: z.number().int().nonnegative().optional(),
});

/** Longer than any line we write (an S3 key is at most 1 KiB, its user metadata 2 KiB). */
const MAX_LINE_BYTES = 64 * 1024;

/** The index of an archive whose manifest lists its files; undefined for archives of the original scripts. */
export function archiveIndex(location: ArchiveLocation, manifest: Manifest): ArchiveIndex | undefined {
  if (manifest.index) return streamedIndex(location, manifest.index);
  if (manifest.files) return listedIndex(manifest.files, { listed: true, checksums: true });
  return undefined;
}

/** An index held in memory: a v1 manifest's `files`, or what a check found in a legacy archive. */
export function listedIndex(records: readonly FileRecord[], options: { listed: boolean; checksums: boolean }): ArchiveIndex {
  const byComponent = new Map<string, IndexedFile[]>();
  for (const record of records) {
    const component = componentOf(record.path);
    if (component === undefined) continue;
    const file = { path: pathInComponent(record.path), size: record.size, sha256: options.checksums ? record.sha256 : undefined };
    const files = byComponent.get(component);
    if (files) files.push(file);
    else byComponent.set(component, [file]);
  }
  const of = (component: string): ComponentIndex => {
    const files = byComponent.get(component) ?? [];
    return { files: files.length, bytes: totalSize(files), entries: () => iterate(files) };
  };
  return { listed: options.listed, files: records.length, bytes: totalSize(records), order: [...byComponent.keys()], of };
}

function streamedIndex(location: ArchiveLocation, summaries: Record<string, IndexSummary>): ArchiveIndex {
  const entries = Object.entries(summaries);
  const of = (component: string): ComponentIndex => {
    const summary = Object.hasOwn(summaries, component) ? summaries[component] : undefined;
    if (!summary) return { files: 0, bytes: 0, entries: () => iterate([]) };
    return { files: summary.files, bytes: summary.bytes, at: summary.at, entries: () => readIndexEntry(location, component, summary) };
  };
  return {
    listed: true,
    files: entries.reduce((total, [, summary]) => total + summary.files, 0),
    bytes: entries.reduce((total, [, summary]) => total + summary.bytes, 0),
    order: entries.filter(([, summary]) => summary.files > 0).map(([component]) => component),
    of,
  };
}

/**
 * Streams `index/<component>.jsonl`, which follows the manifest: each line is checked as it
 * comes, and the whole against the manifest's summary (count, bytes, size, SHA-256) at its end.
 */
async function* readIndexEntry(location: ArchiveLocation, component: string, summary: IndexSummary): AsyncGenerator<IndexedFile> {
  const name = locationName(location);
  const wanted = indexPath(component);
  for await (const entry of tarEntries(location)) {
    const normalized = normalizeEntryPath(entry.path);
    const path = 'path' in normalized ? normalized.path : undefined;
    if (path === wanted && (entry.type === 'File' || entry.type === 'OldFile')) {
      yield* indexLines(entry, component, summary, name);
      return;
    }
    if (path !== MANIFEST_PATH && (path === undefined || componentOf(path) !== INDEX_FOLDER)) break;
  }
  throw damagedIndex(name, wanted, 'is missing: the file indexes must follow manifest.json');
}

async function* indexLines(entry: ReadEntry, component: string, summary: IndexSummary, name: string): AsyncGenerator<IndexedFile> {
  const where = indexPath(component);
  const hash = createHash('sha256');
  let size = 0;
  let lines = 0;
  let bytes = 0;
  let previous: string | undefined;
  for await (const line of splitLines(entry.body, (chunk) => hash.update(chunk), name, where)) {
    size += line.length + 1;
    lines += 1;
    if (lines > summary.files) throw damagedIndex(name, where, `lists more files than the ${summary.files} the manifest says`);
    const file = parseLine(line, name, where, lines);
    if (!isInside(component, file.path)) throw damagedIndex(name, where, `line ${lines} has the unsafe path ${JSON.stringify(file.path)}`);
    if (file.path === previous) throw damagedIndex(name, where, `lists ${file.path} twice`);
    previous = file.path;
    bytes += file.size;
    yield file;
  }
  if (lines !== summary.files || bytes !== summary.bytes || size !== summary.size || hash.digest('hex') !== summary.sha256) {
    throw damagedIndex(name, where, 'does not match its summary in manifest.json');
  }
}

/** Lines of at most MAX_LINE_BYTES, each without its newline; the raw bytes go to `onBytes` as they pass. */
async function* splitLines(content: AsyncIterable<Uint8Array>, onBytes: (chunk: Uint8Array) => void, name: string, where: string) {
  let pending = Buffer.alloc(0);
  for await (const chunk of content) {
    onBytes(chunk);
    let rest = pending.length > 0 ? Buffer.concat([pending, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    for (let end = rest.indexOf(10); end !== -1; end = rest.indexOf(10)) {
      yield rest.subarray(0, end);
      rest = rest.subarray(end + 1);
    }
    if (rest.length > MAX_LINE_BYTES) throw damagedIndex(name, where, `has a line longer than ${MAX_LINE_BYTES} bytes`);
    pending = Buffer.from(rest);
  }
  if (pending.length > 0) throw damagedIndex(name, where, 'does not end with a newline');
}

function parseLine(line: Buffer, name: string, where: string, number: number): IndexedFile {
  let raw: unknown;
  try {
    raw = JSON.parse(line.toString('utf8'));
  } catch {
    throw damagedIndex(name, where, `line ${number} is not JSON`);
  }
  const parsed = IndexLineSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw damagedIndex(name, where, `line ${number}, field "${issue.path.join('.') || 'line'}": ${issue.message}`);
  }
  return parsed.data;
}

function isInside(component: string, path: string): boolean {
  try {
    return componentPath(component, path) === `${component}/${path}`;
  } catch {
    return false;
  }
}

function damagedIndex(name: string, where: string, problem: string): UsageError {
  return new UsageError(`${name}: ${where} ${problem}.`, { hint: 'The archive is damaged or hostile; nothing was touched.' });
}

function totalSize(files: readonly { size: number }[]): number {
  return files.reduce((total, file) => total + file.size, 0);
}

async function* iterate<T>(items: readonly T[]): AsyncGenerator<T> {
  yield* items;
}
