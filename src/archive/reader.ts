import { sha256Of } from '../integrity/sha256.js';
import { asSentence, firstLine, plural, withoutFinalPeriod } from '../base/format.js';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ReadEntry } from 'tar';
import { OrkestraError, UsageError } from '../base/errors.js';
import { firstBytes } from '../base/firstBytes.js';
import { parseManifest, type FileRecord, type Manifest } from './manifest.js';
import { archiveIndex, listedIndex, type ArchiveIndex, type IndexedFile } from './fileIndex.js';
import { componentOf, INDEX_FOLDER, indexPath, MANIFEST_PATH, normalizeEntryPath, pathInComponent } from './paths.js';
import { locationName, type ArchiveBytes, type ArchiveLocation } from './location.js';
import { contentReleased, HostileArchiveError, tarEntries } from './tarStream.js';
import { ReadScope, type CheckScope } from './readScope.js';
import { codecOf, NotCompressedError, singleFrame } from './compression.js';
import { ZstdFormatError } from './zstdFrames.js';

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
  if (typeof file === 'string') await assertReadableFile(file);
  const name = locationName(file);
  let sawFile = false;
  try {
    for await (const entry of tarEntries(file)) {
      if (entry.type !== 'File' && entry.type !== 'OldFile') continue;
      const normalized = normalizeEntryPath(entry.path);
      if ('path' in normalized && normalized.path === MANIFEST_PATH) {
        if (entry.size > MANIFEST_LIMIT) throw new UsageError(`${name}: manifest.json is implausibly large (${entry.size} bytes).`);
        return { manifest: parseManifest(await readText(entry.body), name), manifestFirst: !sawFile };
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
  /** What is wrong, one line each (the first thousand); empty when the archive is sound. */
  problems: string[];
  /** Problems found beyond those listed. */
  unlisted: number;
  /** The files and their content bytes: listed ones checked against the archive, or found in it. */
  index: ArchiveIndex;
  /** A selective check's files and bytes (those of the components it was given); undefined: the whole archive was checked. */
  checked?: { files: number; bytes: number };
}

/** Problems kept word for word; a million missing files are summarised, not listed. */
const MAX_PROBLEMS = 1000;

class ProblemList {
  readonly lines: string[] = [];
  unlisted = 0;

  add(problem: string): void {
    if (this.lines.length < MAX_PROBLEMS) this.lines.push(problem);
    else this.unlisted += 1;
  }
}

/**
 * Reads the archive once: every entry's path is safe, every file the index lists is present with
 * its size and SHA-256, nothing unlisted hides in it, and the stream is not cut short. The index
 * streams beside the archive (its files come in the same order), so memory does not grow with
 * the number of files. With `only` (a selective restore) and an index, only the files it reads
 * are hashed, the other components' files are passed over, and the read stops once the last
 * file it reads is checked; the manifest, the index entries and every path met are checked all the same.
 */
export async function checkArchive(
  file: ArchiveLocation,
  manifest: Manifest,
  onBytes: (bytes: number) => void = () => undefined,
  only?: CheckScope,
  onScope: (bytes: number) => void = () => undefined,
): Promise<ArchiveCheck> {
  const problems = new ProblemList();
  const index = archiveIndex(file, manifest);
  const found: FileRecord[] = [];
  const cursors = new Map<string, IndexCursor>();
  const captured = new Set(manifest.components);
  const finishedComponents = new Set<string>();
  let scope: ReadScope | undefined;
  let currentComponent: string | undefined;
  let broken = false;
  try {
    scope = index && only ? await ReadScope.of(index, only) : undefined;
    if (scope) onScope(scope.toRead);
    for await (const entry of tarEntries(file)) {
      const problem = entryProblem(entry, captured, manifest.index !== undefined);
      if (problem) {
        problems.add(problem);
        continue;
      }
      if (entry.type === 'Directory') continue;
      const path = (normalizeEntryPath(entry.path) as { path: string }).path;
      const component = componentOf(path)!;
      if (path === MANIFEST_PATH || component === INDEX_FOLDER || !index) {
        const record = { path, size: entry.size, sha256: await sha256Of(entry.body, onBytes) };
        if (component === INDEX_FOLDER) checkIndexEntry(record, manifest, problems);
        else if (path !== MANIFEST_PATH) found.push(record);
        continue;
      }
      // Every component's files are placed, read or not: the restore's one pass stops at the next component's first file.
      if (component !== currentComponent) {
        if (finishedComponents.has(component)) problems.add(`${path} is out of place: the files of ${component} are not together`);
        if (currentComponent !== undefined) finishedComponents.add(currentComponent);
        currentComponent = component;
      }
      if (scope && !scope.covers(component)) {
        if (scope.complete()) break; // past the last file it reads: the rest of the archive is not read
        continue; // left unread, the reader skips the content
      }
      let cursor = cursors.get(component);
      if (!cursor) cursors.set(component, (cursor = new IndexCursor(component, index.of(component).entries(), problems)));
      const expected = await cursor.place(pathInComponent(path), entry.size);
      if (expected === undefined) continue;
      if (scope && !scope.reads(component, expected)) {
        if (scope.complete()) break;
        continue;
      }
      if (expected.sha256 !== undefined && expected.sha256 !== (await sha256Of(entry.body, onBytes))) {
        problems.add(`${component}/${expected.path} fails its SHA-256 checksum`);
      }
      scope?.checked(component, entry.size);
    }
  } catch (error) {
    problems.add(archiveProblem(error));
    broken = true;
  }
  for (const component of index?.order ?? []) {
    if (only && !only.has(component)) continue;
    const cursor = cursors.get(component) ?? new IndexCursor(component, index!.of(component).entries(), problems);
    // A selective check stops after the last file it reads: what the index lists past it is not looked for.
    if (scope?.complete() && scope.reads(component) === 'some') continue;
    await cursor.finish(broken);
  }
  return {
    problems: problems.lines,
    unlisted: problems.unlisted,
    index: index ?? listedIndex(found, { listed: false, checksums: false }),
    checked: scope?.totals(),
  };
}

/** The index entries themselves, against the manifest's summary of them. */
function checkIndexEntry(record: FileRecord, manifest: Manifest, problems: ProblemList): void {
  const component = record.path.slice(INDEX_FOLDER.length + 1).replace(/\.jsonl$/, '');
  const summary = manifest.index && Object.hasOwn(manifest.index, component) ? manifest.index[component] : undefined;
  if (!summary || indexPath(component) !== record.path) problems.add(`unexpected file ${record.path}`);
  else if (summary.size !== record.size || summary.sha256 !== record.sha256) problems.add(`${record.path} fails its SHA-256 checksum`);
}

/** How far ahead in an index a file found out of its place is looked for. */
const LOOKAHEAD = 256;

/**
 * Walks one component's index in step with its files in the archive. Our archives hold the files
 * in index order, so a match is the next line; a file missing or added is found by looking a
 * little ahead.
 */
class IndexCursor {
  private readonly iterator: AsyncIterator<IndexedFile>;
  private readonly ahead: IndexedFile[] = [];
  private done = false;
  private previous: string | undefined;

  constructor(
    private readonly component: string,
    entries: AsyncIterable<IndexedFile>,
    private readonly problems: ProblemList,
  ) {
    this.iterator = entries[Symbol.asyncIterator]();
  }

  /**
   * The index's record of a file met in the archive, the files listed before it reported
   * missing; undefined when it is a problem itself (twice, unlisted, of another size).
   */
  async place(path: string, size: number): Promise<IndexedFile | undefined> {
    const name = `${this.component}/${path}`;
    if (path === this.previous) return void this.problems.add(`${name} appears twice in the archive`);
    const position = await this.find(path);
    if (position === -1) return void this.problems.add(`${name} is in the archive but not in the manifest`);
    for (const skipped of this.ahead.splice(0, position)) this.missing(skipped);
    const expected = this.ahead.shift()!;
    this.previous = path;
    if (expected.size === size) return expected;
    this.problems.add(`${name} is ${size} bytes, the manifest says ${expected.size}`);
    return undefined;
  }

  /**
   * Whatever the index still lists was not in the archive; after the archive broke (`broken`),
   * those files were not reached, which one line counts: each would say "missing" of a file
   * that may well be there.
   */
  async finish(broken: boolean): Promise<void> {
    if (!broken) {
      for (const skipped of this.ahead.splice(0)) this.missing(skipped);
      while (await this.pull()) this.missing(this.ahead.shift()!);
      return;
    }
    let unreached = this.ahead.splice(0).length;
    while (await this.pull()) unreached += this.ahead.splice(0).length;
    if (unreached > 0) {
      this.problems.add(
        `${plural(unreached, 'file')} of ${this.component} listed in the manifest could not be checked: the archive breaks before them`,
      );
    }
  }

  private async find(path: string): Promise<number> {
    for (let position = 0; ; position += 1) {
      if (position === this.ahead.length && (position >= LOOKAHEAD || !(await this.pull()))) return -1;
      if (this.ahead[position].path === path) return position;
    }
  }

  private async pull(): Promise<boolean> {
    if (this.done) return false;
    try {
      const next = await this.iterator.next();
      if (next.done) this.done = true;
      else this.ahead.push(next.value);
    } catch (error) {
      this.done = true;
      this.problems.add(error instanceof Error ? withoutFinalPeriod(error.message) : String(error));
    }
    return !this.done;
  }

  private missing(file: IndexedFile): void {
    this.problems.add(`${this.component}/${file.path} is listed in the manifest but missing from the archive`);
  }
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
      const content = Readable.fromWeb(entry.body);
      try {
        yield { path: pathInComponent(normalized.path), size: entry.size, content };
      } finally {
        await contentReleased(content);
      }
      yielded += 1;
      if (yielded >= fileCount) return;
    }
  } catch (error) {
    throw asArchiveError(error, locationName(file));
  }
}

