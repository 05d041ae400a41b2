import { Writable } from 'node:stream';
import { RuntimeError } from '../base/errors.js';
import { MongoArchiveReader, type NamespaceSummary } from './archive.js';

/** A collection's part is handed on once it holds this much, at the end of a segment. */
export const DUMP_PART_BYTES = 4 * 1024 * 1024;
/** What the parts being gathered may hold together before the largest is handed on early. */
const GATHERED_BYTES = 32 * 1024 * 1024;
/** Gathered bytes are copied into blocks of up to this size: a part is a few large chunks, not one per document. */
const BLOCK_BYTES = 256 * 1024;
/** A namespace's first block: a small collection (an empty one is an EOF header) holds no more. */
const FIRST_BLOCK_BYTES = 4 * 1024;
const TERMINATOR = Buffer.from([0xff, 0xff, 0xff, 0xff]);

/** A stretch of the dump: the prelude, or segments of one namespace in the order mongodump wrote them. */
export interface DumpPart {
  /** "db.collection"; undefined for the prelude (magic, header, every collection's metadata). */
  readonly namespace?: string;
  readonly chunks: readonly Buffer[];
  readonly bytes: number;
}

class Gathering {
  private blocks: Buffer[] = [];
  bytes = 0;
  /** The memory its blocks take: what the cap on gathering counts, so a thousand small collections cannot hide theirs. */
  held = 0;
  private used = 0;

  add(bytes: Buffer): void {
    let offset = 0;
    while (offset < bytes.length) {
      const last = this.blocks.at(-1);
      if (!last || this.used === last.length) {
        // Blocks double up to BLOCK_BYTES: what a namespace holds stays within twice its bytes.
        const size = last ? Math.min(BLOCK_BYTES, last.length * 2) : FIRST_BLOCK_BYTES;
        this.blocks.push(Buffer.allocUnsafe(size));
        this.held += size;
        this.used = 0;
      }
      const copied = bytes.copy(this.blocks.at(-1)!, this.used, offset);
      this.used += copied;
      offset += copied;
    }
    this.bytes += bytes.length;
  }

  take(): Buffer[] {
    const blocks = this.blocks;
    if (blocks.length > 0) blocks[blocks.length - 1] = blocks[blocks.length - 1].subarray(0, this.used);
    this.blocks = [];
    this.bytes = 0;
    this.held = 0;
    this.used = 0;
    return blocks;
  }
}

/**
 * Cuts mongodump's archive (mongo-tools `common/archive/spec.md`) into parts a restore of a few
 * collections can pick: the prelude first, then parts that each hold segments of one namespace
 * only, cut at segment ends. mongodump interleaves the collections it dumps at once; here each
 * namespace gathers its own segments and is handed on once it holds DUMP_PART_BYTES, or once its
 * EOF header has passed. Their concatenation is still a mongodump archive with the same documents
 * in the same order per namespace, and never more namespaces open at once (begun, EOF header not
 * yet passed) than mongodump had: mongorestore restores that many at once, each read to its EOF
 * header before the next is taken, and waits forever for one more. Memory holds what is being
 * gathered: at most GATHERED_BYTES beside the segments still open. The documents are counted and
 * CRC-64-checked on the way (`counts`); framing mongodump would never write fails the backup.
 */
export class DumpSplitter extends Writable {
  private readonly tally = new MongoArchiveReader();
  private readonly framing: MongoArchiveReader;
  /** Insertion order is the order namespaces first appear: the prelude's key is undefined. */
  private readonly gathering = new Map<string | undefined, Gathering>([[undefined, new Gathering()]]);
  /** The namespace whose segment is arriving; undefined while the prelude is. */
  private current: string | undefined;
  /** Whether the header that started `current` was its EOF header: it has nothing more to come. */
  private currentEnded = false;
  /** The header of the segment arriving (its bytes come next when undefined), to begin it again in the next part. */
  private segmentHeader: Buffer | undefined;
  /** The segment arriving holds a part's worth: it is closed and begun again before its next document. */
  private splitSegment = false;
  private preludeCut = false;
  private gathered = 0;
  private seen = 0;
  private readonly ready: DumpPart[] = [];
  /** The parts being handed on: a failed dump waits for them, so nothing is added once the backup moved on. */
  private handing: Promise<void> = Promise.resolve();
  private namespaces: NamespaceSummary[] | undefined;

  private readonly partBytes: number;
  private readonly gatheredBytes: number;

  constructor(
    private readonly handOn: (part: DumpPart) => Promise<void>,
    sizes: { readonly partBytes?: number; readonly gatheredBytes?: number } = {},
  ) {
    super({ highWaterMark: 1 << 20 });
    this.partBytes = sizes.partBytes ?? DUMP_PART_BYTES;
    this.gatheredBytes = sizes.gatheredBytes ?? GATHERED_BYTES;
    this.framing = new MongoArchiveReader({
      forward: {
        keep: (db, collection, eof) => this.segmentStarts(db, collection, eof),
        write: (bytes) => this.passed(bytes),
        documentEnds: () => this.documentEnds(),
      },
    });
  }

