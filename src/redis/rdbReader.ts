import { UsageError } from '../base/errors.js';
import { formatBytes } from '../base/format.js';
import { LzfDamage, lzfDecompress, lzfMostExpanded, LzfShape } from './lzf.js';

/**
 * Redis's own limit on a string, and the default `proto-max-bulk-len`: the largest string an RDB
 * record may declare (plain or once decompressed; a record above it is refused before anything
 * is read or allocated for it), and the longest bulk string a server takes when it does not say.
 */
const MIB = 1024 * 1024;
export const MOST_STRING_BYTES = 512 * MIB;

/** The largest piece a capture keeps a value in: a value is held in few pieces, never one per byte. */
const CAPTURE_CHUNK_BYTES = 64 * 1024;

/**
 * A value's raw encoding as the reader consumes it, copied into growing chunks while it stays
 * within `keepUpTo` bytes; past that, everything kept is let go and the bytes are only counted.
 */
class Capture {
  private chunks: Buffer[] = [];
  private filled = 0;
  bytes = 0;

  constructor(private readonly keepUpTo: number) {}

  get keptChunks(): number {
    return this.chunks.length;
  }

  add(piece: Buffer): void {
    this.bytes += piece.length;
    if (this.bytes > this.keepUpTo) {
      if (this.chunks.length > 0) this.chunks = [];
      return;
    }
    for (let offset = 0; offset < piece.length;) {
      const room = this.room();
      const copied = piece.copy(room, this.filled, offset);
      this.filled += copied;
      offset += copied;
    }
  }

  addByte(value: number): void {
    this.bytes += 1;
    if (this.bytes > this.keepUpTo) {
      if (this.chunks.length > 0) this.chunks = [];
      return;
    }
    this.room()[this.filled++] = value;
  }

  /** The bytes kept, or undefined when the value outgrew `keepUpTo`. */
  value(): Buffer | undefined {
    if (this.bytes > this.keepUpTo) return undefined;
    const last = this.chunks.length - 1;
    if (last < 0) return Buffer.alloc(0);
    this.chunks[last] = this.chunks[last].subarray(0, this.filled);
    return last === 0 ? this.chunks[0] : Buffer.concat(this.chunks, this.bytes);
  }

  /** The last chunk when it has room left, else a new one twice as large as what is kept so far (up to CAPTURE_CHUNK_BYTES). */
  private room(): Buffer {
    const last = this.chunks[this.chunks.length - 1];
    if (last && this.filled < last.length) return last;
    const size = Math.min(CAPTURE_CHUNK_BYTES, Math.max(256, this.bytes), this.keepUpTo);
    const fresh = Buffer.allocUnsafe(size);
    this.chunks.push(fresh);
    this.filled = 0;
    return fresh;
  }
}

/** A record the walk cannot step over (module data, a value type it does not know): named, never guessed. */
export class Unwalkable extends Error {}

/**
 * An RDB whose records contradict themselves or the file (a length past its end, compressed
 * bytes that do not expand to what they declare): damaged or made to exhaust memory. Bad input:
 * refused before any change.
 */
export class DamagedRdb extends UsageError {
  /** Where in the file (`in the value of key "k" (database 0), at byte 24`) and what is wrong there. */
  constructor(
    readonly where: string,
    readonly what: string,
  ) {
    super(`the RDB file is damaged ${where}: ${what}.`, {
      hint: 'Nothing was touched. Use another archive (verify tells which are sound).',
    });
  }
}

/** RDB bytes, with their total size when it is known (an archive entry's): lengths are then checked against what is left. */
export interface RdbBytes extends AsyncIterable<Buffer> {
  readonly size?: number;
}

/** Which record is being read, for messages: set by the walk. */
export type RecordPlace = () => string;

/**
 * Exact reads from a stream of chunks; `pass` goes over bytes without keeping them. Every length
 * a record declares is checked against the bytes left (when the size is known) and against
 * MOST_STRING_BYTES before anything is gathered for it.
 */
export class ChunkReader {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly iterator: AsyncIterator<Buffer>;
  /** While set, every byte consumed goes here (a value's raw encoding, for a DUMP payload, or only its size). */
  private capture: Capture | undefined;
  /** Bytes consumed so far. */
  private offset = 0;
  place: RecordPlace = () => 'in the header';