function entryProblem(entry: ReadEntry, captured: Set<string>, indexed: boolean): string | undefined {
  const normalized = normalizeEntryPath(entry.path);
  if ('problem' in normalized) return `unsafe entry: ${normalized.problem}`;
  const path = normalized.path;
  if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'Directory') {
    return `unsafe entry: ${path} is a ${entry.type}, not a plain file`;
  }
  if (path === '' || path === MANIFEST_PATH || (indexed && (path === INDEX_FOLDER || componentOf(path) === INDEX_FOLDER))) return undefined;
  const component = componentOf(path) ?? (entry.type === 'Directory' ? path : undefined);
  if (!component) return `unexpected file ${path} at the top of the archive`;
  if (!captured.has(component)) return `${path} belongs to ${component}, which the manifest does not list`;
  return undefined;
}

async function readText(content: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of content) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

export async function assertReadableFile(file: string): Promise<void> {
  const info = await stat(file).catch(() => undefined);
  if (!info) throw new UsageError(`${file}: no such file.`, { hint: 'Pass the path of a backup archive.' });
  if (!info.isFile()) throw new UsageError(`${file} is not a file.`, { hint: 'Pass the path of a backup archive.' });
}

/**
 * What a read that failed says of the archive, for its check's problems. A read that failed on
 * the way (the store unreachable, a body that stalled) says nothing of it: thrown again.
 */
