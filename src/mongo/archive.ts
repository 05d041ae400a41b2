import { deserialize, type Document } from 'bson';
import { Crc64 } from '../integrity/crc64.js';

/**
 * A streaming reader of the mongodump archive format (mongo-tools `common/archive/spec.md`):
 * magic number, header document, one metadata document per collection, a terminator, then
 * segments of documents per namespace and one EOF header per namespace carrying the CRC-64 of
 * its documents. Chunks are pushed in; nothing but a header (at most 48 MiB, MAX_BSON) is ever held.
 */
const MAGIC = 0x8199e26d;
const TERMINATOR = -1;
const MAX_BSON = 48 * 1024 * 1024;

export interface ArchiveHeader {
  formatVersion?: string;
  serverVersion?: string;
  toolVersion?: string;
  concurrentCollections?: number;
}

export interface NamespaceSummary {
  db: string;
  collection: string;
  /** collection, view, timeseries… from the metadata; undefined when it has none. */
  type?: string;
  documents: number;
  bytes: number;
  /** True/false once the EOF header was read and its CRC compared; undefined before. */
  crcMatches?: boolean;
  ended: boolean;
}

export interface MongoArchiveSummary {
  header: ArchiveHeader;
  namespaces: NamespaceSummary[];
  /** Everything wrong, one line each. */
  problems: string[];
  /** The header and every metadata document have been read. */
  preludeComplete: boolean;
  /** The stream ended where a well-formed archive may end. */
  complete: boolean;
  /** Where in the archive's mongodb/ folder it was read from: `dump/` (parts) or `mongo.archive.gz`. */
  file?: string;
}

type State =
  | { kind: 'magic' }
  | { kind: 'header' }
  | { kind: 'metadata' }
  | { kind: 'segment-header' }
  | { kind: 'segment-data'; namespace: Tracked }
  | { kind: 'eof-terminator' }
  | { kind: 'failed' };

interface Tracked extends NamespaceSummary {
  crc: Crc64;
}

/**
 * A reader that passes on part of the archive: the magic, the header and the prelude's terminator,
 * and the metadata, segments and EOF headers of the namespaces `keep` takes, byte for byte. The
 * documents of the others are skipped by their lengths, unread; no CRC is computed (the tool that
 * reads what is passed on checks the kept ones against their EOF headers, carried as they are).
 */
export interface ArchiveForward {
  /** `eof`: the header is the namespace's EOF header, the last it has in the archive. */
  keep(db: string, collection: string, eof: boolean): boolean;
  write(bytes: Buffer): void;
  /** A kept data document has been passed on whole: a segment may be closed here and begun again. */
  documentEnds?(): void;
}

export class MongoArchiveReader {
  private state: State = { kind: 'magic' };
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes of a data document still to stream through the CRC without buffering. */
  private documentRemaining = 0;
  private readonly namespaces = new Map<string, Tracked>();
  private header: ArchiveHeader = {};
  private readonly problems: string[] = [];
  private preludeComplete = false;
  /** Whether the bytes of the current segment (or EOF header's terminator) are passed on. */
  private forwarding = true;

  /** `preludeOnly`: what follows the prelude is left unread, whatever it is. `forward`: see ArchiveForward. */
  constructor(private readonly options: { readonly preludeOnly?: boolean; readonly forward?: ArchiveForward } = {}) {}