  constructor(private readonly content: RdbBytes) {
    this.iterator = content[Symbol.asyncIterator]();
  }

  /** From here on the bytes consumed (after `first`) are kept while they total at most `keepUpTo`, and counted. */
  startCapture(first: Buffer, keepUpTo: number): void {
    this.capture = new Capture(keepUpTo);
    this.capture.add(first);
  }

  /** How many pieces the capture holds now (a value is kept in a few, whatever its layout). */
  get capturedChunks(): number {
    return this.capture?.keptChunks ?? 0;
  }

  /** The captured bytes (undefined when there were more than `keepUpTo`) and how many there were. */
  endCapture(): { bytes: number; value?: Buffer } {
    const capture = this.capture;
    this.capture = undefined;
    return { bytes: capture?.bytes ?? 0, value: capture?.value() };
  }

  /** The bytes read from the stream and not consumed yet. */
  get buffered(): Buffer {
    return this.buffer;
  }

  /** How many bytes of the file are left to consume, when its size is known. */
  get left(): number {
    const size = this.content.size;
    return size === undefined ? Number.POSITIVE_INFINITY : size - this.offset;
  }

  /** Consumes `count` buffered bytes that were read in place (`BufferedRecords`), outside any capture. */
  consumeBuffered(count: number): void {
    this.buffer = this.buffer.subarray(count);
    this.offset += count;
  }

  damaged(detail: string): DamagedRdb {
    return new DamagedRdb(`${this.place()}, at byte ${this.offset}`, detail);
  }

  /** Refuses a length that runs past the end of the file, when its size is known. */
  within(count: number, what: string): void {
    const size = this.content.size;
    if (size !== undefined && count > size - this.offset) {
      throw this.damaged(`${what} declares ${count} bytes, past the end of the file (${size - this.offset} left)`);
    }
  }

  async take(count: number): Promise<Buffer> {
    this.within(count, 'a record');
    if (this.buffer.length < count) {
      // Chunks are gathered and joined once: a large value (read whole for a DUMP payload) is not re-copied per chunk.
      const parts = [this.buffer];
      let have = this.buffer.length;
      while (have < count) {
        const next = await this.iterator.next();
        if (next.done) throw this.damaged('the file ends inside a record');
        parts.push(next.value);
        have += next.value.length;
      }
      this.buffer = parts.length === 2 && parts[0].length === 0 ? parts[1] : Buffer.concat(parts, have);
    }
    const taken = this.buffer.subarray(0, count);
    this.buffer = this.buffer.subarray(count);
    this.offset += count;
    this.capture?.add(taken);
    return taken;
  }

  /** One byte: at once when it is already buffered (the walk reads most of its records a byte at a time). */
  byte(): number | Promise<number> {
    if (this.buffer.length === 0) return this.take(1).then((bytes) => bytes[0]);
    const value = this.buffer[0];
    this.capture?.addByte(value);
    this.buffer = this.buffer.subarray(1);
    this.offset += 1;
    return value;
  }

  /** Goes over `count` bytes, showing each piece to `look` (kept only while capturing). */
  async pass(count: number, look?: (piece: Buffer) => void): Promise<void> {
    this.within(count, 'a record');
    while (count > 0) {
      if (this.buffer.length === 0) {
        const next = await this.iterator.next();
        if (next.done) throw this.damaged('the file ends inside a record');
        this.buffer = next.value;
      }
      const piece = this.buffer.subarray(0, Math.min(count, this.buffer.length));
      this.buffer = this.buffer.subarray(piece.length);
      this.offset += piece.length;
      this.capture?.add(piece);
      look?.(piece);
      count -= piece.length;
    }
  }

  /** Lets the rest of the stream go (the caller stops reading). */
  async close(): Promise<void> {
    await this.iterator.return?.();
  }

  /** A length, or a special string encoding (`encoded`: 0 int8, 1 int16, 2 int32, 3 LZF). */
  async length(): Promise<{ value: number; encoded?: number }> {
    const first = await this.byte();
    switch (first >> 6) {
      case 0:
        return { value: first & 0x3f };
      case 1:
        return { value: ((first & 0x3f) << 8) | (await this.byte()) };
      case 2:
        if (first === 0x80) return { value: (await this.take(4)).readUInt32BE(0) };
        if (first === 0x81) return { value: Number((await this.take(8)).readBigUInt64BE(0)) };
        throw this.damaged(`an unknown length encoding 0x${first.toString(16)}`);
      default:
        return { value: 0, encoded: first & 0x3f };
    }
  }

