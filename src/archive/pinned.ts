import { open, stat, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { basename } from 'node:path';
import { UsageError } from '../base/errors.js';
import type { ArchiveBytes } from './location.js';

const READ_SIZE = 1 << 20;

interface Identity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

/**
 * An archive opened once and read through that one descriptor from the check to the end of the
 * restore: replacing the file at its path after the check (at the gate, say) cannot change what
 * is restored. Its identity is compared again before the first change.
 */
export class PinnedArchive implements ArchiveBytes {
  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly identity: Identity,
  ) {}

  get size(): number {
    return this.identity.size;
  }

  static async open(path: string): Promise<PinnedArchive> {
    const handle = await open(path, 'r');
    const info = await handle.stat();
    return new PinnedArchive(path, handle, { dev: info.dev, ino: info.ino, size: info.size, mtimeMs: info.mtimeMs });
  }

  /**
   * A stream of the whole file from its first byte, by positional reads: independent of other
   * streams on the same descriptor, and destroying it leaves the descriptor open (an fs
   * ReadStream closes its fd when destroyed, whatever autoClose says).
   */
  stream(): Readable {
    return this.streamFrom(0);
  }

  /** The same from `start` on. */
  streamFrom(start: number): Readable {
    const handle = this.handle;
    let position = start;
    return new Readable({
      highWaterMark: READ_SIZE,
      read() {
        const buffer = Buffer.allocUnsafe(READ_SIZE);
        handle.read(buffer, 0, READ_SIZE, position).then(
          ({ bytesRead }) => {
            position += bytesRead;
            this.push(bytesRead > 0 ? buffer.subarray(0, bytesRead) : null);
          },
          (error: Error) => this.destroy(error),
        );
      },
    });
  }

  /** Refuses when the file was changed in place, or another file now has its name. */
  async assertUnchanged(): Promise<void> {
    const now = await this.handle.stat();
    const atPath = await stat(this.path).catch(() => undefined);
    const same = (info: Identity | undefined) => info !== undefined && info.dev === this.identity.dev && info.ino === this.identity.ino;
    if (!same(atPath) || now.size !== this.identity.size || now.mtimeMs !== this.identity.mtimeMs) {
      throw new UsageError(`${basename(this.path)} changed after it was checked (replaced or modified).`, {
        hint: 'Nothing was restored. Keep the archive unchanged during a restore and run it again.',
      });
    }
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}
