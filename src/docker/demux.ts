import { Writable } from 'node:stream';

const HEADER_BYTES = 8;
const STDOUT = 1;
const STDERR = 2;

/**
 * Splits the Docker Engine's multiplexed exec stream (an 8-byte header — stream id, three
 * zero bytes, big-endian length — before each frame) into stdout and stderr. Unlike
 * docker-modem's demuxStream it honours backpressure on stdout, so a slow archive writer
 * slows the container down instead of filling memory.
 */
export class DockerStreamDemuxer extends Writable {
  private header = Buffer.alloc(0);
  private frameType = 0;
  private frameRemaining = 0;

  constructor(
    private readonly stdout: Writable,
    private readonly onStderr: (chunk: Buffer) => void,
  ) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.consume(chunk).then(() => callback(), callback);
  }

  private async consume(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.frameRemaining === 0) {
        const need = HEADER_BYTES - this.header.length;
        this.header = Buffer.concat([this.header, chunk.subarray(offset, offset + need)]);
        offset += Math.min(need, chunk.length - offset);
        if (this.header.length < HEADER_BYTES) return;
        this.frameType = this.header[0];
        this.frameRemaining = this.header.readUInt32BE(4);
        this.header = Buffer.alloc(0);
        continue;
      }
      const take = Math.min(this.frameRemaining, chunk.length - offset);
      const payload = chunk.subarray(offset, offset + take);
      offset += take;
      this.frameRemaining -= take;
      if (this.frameType === STDOUT) await this.forward(payload);
      else if (this.frameType === STDERR) this.onStderr(payload);
    }
  }

  private forward(payload: Buffer): Promise<void> {
    if (this.stdout.write(payload)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        this.stdout.off('drain', onDrain);
        this.stdout.off('close', onClose);
      };
      const onDrain = () => {
        cleanup();
        resolve();
      };
      const onClose = () => {
        cleanup();
        reject(new Error('the reader of the command output went away'));
      };
      this.stdout.on('drain', onDrain);
      this.stdout.on('close', onClose);
    });
  }
}

/** Keeps the last `limit` bytes of a stream of chunks: enough of stderr for an error message. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private length = 0;

  constructor(private readonly limit = 64 * 1024) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
    while (this.length - this.chunks[0].length >= this.limit) {
      this.length -= this.chunks.shift()!.length;
    }
  }

  toString(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }
}

/** A non-TTY log is framed like an attach stream: 8-byte headers (stream, length) before each payload. */
export function demultiplexed(raw: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + HEADER_BYTES <= raw.length && raw[offset] <= STDERR && raw.readUInt16BE(offset + 1) === 0) {
    const length = raw.readUInt32BE(offset + 4);
    parts.push(raw.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length));
    offset += HEADER_BYTES + length;
  }
  return offset === 0 ? raw.toString('utf8') : Buffer.concat(parts).toString('utf8');
}
