import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { constants } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, rm, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { constants as zlibConstants, deflateRawSync, gzipSync } from 'node:zlib';
import { RuntimeError } from '../base/errors.js';
import { removeTemporary, trackTemporary, untrackTemporary } from '../base/temporaryFiles.js';
import { serializeManifest, type FileRecord, type Manifest } from './manifest.js';
import { ParallelGzipWriter, type Coding } from './parallelGzip.js';
import { IndexSpools, type SpooledIndex } from './indexSpools.js';
import { indexPath, MANIFEST_PATH } from './paths.js';
import { contentPadding, END_OF_ARCHIVE, fileHeader } from './tarEntry.js';
import { isProcessAlive } from '../base/processes.js';
import { writeAll } from './writeAll.js';

export interface AddFileOptions {
  /** False for data that is already compressed (gzip, images): it is stored, not deflated again. */
  compressible?: boolean;
  /** Fires as content flows in, with the bytes of this chunk. */
  onBytes?: (bytes: number) => void;
  /** Asked once the content has been read whole: what to record beside the file in its component's index. */
  details?: () => Record<string, unknown> | undefined;
}

export interface ArchiveWriterOptions {
  compressionLevel?: number;
  /** gzip members compressed at once. */
  compressionThreads?: number;
  /** False deflates data marked incompressible anyway (only to measure what storing it saves). */
  storeIncompressible?: boolean;
  /** False deflates data that only entropy-codes (only to measure what Huffman-only coding saves). */
  huffmanOnly?: boolean;
  /** When the final name is taken: pick the next free `-N` name (default names) or fail. */
  uniqueName?: boolean;
}

/** A manifest before the writer adds the summaries of the file indexes. */
export type UnindexedManifest = Pick<Manifest, 'schema' | 'createdAt' | 'environment' | 'host' | 'components' | 'tool' | 'details'>;

const PRIVATE = 0o600;

/**
 * Streams a `.tar.gz` whose first entry is `manifest.json`, followed by each component's file
 * index (`index/<component>.jsonl`, every file's size and SHA-256), although both are only known
 * at the end: entries go into a hidden body file as they come and index lines into hidden spool
 * files; `commit` writes the manifest as the first gzip member of another hidden file, then the
 * indexes, appends the body, and only then gives the result its final name. Nothing is held in
 * memory whole (a million files' records stay on disk), and an interrupted run never leaves a
 * file that looks finished.
 */
export class ArchiveWriter {
  /**
   * How each file of a megabyte or more was coded (store, huffman, deflate): what the probe
   * decided, for the benchmark and tests. Smaller files are not recorded: a map of a million
   * small objects' paths was 100 MB of a backup's peak memory.
   */
  readonly codings = new Map<string, Coding>();
  private readonly gzip: ParallelGzipWriter;
  private busy: Promise<unknown> = Promise.resolve();
  private bodyBytes = 0;

  private constructor(
    readonly finalPath: string,
    private readonly bodyPath: string,
    private readonly body: FileHandle,
    private readonly index: IndexSpools,
    private readonly options: ArchiveWriterOptions,
  ) {
    this.gzip = new ParallelGzipWriter((bytes) => writeAll(this.body, bytes), {
      level: options.compressionLevel,
      concurrency: options.compressionThreads,
    });
  }

  static async open(finalPath: string, options: ArchiveWriterOptions = {}): Promise<ArchiveWriter> {
    await mkdir(dirname(finalPath), { recursive: true });
    await removeLeftovers(dirname(finalPath));
    const bodyPath = hiddenSibling(finalPath, 'body');
    trackTemporary(bodyPath);
    const body = await open(bodyPath, 'wx', PRIVATE);
    return new ArchiveWriter(finalPath, bodyPath, body, new IndexSpools((role) => hiddenSibling(finalPath, role)), options);
  }

  /** Files written so far, and their content bytes. */
  get files(): number {
    return this.index.files;
  }

  /** Uncompressed tar bytes so far: what progress reports count. */
  get bytesWritten(): number {
    return this.bodyBytes;
  }

  /** Adds a file whose size is known up front; the content must be exactly that long. */
  addFile(path: string, size: number, content: Readable, options: AddFileOptions = {}): Promise<FileRecord> {
    return this.exclusive(() => this.writeEntry(path, size, content, options));
  }