  push(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length && this.state.kind !== 'failed' && !(this.options.preludeOnly && this.preludeComplete)) {
      if (this.documentRemaining > 0 && this.state.kind === 'segment-data') {
        const take = Math.min(this.documentRemaining, chunk.length - offset);
        const namespace = this.state.namespace;
        if (this.options.forward) this.pass(chunk.subarray(offset, offset + take));
        else namespace.crc.update(chunk.subarray(offset, offset + take));
        namespace.bytes += take;
        this.documentRemaining -= take;
        offset += take;
        if (this.documentRemaining === 0 && this.forwarding) this.options.forward?.documentEnds?.();
        continue;
      }
      const need = this.bytesWanted();
      const take = Math.min(need - this.pendingBytes, chunk.length - offset);
      this.pending.push(chunk.subarray(offset, offset + take));
      this.pendingBytes += take;
      offset += take;
      if (this.pendingBytes === need) this.consumePending();
    }
  }

  /** Call at the end of the stream; returns what was found. */
  finish(): MongoArchiveSummary {
    const cleanEnd = this.state.kind === 'segment-header' && this.pendingBytes === 0 && this.documentRemaining === 0;
    if (this.state.kind !== 'failed' && !cleanEnd) this.problems.push('the mongodump archive ends in the middle of a document');
    for (const namespace of this.namespaces.values()) {
      if (cleanEnd && !namespace.ended && namespace.documents > 0) {
        this.problems.push(`${namespace.db}.${namespace.collection} has no EOF header`);
      }
    }
    return this.summary(cleanEnd);
  }

  summary(complete = false): MongoArchiveSummary {
    return {
      header: this.header,
      namespaces: [...this.namespaces.values()].map(({ crc: _crc, ...rest }) => rest),
      problems: [...this.problems],
      preludeComplete: this.preludeComplete,
      complete,
    };
  }

  /** The header and every metadata document have been read. */
  get preludeRead(): boolean {
    return this.preludeComplete;
  }

  get failed(): boolean {
    return this.state.kind === 'failed';
  }

  /** How many bytes the current state needs in `pending` before it can act. */
  private bytesWanted(): number {
    if (this.state.kind === 'magic' || this.state.kind === 'eof-terminator' || this.pendingBytes < 4) return 4;
    const length = Buffer.concat(this.pending, this.pendingBytes).readInt32LE(0);
    if (length === TERMINATOR) return 4;
    return length < 5 || length > MAX_BSON ? 4 : length;
  }

  private consumePending(): void {
    const bytes = Buffer.concat(this.pending, this.pendingBytes);
    const word = bytes.readInt32LE(0);
    if (this.state.kind === 'magic') return this.afterMagic(bytes.readUInt32LE(0));
    if (this.state.kind === 'eof-terminator') return this.afterEofTerminator(word);
    if (word === TERMINATOR) return this.afterTerminator();
    if (word < 5 || word > MAX_BSON) return this.fail(`a document length of ${word} bytes is impossible`);
    if (this.state.kind === 'segment-data') return this.startDataDocument(bytes.subarray(0, 4), word);
    if (bytes.length < word) return; // the length is known now; keep collecting
    this.reset();
    this.afterDocument(bytes);
  }

  private afterMagic(magic: number): void {
    this.passPending(true);
    if (magic !== MAGIC) return this.fail(`not a mongodump archive (magic number 0x${magic.toString(16)})`);
    this.state = { kind: 'header' };
  }

  private afterEofTerminator(word: number): void {
    this.passPending(this.forwarding);
    if (word !== TERMINATOR) return this.fail('an EOF header is not followed by a terminator');
    this.state = { kind: 'segment-header' };
  }

  private afterTerminator(): void {
    this.passPending(this.state.kind === 'metadata' || this.forwarding);
    if (this.state.kind === 'metadata') {
      this.preludeComplete = true;
      this.state = { kind: 'segment-header' };
    } else if (this.state.kind === 'segment-data') {
      this.state = { kind: 'segment-header' };
    } else {
      this.fail('a terminator where a document was expected');
    }
  }

  /** A data document is counted and checksummed as it streams by; only its length is buffered. */
  private startDataDocument(lengthBytes: Buffer, length: number): void {
    const namespace = (this.state as { namespace: Tracked }).namespace;
    namespace.documents += 1;
    if (this.options.forward) this.pass(lengthBytes);
    else namespace.crc.update(lengthBytes);
    namespace.bytes += lengthBytes.length;
    this.documentRemaining = length - lengthBytes.length;
    this.reset();
  }

  private afterDocument(bytes: Buffer): void {
    const state = this.state;
    const document = this.decode(bytes);
    if (!document) return;
    const forward = this.options.forward;
    if (forward) {
      const kept =
        state.kind === 'header' || forward.keep(String(document.db ?? ''), String(document.collection ?? ''), document.EOF === true);
      if (state.kind === 'segment-header') this.forwarding = kept;
      if (kept) forward.write(bytes);
    }
    if (state.kind === 'header') {
      this.header = {
        formatVersion: stringField(document.version),
        serverVersion: stringField(document.server_version),
        toolVersion: stringField(document.tool_version),
        concurrentCollections: typeof document.concurrent_collections === 'number' ? document.concurrent_collections : undefined,
      };
      this.state = { kind: 'metadata' };
    } else if (state.kind === 'metadata') {
      this.track(document).type = metadataType(document, this.problems);
    } else if (state.kind === 'segment-header') {
      const namespace = this.track(document);
      if (document.EOF === true && forward) {
        namespace.ended = true;
        this.state = { kind: 'eof-terminator' };
      } else if (document.EOF === true) {
        const expected = typeof document.CRC === 'bigint' ? BigInt.asUintN(64, document.CRC) : BigInt(Number(document.CRC ?? 0));
        namespace.ended = true;
        namespace.crcMatches = namespace.crc.digest() === expected;
        if (!namespace.crcMatches) this.problems.push(`${namespace.db}.${namespace.collection} fails its CRC-64 check`);
        this.state = { kind: 'eof-terminator' };
      } else {
        this.state = { kind: 'segment-data', namespace };
      }
    }
  }

  private reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
  }

  /** Passes on the bytes of the current segment when it is kept. */
  private pass(bytes: Buffer): void {
    if (this.forwarding) this.options.forward?.write(bytes);
  }

  /** Passes on a terminator or the magic (a copy: `pending` may hold slices of the caller's chunk), then resets. */
  private passPending(kept: boolean): void {
    if (kept && this.options.forward) this.options.forward.write(Buffer.concat(this.pending, this.pendingBytes));
    this.reset();
  }

  private decode(bytes: Buffer): Document | undefined {
    try {
      return deserialize(bytes, { useBigInt64: true });
    } catch (error) {
      this.fail(`a header document is not valid BSON (${(error as Error).message})`);
      return undefined;
    }
  }

  private track(document: Document): Tracked {
    const db = String(document.db ?? '');
    const collection = String(document.collection ?? '');
    const key = `${db}.${collection}`;
    let namespace = this.namespaces.get(key);
    if (!namespace) {
      namespace = { db, collection, documents: 0, bytes: 0, ended: false, crc: Crc64.ecma() };
      this.namespaces.set(key, namespace);
    }
    return namespace;
  }

  private fail(problem: string): void {
    this.problems.push(problem);
    this.state = { kind: 'failed' };
  }
}

function stringField(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The collection type from the metadata's Extended JSON; a metadata that does not parse is reported. */
function metadataType(document: Document, problems: string[]): string | undefined {
  const text: unknown = document.metadata;
  if (typeof text !== 'string' || text === '') return undefined;
  try {
    const metadata = JSON.parse(text) as { type?: string; options?: { viewOn?: string; timeseries?: unknown } };
    if (metadata.type) return metadata.type;
    if (metadata.options?.viewOn) return 'view';
    if (metadata.options?.timeseries) return 'timeseries';
    return 'collection';
  } catch {
    problems.push(`the metadata of ${document.db}.${document.collection} is not valid Extended JSON`);
    return undefined;
  }
}