export function archiveProblem(error: unknown): string {
  if (error instanceof OrkestraError && !(error instanceof UsageError)) throw error;
  if (error instanceof HostileArchiveError) return error.message;
  return `the archive is truncated or damaged (${damageDetail(error)})`;
}

export function damageDetail(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof NotCompressedError || /incorrect header check|not in gzip format/i.test(message)) return 'not gzip-compressed';
  if (error instanceof ZstdFormatError) return message;
  if (/unexpected end of file/i.test(message)) return 'the compressed stream ends early';
  if (/truncated/i.test(message)) return 'the tar stream ends inside a file';
  return firstLine(message);
}

function asArchiveError(error: unknown, name: string): unknown {
  if (error instanceof OrkestraError) return error;
  if (error instanceof HostileArchiveError) {
    return new UsageError(asSentence(`${name}: ${error.message}`), {
      hint: 'Nothing was read past the problem; use another copy of the backup.',
    });
  }
  const detail = damageDetail(error);
  if (detail === 'not gzip-compressed') {
    return new UsageError(`${name} is not a .tar.gz archive.`, { hint: 'Nor a .tar.zst one: pass a file made by orkestra-backup backup.' });
  }
  return new UsageError(asSentence(`${name} is truncated or damaged: ${detail}`), { hint: 'Use another copy of the backup.' });
}

/**
 * Whether an archive's size agrees with its manifest: the manifest records the compressed bytes
 * that follow its own gzip member (zstd frame), so the first `size - bytesAfterManifest` bytes
 * must be exactly that member. A cut or padded archive fails this from its first bytes alone (what `list` reads).
 * Archives written before the field existed are not judged (undefined).
 */
export async function sizeProblem(location: ArchiveBytes, manifest: Manifest): Promise<string | undefined> {
  if (manifest.bytesAfterManifest === undefined) return undefined;
  const memberBytes = location.size - manifest.bytesAfterManifest;
  const mismatch = `the archive's size (${location.size} bytes) does not match its manifest: cut short or extended`;
  if (memberBytes <= 0 || memberBytes > MANIFEST_LIMIT) return mismatch;
  const prefix = await firstBytes(location.stream(), memberBytes);
  try {
    const codec = codecOf(prefix);
    if (!codec) return mismatch;
    const entry = singleFrame(prefix, codec, MANIFEST_LIMIT + 1024);
    const declared = parseInt(entry.subarray(124, 136).toString('latin1').replace(/\0.*$/s, '').trim(), 8);
    const expected = 512 + Math.ceil(declared / 512) * 512;
    return prefix.length === memberBytes && entry.length === expected ? undefined : mismatch;
  } catch {
    return mismatch;
  }
}
