import { Readable } from 'node:stream';
import { UsageError } from '../base/errors.js';
import type { ArchiveBytes } from '../archive/location.js';
import type { OffsiteStore } from './offsite.js';
import { offsiteUrlText, type OffsiteUrl } from './offsiteUrl.js';

/** A connection cut mid-object is picked up where it stopped, this many times in a row. */
const RESUMES = 3;

/**
 * An archive in an S3 bucket, pinned by the ETag it had when opened: every read asks for that
 * ETag (If-Match), so an object replaced after the check is refused, never half-read. Each
 * stream is one GET from the first byte (read-only, nothing on disk), resumed with a range
 * from where it stopped if the connection is cut.
 */
export class RemoteArchive implements ArchiveBytes {
  private constructor(
    private readonly store: OffsiteStore,
    readonly url: OffsiteUrl,
    readonly size: number,
    readonly etag: string,
    private readonly onClose: () => void,
  ) {}

  /** `onClose`: what closing the archive also ends (the store's client, when the archive owns it). */
  static async open(store: OffsiteStore, url: OffsiteUrl, onClose: () => void = () => undefined): Promise<RemoteArchive> {
    const found = await store.stat(url);
    if (!found) {
      throw new UsageError(`${offsiteUrlText(url)}: no such object.`, {
        hint: 'Run "orkestra-backup list s3://<bucket>/<prefix>/" to see the archives there.',
      });
    }
    return new RemoteArchive(store, url, found.size, found.etag, onClose);
  }

  /** An archive found in a listing, pinned by the ETag the listing gave (no request made). */
  static async listed(store: OffsiteStore, url: OffsiteUrl, size: number, etag: string): Promise<RemoteArchive> {
    return new RemoteArchive(store, url, size, etag, () => undefined);
  }

  get path(): string {
    return offsiteUrlText(this.url);
  }

  stream(): Readable {
    return Readable.from(this.chunks(), { objectMode: false, highWaterMark: 1 << 20 });
  }

  async assertUnchanged(): Promise<void> {
    const now = await this.store.stat(this.url);
    if (!now || now.etag !== this.etag || now.size !== this.size) throw this.changed();
  }

  async close(): Promise<void> {
    this.onClose();
  }

  private async *chunks(): AsyncGenerator<Buffer> {
    let position = 0;
    let resumes = 0;
    while (position < this.size) {
      const controller = new AbortController();
      let body: Readable;
      try {
        body = await this.store.readFrom(this.url, this.etag, position, controller.signal);
      } catch (error) {
        if ((error as Error).message.includes('PreconditionFailed')) throw this.changed();
        throw error;
      }
      try {
        for await (const chunk of body as AsyncIterable<Buffer>) {
          position += chunk.length;
          resumes = 0;
          yield chunk;
        }
        if (position < this.size) throw new Error(`the connection ended after ${position} of ${this.size} bytes`);
      } catch (error) {
        resumes += 1;
        if (resumes > RESUMES) throw error;
      } finally {
        controller.abort();
        body.destroy();
      }
    }
  }

  private changed(): UsageError {
    return new UsageError(`${this.path} changed after it was opened (replaced or modified).`, {
      hint: 'Nothing was restored. Keep the archive unchanged during a restore and run it again.',
    });
  }
}