  /**
   * Adds content of unknown length (the output of a command): it is spooled to a hidden file
   * next to the archive to learn its size, then added. Disk, not memory, absorbs it.
   */
  async addStream(path: string, content: Readable, options: AddFileOptions = {}): Promise<FileRecord> {
    const spoolPath = hiddenSibling(this.finalPath, 'spool');
    trackTemporary(spoolPath);
    try {
      const spool = await open(spoolPath, 'wx', PRIVATE);
      let size = 0;
      try {
        for await (const chunk of content as AsyncIterable<Buffer>) {
          await writeAll(spool, chunk);
          size += chunk.length;
          options.onBytes?.(chunk.length);
        }
      } finally {
        await spool.close();
      }
      const spooled = createReadStream(spoolPath, { highWaterMark: 1 << 20 });
      return await this.addFile(path, size, spooled, { compressible: options.compressible, details: options.details });
    } finally {
      await removeTemporary(spoolPath);
    }
  }

  addText(path: string, text: string): Promise<FileRecord> {
    const bytes = Buffer.from(text, 'utf8');
    return this.addFile(path, bytes.length, Readable.from([bytes]));
  }

  /**
   * Writes the manifest (given every component's index summary), the indexes and the body into a
   * hidden file, lets `check` read it back, and gives it its final name. Returns the final path
   * (which may carry a `-N` suffix when `uniqueName` is set and the name was taken meanwhile) and
   * the manifest as written.
   */
  async commit(
    unindexed: UnindexedManifest,
    check?: (path: string, manifest: Manifest) => Promise<void>,
  ): Promise<{ path: string; manifest: Manifest }> {
    await this.exclusive(async () => {
      await this.gzip.write(END_OF_ARCHIVE);
      await this.gzip.finish();
    });
    // No fsync of the body: it is copied behind the manifest and removed, and the copy is what
    // is synced before it gets its final name. Syncing both wrote every byte to disk twice.
    await this.body.close();
    const indexes = await this.index.finish(unindexed.components);
    const manifest: Manifest = { ...unindexed, index: Object.fromEntries(indexes.map(({ component, summary }) => [component, summary])) };
    const partialPath = hiddenSibling(this.finalPath, 'partial');
    trackTemporary(partialPath);
    try {
      await assemble(partialPath, manifest, indexes, this.bodyPath, this.options.compressionLevel);
      await removeTemporary(this.bodyPath);
      await this.index.discard();
      if (check) await check(partialPath, manifest);
      const finalPath = await publish(partialPath, this.finalPath, this.options.uniqueName ?? false);
      untrackTemporary(partialPath);
      return { path: finalPath, manifest };
    } catch (error) {
      await removeTemporary(partialPath);
      throw error;
    }
  }

  /** Removes everything written so far. Safe to call more than once. */
  async discard(): Promise<void> {
    await this.body.close().catch(() => undefined);
    await removeTemporary(this.bodyPath);
    await this.index.discard();
  }

  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.busy.then(work, work);
    this.busy = run.catch(() => undefined);
    return run;
  }

  private async writeEntry(path: string, size: number, content: Readable, options: AddFileOptions): Promise<FileRecord> {
    let coding = options.compressible === undefined ? undefined : this.allowed(options.compressible ? 'deflate' : 'store');
    await this.gzip.write(fileHeader(path, size, new Date()));
    const hash = createHash('sha256');
    let seen = 0;
    for await (const chunk of content as AsyncIterable<Buffer>) {
      // Unknown content is judged by quick trial codings of its first chunk (see `codingFor`).
      coding ??= this.allowed(size < PROBE_FROM_BYTES ? 'deflate' : codingFor(chunk));
      seen += chunk.length;
      if (seen > size) {
        content.destroy();
        throw new RuntimeError(`${path}: the source grew while it was being copied (expected ${size} bytes).`);
      }
      hash.update(chunk);
      await this.gzip.write(chunk, coding);
      options.onBytes?.(chunk.length);
    }
    if (coding && size >= PROBE_FROM_BYTES) this.codings.set(path, coding);
    if (seen !== size) {
      throw new RuntimeError(`${path}: the source ended after ${seen} of ${size} bytes.`);
    }
    await this.gzip.write(contentPadding(size));
    this.bodyBytes += size;
    const record = { path, size, sha256: hash.digest('hex') };
    await this.index.add(record, options.details?.());
    return record;
  }

  /** The coding to use once the measuring switches (tuning) have had their say. */
  private allowed(coding: Coding): Coding {
    if (coding === 'store' && this.options.storeIncompressible === false) return 'deflate';
    if (coding === 'huffman' && this.options.huffmanOnly === false) return 'deflate';
    return coding;
  }
}

/** Files smaller than this are deflated without a probe: a wrong guess costs little. */
const PROBE_FROM_BYTES = 1024 * 1024;
const PROBE_BYTES = 64 * 1024;

