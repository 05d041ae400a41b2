import { createReadStream } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { Readable, type Writable } from 'node:stream';
import { once } from 'node:events';
import { RuntimeError } from '../base/errors.js';
import type { ArchiveCheck, ArchiveDestination, ArchiveHead } from './destination.js';
import type { ArchiveBytes } from './location.js';
import { WorkFolder } from './workFolder.js';
import { writeAll } from './writeAll.js';

/**
 * Standard output (`-o -`). The manifest must come first but is known only at the end, so the
 * body waits in a private file of the work folder (as large as the archive: docs/offsite.md says
 * so, and s3:// avoids it); then head and body are checked together and written out.
 */
export class StreamDestination implements ArchiveDestination {
  private constructor(
    private readonly output: Writable,
    private readonly work: WorkFolder,
    private readonly bodyPath: string,
    private readonly body: FileHandle,
  ) {}

  static async open(output: Writable): Promise<StreamDestination> {
    const work = await WorkFolder.create();
    const bodyPath = work.file('body');
    return new StreamDestination(output, work, bodyPath, await open(bodyPath, 'wx', 0o600));
  }

  workPath(role: string): string {
    return this.work.file(role);
  }

  writeBody(bytes: Buffer): Promise<void> {
    return writeAll(this.body, bytes);
  }

  async publish(head: ArchiveHead, check?: ArchiveCheck): Promise<{ path: string; bytes: number }> {
    await this.body.close();
    const bodySize = (await stat(this.bodyPath)).size;
    if (check) await check(this.joined(head, bodySize));
    try {
      for await (const chunk of this.joined(head, bodySize).stream() as AsyncIterable<Buffer>) {
        if (!this.output.write(chunk)) await once(this.output, 'drain');
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
      throw new RuntimeError('standard output was closed before the whole archive was written (EPIPE).', {
        hint: 'What the other end received is not a complete archive; keep the reading command running to the end.',
      });
    }
    await this.work.remove();
    return { path: '-', bytes: head.size + bodySize };
  }

  async discard(): Promise<void> {
    await this.body.close().catch(() => undefined);
    await this.work.remove();
  }

  /** Head then body, as the bytes that will be written out. */
  private joined(head: ArchiveHead, bodySize: number): ArchiveBytes {
    const bodyPath = this.bodyPath;
    async function* chunks(): AsyncGenerator<Buffer> {
      yield* head.open() as AsyncIterable<Buffer>;
      yield* createReadStream(bodyPath, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>;
    }
    return {
      path: '-',
      size: head.size + bodySize,
      stream: () => Readable.from(chunks(), { objectMode: false }),
      assertUnchanged: async () => undefined,
      close: async () => undefined,
    };
  }
}
