import { createCipheriv, createDecipheriv, randomBytes, type Cipher } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { removeTemporary, trackTemporary } from '../base/temporaryFiles.js';
import { fileChunks, writeAll } from './writeAll.js';

/**
 * A working file of a backup (command output waiting for its size, index lines, the head, the
 * body of an encrypted archive, a Redis AOF copy) kept under a throwaway AES-256-CTR key that
 * lives only in this process: what sits on the disk while a backup runs is never readable, so
 * an encrypted archive's plaintext never touches the disk and a killed run leaves nothing to
 * read. About 1.4 GB/s each way here, a fraction of gzip's cost. Not authenticated: every byte
 * read back into an archive is checked against its SHA-256 by the backup's read-back.
 */
export class PrivateSpool {
  private bytes = 0;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly key: Buffer,
    private readonly iv: Buffer,
    private readonly cipher: Cipher,
  ) {}

  /** Creates the file (0600, never replacing one); it is removed on exit if the run ends first. */
  static async create(path: string): Promise<PrivateSpool> {
    trackTemporary(path);
    const handle = await open(path, 'wx', 0o600);
    const key = randomBytes(32);
    const iv = randomBytes(16);
    return new PrivateSpool(path, handle, key, iv, createCipheriv('aes-256-ctr', key, iv));
  }

  /** The bytes written so far. */
  get size(): number {
    return this.bytes;
  }

  async write(bytes: Buffer): Promise<void> {
    this.bytes += bytes.length;
    await writeAll(this.handle, this.cipher.update(bytes));
  }

  /** Ends writing; the spool can then be read any number of times. */
  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }

  /** The plaintext from the first byte, a megabyte at a time (each chunk a fresh buffer). */
  async *chunks(): AsyncGenerator<Buffer> {
    const decipher = createDecipheriv('aes-256-ctr', this.key, this.iv);
    for await (const chunk of fileChunks(this.path)) yield decipher.update(chunk);
  }

  stream(): Readable {
    return Readable.from(this.chunks(), { objectMode: false });
  }

  async remove(): Promise<void> {
    await this.close();
    await removeTemporary(this.path);
  }
}