/**
 * Codes a sample both ways: random or already compressed data (level 1 saves under 5%) is
 * stored; data whose matches gain under 6% over entropy coding alone (base64 or hex values,
 * LZF-packed RDB files) is Huffman-coded, about four times faster than a level-6 deflate
 * (measured on a 170 MB Redis RDB of base64 values: 44 MB/s for ratio 0.728, 163 MB/s for
 * 0.762); everything else is deflated at the configured level.
 */
export function codingFor(sample: Buffer): Coding {
  const probe = sample.subarray(0, PROBE_BYTES);
  if (probe.length < 4096) return 'deflate';
  const deflated = deflateRawSync(probe, { level: 1 }).length;
  if (deflated >= probe.length * 0.95) return 'store';
  const entropyOnly = deflateRawSync(probe, { strategy: zlibConstants.Z_HUFFMAN_ONLY }).length;
  return entropyOnly <= deflated * 1.06 ? 'huffman' : 'deflate';
}

/** `.<name>.<role>-<pid>-<random>`: the pid lets a later run tell a dead run's leftovers. */
function hiddenSibling(finalPath: string, role: string): string {
  return join(dirname(finalPath), `.${basename(finalPath)}.${role}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

const LEFTOVER = /^\..+\.(?:body|spool|index|partial)-(\d+)-[0-9a-f]{8}$/;

/**
 * Removes the hidden files of backups whose process is gone (killed with SIGKILL, or the machine
 * stopped): they hold secrets and would otherwise stay forever. A live run's files are left alone.
 */
async function removeLeftovers(folder: string): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(folder).catch(() => [] as string[])) {
    const match = LEFTOVER.exec(name);
    if (!match || isProcessAlive(Number(match[1]))) continue;
    await rm(join(folder, name), { force: true });
    removed.push(name);
  }
  return removed;
}

async function assemble(
  partialPath: string,
  manifest: Manifest,
  indexes: readonly SpooledIndex[],
  bodyPath: string,
  level: number | undefined,
): Promise<void> {
  const handle = await open(partialPath, 'wx', PRIVATE);
  try {
    const mtime = new Date(manifest.createdAt);
    const text = Buffer.from(serializeManifest(manifest), 'utf8');
    const entry = Buffer.concat([fileHeader(MANIFEST_PATH, text.length, mtime), text, contentPadding(text.length)]);
    await writeAll(handle, gzipSync(entry));
    for (const index of indexes) {
      await writeAll(handle, gzipSync(fileHeader(indexPath(index.component), index.summary.size, mtime)));
      // One gzip member per megabyte: a gzip stream may be a series of members, and the spool never sits in memory whole.
      await copyThrough(index.spoolPath, (chunk) => writeAll(handle, gzipSync(chunk, { level })));
      await writeAll(handle, gzipSync(contentPadding(index.summary.size)));
    }
    await appendFile(handle, bodyPath);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Hard-links into place so an existing archive is never replaced, then drops the hidden name. */
async function publish(partialPath: string, finalPath: string, uniqueName: boolean): Promise<string> {
  for (let attempt = 1; ; attempt += 1) {
    const candidate = attempt === 1 ? finalPath : finalPath.replace(/(\.tar\.gz|\.tgz)?$/, `-${attempt}$1`);
    try {
      await link(partialPath, candidate);
      await unlink(partialPath);
      return candidate;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' && uniqueName && attempt < 100) continue;
      if (code === 'EEXIST') throw new RuntimeError(`${finalPath} already exists; nothing was overwritten.`);
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EXDEV') {
        // A filesystem without hard links: a copy that fails if the name exists (rename would replace it).
        try {
          await copyFile(partialPath, candidate, constants.COPYFILE_EXCL);
        } catch (copyError) {
          if ((copyError as NodeJS.ErrnoException).code === 'EEXIST' && uniqueName && attempt < 100) continue;
          if ((copyError as NodeJS.ErrnoException).code === 'EEXIST')
            throw new RuntimeError(`${finalPath} already exists; nothing was overwritten.`);
          throw copyError;
        }
        await unlink(partialPath);
        return candidate;
      }
      throw error;
    }
  }
}

/** Copies through one reused buffer: a stream would allocate (and leave for the GC) every megabyte of a multi-GB body. */
function appendFile(target: FileHandle, sourcePath: string): Promise<void> {
  return copyThrough(sourcePath, (chunk) => writeAll(target, chunk));
}

async function copyThrough(sourcePath: string, write: (chunk: Buffer) => Promise<void>): Promise<void> {
  const source = await open(sourcePath, 'r');
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const { bytesRead } = await source.read(buffer, 0, buffer.length);
      if (bytesRead === 0) return;
      await write(buffer.subarray(0, bytesRead));
    }
  } finally {
    await source.close();
  }
}
