/**
 * The zstd frame format (RFC 8878), walked without decoding: where each frame of a stream begins
 * and ends. Node 22.23 and 24.21 decode only the first frame of a multi-frame stream and drop the
 * rest without an error, so each frame goes to a decompressor of its own.
 */

/** Bytes of one zstd frame as they arrive: a frame spans any number of segments. */
export interface FrameSegment {
  readonly bytes: Buffer;
  /** The segment opens a new frame. */
  readonly first: boolean;
  /** The frame ends with this segment. */
  readonly last: boolean;
}

/** The stream does not follow the zstd frame format. */
export class ZstdFormatError extends Error {}

const ZSTD_MAGIC = 0xfd2fb528;
const SKIPPABLE_MAGIC = 0x184d2a50;
const MAX_BLOCK_BYTES = 128 * 1024;
/**
 * The largest window a frame may ask the decoder to keep. A frame's header is untrusted: a
 * declared window or single-segment content size is what the decoder allocates. Our frames are
 * 1 MiB; `zstd -19` uses 8 MiB.
 */
export const MAX_WINDOW_LOG = 23;
const MAX_WINDOW_BYTES = 2 ** MAX_WINDOW_LOG;

type State = 'magic' | 'descriptor' | 'header' | 'blockHeader' | 'blockBody' | 'checksum' | 'skipSize' | 'skipBody';

/**
 * Splits a zstd stream into its frames as chunks come, whatever the chunk boundaries: every byte
 * of a zstd frame is handed on (in segments that are views of the chunks, not copies, except
 * for a magic number cut by a boundary); skippable frames are dropped. Anything else where a
 * frame must begin, a reserved field, a dictionary, a window over 8 MiB, or a stream that ends
 * inside a frame is a `ZstdFormatError`.
 */
export class ZstdFrameSplitter {
  private state: State = 'magic';
  /** The header field being read (at most 14 bytes), when it is cut by a chunk boundary. */
  private readonly field = Buffer.alloc(14);
  private fieldBytes = 0;
  /** Bytes of a block body, checksum or skippable frame still to pass. */
  private remaining = 0;
  private descriptor = 0;
  private blockLimit = MAX_BLOCK_BYTES;
  private lastBlock = false;
  /** Where in the whole stream the current chunk begins (for error messages). */
  private position = 0;
  /** Zstd frames seen whole. */
  frames = 0;

  split(chunk: Buffer): FrameSegment[] {
    const segments: FrameSegment[] = [];
    let offset = 0;
    /** Where the current frame's bytes in this chunk begin; undefined outside a frame. */
    let runStart: number | undefined = this.inFrame() ? 0 : undefined;
    let opensFrame = false;
    while (offset < chunk.length) {
      if (this.state === 'blockBody' || this.state === 'checksum' || this.state === 'skipBody') {
        const take = Math.min(this.remaining, chunk.length - offset);
        offset += take;
        this.remaining -= take;
        if (this.remaining === 0) this.afterBody();
      } else {
        const need = this.fieldLength();
        const take = Math.min(need - this.fieldBytes, chunk.length - offset);
        const wholeInChunk = take === need;
        chunk.copy(this.field, this.fieldBytes, offset, offset + take);
        this.fieldBytes += take;
        offset += take;
        if (this.fieldBytes < need) break;
        this.fieldBytes = 0;
        if (this.state === 'magic') {
          const isFrame = this.readMagic(offset);
          if (isFrame && wholeInChunk) {
            runStart = offset - 4;
          } else if (isFrame) {
            segments.push({ bytes: Buffer.from(this.field.subarray(0, 4)), first: true, last: false });
            runStart = offset;
          }
          opensFrame = isFrame && wholeInChunk;
          continue;
        }
        this.readField(offset);
      }
      if ((this.state as State) === 'magic' && runStart !== undefined) {
        segments.push({ bytes: chunk.subarray(runStart, offset), first: opensFrame, last: true });
        this.frames += 1;
        runStart = undefined;
        opensFrame = false;
      }
    }
    if (runStart !== undefined && this.inFrame()) {
      segments.push({ bytes: chunk.subarray(runStart, offset), first: opensFrame, last: false });
    }
    this.position += chunk.length;
    return segments;
  }

  /** Checks the stream ended between frames. */
  finish(): void {
    if (this.state === 'magic' && this.fieldBytes === 0) return;
    const where = this.state === 'skipSize' || this.state === 'skipBody' ? 'a skippable frame' : 'a zstd frame';
    throw new ZstdFormatError(`the zstd stream ends inside ${where}, after ${this.position} bytes`);
  }

