import { createHash, type Hash } from 'node:crypto';
import type { FileRecord, IndexSummary } from './manifest.js';
import { componentOf, pathInComponent } from './paths.js';
import { PrivateSpool } from './privateSpool.js';

/** Index lines gathered before one write: about 2,000 records of 130 bytes. */
const FLUSH_BYTES = 256 * 1024;

export interface SpooledIndex {
  readonly component: string;
  readonly spool: PrivateSpool;
  readonly summary: IndexSummary;
}

interface Spool {
  readonly file: PrivateSpool;
  readonly hash: Hash;
  pending: string[];
  pendingBytes: number;
  files: number;
  bytes: number;
  size: number;
  at?: number;
}

/**
 * Each component's index lines, spooled to a private file beside the archive as files are
 * written: the records of a million objects (about 200 MB as JSON) never sit in memory.
 */
export class IndexSpools {
  private readonly spools = new Map<string, Spool>();
  private written = 0;

  constructor(private readonly hiddenPath: (role: string) => string) {}

  get files(): number {
    return this.written;
  }

  /** `at`: where the file's header starts in the uncompressed body (see `SeekTable`). */
  async add(record: FileRecord, details: Record<string, unknown> | undefined, at: number): Promise<void> {
    const component = componentOf(record.path);
    if (component === undefined) throw new Error(`${record.path} is not inside a component's folder`);
    const spool = await this.spoolOf(component);
    const line = `${JSON.stringify({ path: pathInComponent(record.path), size: record.size, sha256: record.sha256, details, at })}\n`;
    spool.hash.update(line);
    spool.pending.push(line);
    spool.pendingBytes += line.length;
    spool.size += Buffer.byteLength(line);
    spool.at ??= at;
    spool.files += 1;
    spool.bytes += record.size;
    this.written += 1;
    if (spool.pendingBytes >= FLUSH_BYTES) await flush(spool);
  }

  /** Every component's spool, complete and closed, in the order given (a component without files gets an empty index). */
  async finish(components: readonly string[]): Promise<SpooledIndex[]> {
    const finished: SpooledIndex[] = [];
    for (const component of components) {
      const spool = await this.spoolOf(component);
      await flush(spool);
      await spool.file.close();
      const summary = { files: spool.files, bytes: spool.bytes, size: spool.size, sha256: spool.hash.digest('hex'), at: spool.at };
      finished.push({ component, spool: spool.file, summary });
    }
    return finished;
  }

  async discard(): Promise<void> {
    for (const spool of this.spools.values()) await spool.file.remove();
    this.spools.clear();
  }

  private async spoolOf(component: string): Promise<Spool> {
    const existing = this.spools.get(component);
    if (existing) return existing;
    const spool: Spool = {
      file: await PrivateSpool.create(this.hiddenPath('index')),
      hash: createHash('sha256'),
      pending: [],
      pendingBytes: 0,
      files: 0,
      bytes: 0,
      size: 0,
    };
    this.spools.set(component, spool);
    return spool;
  }
}

async function flush(spool: Spool): Promise<void> {
  if (spool.pending.length === 0) return;
  const bytes = Buffer.from(spool.pending.join(''), 'utf8');
  spool.pending = [];
  spool.pendingBytes = 0;
  await spool.file.write(bytes);
}