  /** Documents per namespace, or undefined when a CRC-64 or a document did not check out. */
  counts(): NamespaceSummary[] | undefined {
    return this.namespaces;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.seen += chunk.length;
    this.tally.push(chunk);
    this.framing.push(chunk);
    if (this.framing.failed) {
      callback(notAnArchive(this.framing.summary().problems[0]));
      return;
    }
    while (this.gathered > this.gatheredBytes) {
      const largest = [...this.gathering].filter(([name]) => name !== this.current).sort((a, b) => b[1].held - a[1].held)[0];
      if (!largest || largest[1].held === 0) break; // only the open segment holds memory: it is cut at its end
      this.cut(largest[0]);
    }
    this.handOnReady(callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.seen === 0) {
      callback(new RuntimeError('mongodump exited without writing an archive (0 bytes).'));
      return;
    }
    const framing = this.framing.finish();
    if (framing.problems.length > 0) {
      callback(notAnArchive(framing.problems[0]));
      return;
    }
    const tally = this.tally.finish();
    if (tally.problems.length === 0) this.namespaces = tally.namespaces;
    if (!this.preludeCut) this.cut(undefined); // a dump of no collection is its prelude alone
    for (const [name, gathering] of this.gathering) if (name !== undefined && gathering.bytes > 0) this.cut(name);
    this.handOnReady(callback);
  }

  /** Destroyed (mongodump failed, the backup is interrupted): ends only once the part being handed on has been. */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.handing.then(
      () => callback(error),
      () => callback(error),
    );
  }

  /**
   * The reader met a segment header (or, in the prelude, a collection's metadata): the one before
   * it has ended. A namespace whose EOF header has passed is handed on at once: mongorestore
   * restores max(4, concurrent_collections) namespaces at once, each to its EOF header before it
   * takes the next, so the parts may hold no more namespaces open at once than mongodump did.
   */
  private segmentStarts(db: string, collection: string, eof: boolean): boolean {
    if (!this.framing.preludeRead) return true;
    const ended = this.current;
    if (!this.preludeCut) this.cut(undefined);
    else if (ended !== undefined && (this.currentEnded || this.gathering.get(ended)!.bytes >= this.partBytes)) this.cut(ended);
    this.current = `${db}.${collection}`;
    this.currentEnded = eof;
    this.segmentHeader = undefined;
    this.splitSegment = false;
    if (!this.gathering.has(this.current)) this.gathering.set(this.current, new Gathering());
    return true;
  }

  /**
   * mongodump begins a segment only when it switches namespace: a collection dumped alone is one
   * segment, however large. One that holds a part's worth is closed after a document (a
   * terminator), handed on, and begun again in the next part with its header: the documents and
   * their CRC-64 are the same, and mongorestore reads a namespace's segments one after another.
   */
  private documentEnds(): void {
    if (this.current !== undefined && this.gathering.get(this.current)!.bytes >= this.partBytes) this.splitSegment = true;
  }

  /** Bytes the reader passed on: a segment's header is kept; a document after a split begins a new segment. */
  private passed(bytes: Buffer): void {
    if (this.framing.preludeRead && this.current !== undefined && this.segmentHeader === undefined) {
      this.segmentHeader = Buffer.from(bytes); // the reader passes a header whole, right after `keep`
    } else if (this.splitSegment) {
      this.splitSegment = false;
      // The segment's own terminator ends it anyway; anything else is the next document's length.
      if (!bytes.equals(TERMINATOR)) {
        this.gather(TERMINATOR);
        this.cut(this.current);
        this.gather(this.segmentHeader!);
      }
    }
    this.gather(bytes);
  }

  private gather(bytes: Buffer): void {
    const gathering = this.gathering.get(this.current)!;
    const before = gathering.held;
    gathering.add(bytes);
    this.gathered += gathering.held - before;
  }

  private cut(namespace: string | undefined): void {
    const gathering = this.gathering.get(namespace)!;
    if (namespace === undefined) this.preludeCut = true;
    const bytes = gathering.bytes;
    this.gathered -= gathering.held;
    this.ready.push({ ...(namespace === undefined ? {} : { namespace }), bytes, chunks: gathering.take() });
  }

  private handOnReady(callback: (error?: Error | null) => void): void {
    this.handing = this.handReady();
    this.handing.then(() => callback(), callback);
  }

  private async handReady(): Promise<void> {
    while (this.ready.length > 0 && !this.destroyed) await this.handOn(this.ready.shift()!);
  }
}

function notAnArchive(problem: string | undefined): RuntimeError {
  return new RuntimeError(`mongodump wrote something that is not a whole mongodump archive: ${problem ?? 'it ends early'}.`);
}
