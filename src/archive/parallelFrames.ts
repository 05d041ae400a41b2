import { availableParallelism } from 'node:os';
import { compressFrame, type Coding, type Compression } from './compression.js';

export interface ParallelFramesOptions {
  /** Codec and level for `deflate` data (default gzip -6). */
  compression?: Compression;
  /** Bytes per gzip member or zstd frame. Larger members compress slightly better; 1 MiB loses <1%. */
  memberSize?: number;
  /** Members compressed at once. Node runs zlib on its thread pool, so this uses every core. */
  concurrency?: number;
  /** Told each member's compressed and uncompressed sizes as it is written, in order. */
  onMember?: (compressed: number, uncompressed: number) => void;
}

/**
 * Writes one compressed stream as a sequence of independent gzip members or zstd frames,
 * compressed in parallel and written in order. RFC 1952 allows concatenated members (`gunzip`,
 * `tar xzf` and Node's zlib read them as one stream), RFC 8878 concatenated frames (`zstd -d`
 * reads them; Node before 24.22 decodes only the first, see `zstdFrames`). Data marked
 * incompressible (already gzip, images) is stored instead of being deflated again, which costs
 * a CRC and a copy instead of a full deflate pass.
 */
export class ParallelFrameWriter {
  private readonly compression: Compression;
  private readonly memberSize: number;
  private readonly concurrency: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingCoding: Coding = 'deflate';
  private readonly inFlight: { member: Promise<Buffer>; uncompressed: number }[] = [];
  /** Member-sized input buffers, reused: a fresh megabyte per member would leave the allocator fragmented. */
  private readonly spare: Buffer[] = [];
  compressedBytes = 0;

  private readonly onMember: (compressed: number, uncompressed: number) => void;

  constructor(
    private readonly out: (bytes: Buffer) => Promise<void>,
    options: ParallelFramesOptions = {},
  ) {
    this.onMember = options.onMember ?? (() => undefined);
    this.compression = options.compression ?? { codec: 'gzip', level: 6 };
    this.memberSize = options.memberSize ?? 1024 * 1024;
    this.concurrency = Math.max(1, options.concurrency ?? availableParallelism() + 1);
  }

  async write(chunk: Buffer, coding: Coding = 'deflate'): Promise<void> {
    if (chunk.length === 0) return;
    if (this.pendingBytes > 0 && coding !== this.pendingCoding) await this.flushMember();
    this.pendingCoding = coding;
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(chunk.length - offset, this.memberSize - this.pendingBytes);
      this.pending.push(chunk.subarray(offset, offset + take));
      this.pendingBytes += take;
      offset += take;
      if (this.pendingBytes >= this.memberSize) await this.flushMember();
    }
  }

  /** Compresses what is left and waits until every member is written to the output. */
  async finish(): Promise<void> {
    await this.flushMember();
    while (this.inFlight.length > 0) await this.writeOldest();
  }

  private async flushMember(): Promise<void> {
    if (this.pendingBytes === 0) return;
    // Copy: callers may reuse their buffers once write() resolves.
    const buffer = this.spare.pop() ?? Buffer.allocUnsafe(this.memberSize);
    let offset = 0;
    for (const chunk of this.pending) offset += chunk.copy(buffer, offset);
    const coding = this.pendingCoding;
    this.pending = [];
    this.pendingBytes = 0;
    // One output chunk per member: each chunk is a round trip to zlib's thread.
    const member = compressFrame(this.compression, coding, buffer.subarray(0, offset), this.memberSize + 64 * 1024);
    member.then(
      () => this.spare.push(buffer),
      () => undefined, // observed when its turn comes in writeOldest
    );
    this.inFlight.push({ member, uncompressed: offset });
    if (this.inFlight.length >= this.concurrency) await this.writeOldest();
  }

  private async writeOldest(): Promise<void> {
    const { member, uncompressed } = this.inFlight.shift()!;
    const bytes = await member;
    this.compressedBytes += bytes.length;
    this.onMember(bytes.length, uncompressed);
    await this.out(bytes);
  }
}