  async number(): Promise<number> {
    const { value, encoded } = await this.length();
    if (encoded !== undefined) throw this.damaged('a string encoding where a length was expected');
    return value;
  }

  /** A count of things each at least `leastBytes` long: refused when they cannot fit in what is left of the file. */
  async count(what: string, leastBytes = 1): Promise<number> {
    const count = await this.number();
    const size = this.content.size;
    if (size !== undefined && count * leastBytes > size - this.offset) {
      throw this.damaged(`${what} declares ${count}, more than the ${size - this.offset} bytes left in the file can hold`);
    }
    return count;
  }

  /** A string's bytes when its (uncompressed) length is at most `keepUpTo`; otherwise it is passed over, its shape checked. */
  async string(keepUpTo: number): Promise<Buffer | undefined> {
    const { value, encoded } = await this.length();
    if (encoded === undefined) {
      this.within(value, 'a string');
      this.atMostStringBytes(value, 'a string');
      if (value <= keepUpTo) return Buffer.from(await this.take(value));
      await this.pass(value);
      return undefined;
    }
    if (encoded <= 2) {
      const size = [1, 2, 4][encoded];
      const raw = await this.take(size);
      const number = size === 1 ? raw.readInt8(0) : size === 2 ? raw.readInt16LE(0) : raw.readInt32LE(0);
      return Buffer.from(String(number));
    }
    if (encoded === 3) return this.compressed(keepUpTo);
    throw this.damaged(`an unknown string encoding ${encoded}`);
  }

  /** An LZF-compressed string: both its lengths checked before its bytes are read, its expansion checked as they are. */
  private async compressed(keepUpTo: number): Promise<Buffer | undefined> {
    const compressed = await this.number();
    const uncompressed = await this.number();
    this.within(compressed, 'an LZF-compressed string');
    this.atMostStringBytes(compressed, 'an LZF-compressed string');
    if (uncompressed > lzfMostExpanded(compressed)) {
      throw this.damaged(
        `an LZF-compressed string declares ${formatBytes(uncompressed)} uncompressed from ${compressed} bytes, which LZF expands to ${formatBytes(lzfMostExpanded(compressed))} at most`,
      );
    }
    this.atMostStringBytes(uncompressed, 'an LZF-compressed string');
    try {
      if (uncompressed <= keepUpTo) return lzfDecompress(await this.take(compressed), uncompressed);
      const shape = new LzfShape(uncompressed);
      await this.pass(compressed, (piece) => shape.feed(piece));
      shape.finish();
      return undefined;
    } catch (error) {
      if (error instanceof LzfDamage) throw this.damaged(`an LZF-compressed string does not expand as declared: ${error.message}`);
      throw error;
    }
  }

  private atMostStringBytes(count: number, what: string): void {
    if (count > MOST_STRING_BYTES) {
      throw this.damaged(`${what} declares ${formatBytes(count)}, more than the ${MOST_STRING_BYTES / MIB} MiB a Redis string holds`);
    }
  }
}

/**
 * How a value of RDB type `type` is laid out, for walks that step over it: one string (a plain
 * value or a packed encoding), a count of strings (list, set, quicklist v1), a count of field and
 * value pairs (hash), a sorted set with scores as text or as binary doubles, a quicklist v2
 * (a container kind and a string per node); undefined for the rest (streams, modules).
 */
export type ValueLayout = 'string' | 'strings' | 'pairs' | 'scoresAsText' | 'binaryScores' | 'quicklist';

const LAYOUTS: ReadonlyMap<number, ValueLayout> = new Map([
  ...[0, 9, 10, 11, 12, 13, 16, 17, 20].map((type) => [type, 'string'] as const),
  ...[1, 2, 14].map((type) => [type, 'strings'] as const),
  [4, 'pairs'],
  [3, 'scoresAsText'],
  [5, 'binaryScores'],
  [18, 'quicklist'],
]);

export function valueLayout(type: number): ValueLayout | undefined {
  return LAYOUTS.get(type);
}