  private inFrame(): boolean {
    return this.state !== 'magic' && this.state !== 'skipSize' && this.state !== 'skipBody';
  }

  private fieldLength(): number {
    switch (this.state) {
      case 'magic':
      case 'skipSize':
        return 4;
      case 'descriptor':
        return 1;
      case 'blockHeader':
        return 3;
      default:
        return headerRestLength(this.descriptor);
    }
  }

  /** Whether the magic number opens a zstd frame (a skippable one is dropped; anything else fails). */
  private readMagic(offset: number): boolean {
    const magic = this.field.readUInt32LE(0);
    if (magic === ZSTD_MAGIC) {
      this.state = 'descriptor';
      return true;
    }
    if ((magic & 0xfffffff0) >>> 0 === SKIPPABLE_MAGIC) {
      this.state = 'skipSize';
      return false;
    }
    throw new ZstdFormatError(`no zstd frame begins at byte ${this.position + offset - 4}`);
  }

  private readField(offset: number): void {
    const field = this.field;
    switch (this.state) {
      case 'skipSize':
        this.remaining = field.readUInt32LE(0);
        this.state = this.remaining > 0 ? 'skipBody' : 'magic';
        return;
      case 'descriptor':
        this.descriptor = field[0];
        if (this.descriptor & 0x08)
          throw new ZstdFormatError(`a zstd frame header sets its reserved bit (byte ${this.position + offset - 1})`);
        this.state = 'header';
        return;
      case 'header':
        this.readHeader();
        return;
      case 'blockHeader': {
        const header = field[0] | (field[1] << 8) | (field[2] << 16);
        const type = (header >> 1) & 3;
        const size = header >>> 3;
        this.lastBlock = (header & 1) === 1;
        if (type === 3) throw new ZstdFormatError(`a zstd block has the reserved type (byte ${this.position + offset - 3})`);
        if (size > this.blockLimit) throw new ZstdFormatError(`a zstd block is larger than its frame allows (${size} bytes)`);
        this.remaining = type === 1 ? 1 : size;
        if (this.remaining > 0) this.state = 'blockBody';
        else this.afterBody();
        return;
      }
      default:
        throw new ZstdFormatError(`the zstd frame splitter is in no known state (${this.state})`);
    }
  }

  /** The window descriptor, dictionary id and content size: only the window is needed (the content size is not trusted). */
  private readHeader(): void {
    const singleSegment = (this.descriptor & 0x20) !== 0;
    const dictionaryBytes = [0, 1, 2, 4][this.descriptor & 3];
    let window: number;
    if (singleSegment) {
      window = contentSize(this.field.subarray(dictionaryBytes), this.descriptor);
    } else {
      const descriptor = this.field[0];
      const base = 2 ** (10 + (descriptor >> 3));
      window = base + (base / 8) * (descriptor & 7);
    }
    const dictionary = dictionaryBytes === 0 ? 0 : this.field.readUIntLE(singleSegment ? 0 : 1, dictionaryBytes);
    if (dictionary !== 0) throw new ZstdFormatError('a zstd frame needs a dictionary, which archives never use');
    if (window > MAX_WINDOW_BYTES) throw new ZstdFormatError(`a zstd frame asks for a ${window}-byte window, over the 8 MiB allowed`);
    this.blockLimit = Math.min(window, MAX_BLOCK_BYTES);
    this.state = 'blockHeader';
  }

  private afterBody(): void {
    if (this.state === 'skipBody' || this.state === 'checksum') {
      this.state = 'magic';
    } else if (!this.lastBlock) {
      this.state = 'blockHeader';
    } else if (this.descriptor & 0x04) {
      this.state = 'checksum';
      this.remaining = 4;
    } else {
      this.state = 'magic';
    }
  }
}

/** Header bytes after the descriptor: window descriptor, dictionary id, content size. */
function headerRestLength(descriptor: number): number {
  const singleSegment = (descriptor & 0x20) !== 0;
  const contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6];
  return (singleSegment ? 0 : 1) + [0, 1, 2, 4][descriptor & 3] + contentSizeBytes;
}

/** The declared content size (only where it is the window: single-segment frames). */
function contentSize(bytes: Buffer, descriptor: number): number {
  switch (descriptor >> 6) {
    case 0:
      return bytes[0];
    case 1:
      return bytes.readUInt16LE(0) + 256;
    case 2:
      return bytes.readUInt32LE(0);
    default:
      return Number(bytes.readBigUInt64LE(0));
  }
}
