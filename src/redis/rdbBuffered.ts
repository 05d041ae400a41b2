import { LzfDamage, lzfMostExpanded, LzfShape } from './lzf.js';
import { MOST_STRING_BYTES, valueLayout } from './rdbReader.js';

/**
 * The common case of the RDB walk, read synchronously from bytes already buffered: lengths,
 * strings (plain, integer or LZF, the LZF shape checked as the walk checks it) and the values
 * made of strings. It never decides a record is damaged: whatever it does not read to the end
 * with every check passed (a record cut by the end of the buffer, an encoding it leaves to the
 * walk, anything a check would refuse) makes it give up, and the walk reads that record again
 * its own way, so every refusal and its message stay the walk's.
 */
export class BufferedRecords {
  private bytes: Buffer = Buffer.alloc(0);
  /** Where the next read starts. */
  at = 0;
  /** Where the bytes this reader may read end (the buffer's end, or the file's when it is sooner). */
  private end = 0;
  /** The last length's special string encoding (0 int8, 1 int16, 2 int32, 3 LZF), or -1 for a plain length. */
  private encoded = -1;
  /** The last string read: where its plain bytes are, or -1 when it was not stored plain. */
  stringStart = -1;
  stringEnd = -1;
  /** The last string read when it was an integer encoding: its value. */
  integer = 0;

  /** Reads `bytes` from `at` up to `end`. */
  reset(bytes: Buffer, end: number): void {
    this.bytes = bytes;
    this.at = 0;
    this.end = end;
  }

  get buffer(): Buffer {
    return this.bytes;
  }

  byte(): number {
    return this.at < this.end ? this.bytes[this.at++] : -1;
  }

  /** Steps over `count` bytes: false when they are not all here. */
  pass(count: number): boolean {
    if (count > this.end - this.at) return false;
    this.at += count;
    return true;
  }

  /** A length, or -1 when it is not all here or uses an encoding left to the walk (64 bits, unknown). */
  length(): number {
    this.encoded = -1;
    const at = this.at;
    if (at >= this.end) return -1;
    const first = this.bytes[at];
    switch (first >> 6) {
      case 0:
        this.at = at + 1;
        return first & 0x3f;
      case 1:
        if (at + 2 > this.end) return -1;
        this.at = at + 2;
        return ((first & 0x3f) << 8) | this.bytes[at + 1];
      case 2:
        if (first !== 0x80 || at + 5 > this.end) return -1;
        this.at = at + 5;
        return this.bytes.readUInt32BE(at + 1);
      default:
        this.encoded = first & 0x3f;
        this.at = at + 1;
        return 0;
    }
  }

  /** A plain length, or -1. */
  number(): number {
    const value = this.length();
    return this.encoded >= 0 ? -1 : value;
  }

  /** A count of things each at least `leastBytes` long, or -1 when they cannot all be here. */
  count(leastBytes: number): number {
    const count = this.number();
    return count < 0 || count * leastBytes > this.end - this.at ? -1 : count;
  }

  /** Steps over a string: false when it is not all here, or does not hold its shape (the walk then says why). */
  string(): boolean {
    const length = this.length();
    if (length < 0) return false;
    const encoded = this.encoded;
    if (encoded < 0) {
      if (length > this.end - this.at || length > MOST_STRING_BYTES) return false;
      this.stringStart = this.at;
      this.at += length;
      this.stringEnd = this.at;
      return true;
    }
    this.stringStart = -1;
    if (encoded <= 2) {
      const at = this.at;
      if (!this.pass(1 << encoded)) return false;
      this.integer = encoded === 0 ? this.bytes.readInt8(at) : encoded === 1 ? this.bytes.readInt16LE(at) : this.bytes.readInt32LE(at);
      return true;
    }
    return encoded === 3 && this.compressed();
  }

  /** Whether the last string was an integer encoding (its value in `integer`). */
  get wasInteger(): boolean {
    return this.stringStart < 0 && this.encoded >= 0 && this.encoded <= 2;
  }

  private compressed(): boolean {
    const compressed = this.number();
    if (compressed < 0) return false;
    const uncompressed = this.number();
    if (uncompressed < 0 || compressed > this.end - this.at) return false;
    if (uncompressed > lzfMostExpanded(compressed) || uncompressed > MOST_STRING_BYTES) return false;
    const shape = new LzfShape(uncompressed);
    try {
      shape.feed(this.bytes.subarray(this.at, this.at + compressed));
      shape.finish();
    } catch (error) {
      if (error instanceof LzfDamage) return false;
      throw error;
    }
    this.at += compressed;
    return true;
  }

  /** Steps over the value of a key of type `type` (the walk's `skipValue`): false when it cannot here, streams included. */
  value(type: number): boolean {
    switch (valueLayout(type)) {
      case 'string':
        return this.string();
      case 'strings':
        return this.strings(this.count(1));
      case 'pairs': {
        const pairs = this.count(2);
        return pairs >= 0 && this.strings(2 * pairs);
      }
      case 'scoresAsText':
        for (let count = this.count(2); count !== 0; count -= 1) {
          if (count < 0 || !this.string()) return false;
          const size = this.byte(); // a double as text: 253-255 are nan, +inf, -inf
          if (size < 0 || (size < 253 && !this.pass(size))) return false;
        }
        return true;
      case 'binaryScores':
        for (let count = this.count(9); count !== 0; count -= 1) {
          if (count < 0 || !this.string() || !this.pass(8)) return false;
        }
        return true;
      case 'quicklist':
        for (let count = this.count(2); count !== 0; count -= 1) {
          if (count < 0 || this.number() < 0 || !this.string()) return false;
        }
        return true;
      default:
        return false;
    }
  }

  private strings(count: number): boolean {
    if (count < 0) return false;
    for (let index = 0; index < count; index += 1) if (!this.string()) return false;
    return true;
  }
}
