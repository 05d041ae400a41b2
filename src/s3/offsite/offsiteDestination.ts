import { Readable } from 'node:stream';
import { posix } from 'node:path';
import type { CompletedPart } from '@aws-sdk/client-s3';
import { RuntimeError } from '../../base/errors.js';
import { BoundedTasks } from '../../base/concurrency.js';
import { withoutFinalPeriod } from '../../base/format.js';
import { recordNameOf, recordText, type ArchiveRecord } from '../../archive/archiveRecord.js';
import type { ArchiveCheck, ArchiveDestination, ArchiveHead } from '../../archive/destination.js';
import { WorkFolder } from '../../archive/workFolder.js';
import type { OffsiteStore } from './offsite.js';
import { offsiteUrlText, type OffsiteUrl } from './offsiteUrl.js';
import { RemoteArchive } from './remoteArchive.js';

export interface UploadOptions {
  /** The size of the first parts (S3: 5 MiB to 5 GiB); it doubles every 2,000 parts to stay within 10,000. */
  readonly partBytes: number;
  /** Parts uploading at once: each holds one part buffer. */
  readonly concurrency: number;
  readonly signal?: AbortSignal;
  /** A cleanup that could not be done (an upload the store would not abort): said, not thrown. */
  readonly onWarning: (message: string) => void;
}

const MAX_PARTS = 10_000;
const PARTS_PER_SIZE = 2_000;

/**
 * An archive streamed into an S3 object as a multipart upload while it is made: no local copy.
 * S3 lets parts arrive in any order and only the last one be under 5 MiB, so part 1 — which
 * must start with the manifest, known only at the end — is uploaded last: the first body part
 * is held back in memory, and part 1 is the head followed by it (at least 5 MiB, or the only
 * part). Parts 2… go up as the body is made. The object is read back whole before the run
 * succeeds; a failed or interrupted run aborts the upload, or removes the object if it was
 * already completed, so nothing is left under the key. A record given with it is put as the
 * object `<key>.record.json` after the check, with the object's ETag (an object's metadata is
 * fixed when its upload starts, before its size and SHA-256 are known).
 */
export class OffsiteDestination implements ArchiveDestination {
  private readonly uploads: BoundedTasks;
  private readonly parts: CompletedPart[] = [];
  private readonly spare: Buffer[] = [];
  private buffer: Buffer | undefined;
  private filled = 0;
  private held: Buffer | undefined;
  private nextPart = 2;
  private bodyBytes = 0;
  private state: 'uploading' | 'completed' | 'published' | 'discarded' = 'uploading';

  private constructor(
    private readonly store: OffsiteStore,
    private readonly url: OffsiteUrl,
    private readonly uploadId: string,
    private readonly work: WorkFolder,
    private readonly options: UploadOptions,
  ) {
    this.uploads = new BoundedTasks(options.concurrency, Number.POSITIVE_INFINITY);
  }

  static async open(store: OffsiteStore, url: OffsiteUrl, options: UploadOptions): Promise<OffsiteDestination> {
    const work = await WorkFolder.create();
    try {
      const uploadId = await store.startUpload(url, options.signal);
      return new OffsiteDestination(store, url, uploadId, work, options);
    } catch (error) {
      await work.remove();
      throw error;
    }
  }

  workPath(role: string): string {
    return this.work.file(role);
  }

  async writeBody(bytes: Buffer): Promise<void> {
    this.bodyBytes += bytes.length;
    let offset = 0;
    while (offset < bytes.length) {
      this.buffer ??= this.takeBuffer();
      const copied = bytes.copy(this.buffer, this.filled, offset);
      this.filled += copied;
      offset += copied;
      if (this.filled === this.buffer.length) await this.handOff(this.buffer);
    }
  }

  async publish(head: ArchiveHead, check?: ArchiveCheck, record?: ArchiveRecord): Promise<{ path: string; bytes: number }> {
    if (this.buffer && this.filled > 0) await this.handOff(this.buffer.subarray(0, this.filled));
    await this.uploads.drain();
    const held = this.held ?? Buffer.alloc(0);
    const first = await this.store.uploadPart(
      this.url,
      this.uploadId,
      1,
      () => Readable.from(headThen(head, held), { objectMode: false }),
      head.size + held.length,
      this.options.signal,
    );
    const parts = [first, ...this.parts].sort((a, b) => a.PartNumber! - b.PartNumber!);
    const etag = await this.store.completeUpload(this.url, this.uploadId, parts, this.options.signal);
    this.state = 'completed';
    if (check) await check(await RemoteArchive.open(this.store, this.url));
    if (record) await this.putRecord({ ...record, etag });
    this.state = 'published';
    await this.work.remove();
    return { path: offsiteUrlText(this.url), bytes: head.size + this.bodyBytes };
  }

  async discard(): Promise<void> {
    const state = this.state;
    if (state === 'published' || state === 'discarded') return;
    this.state = 'discarded';
    await this.uploads.drain().catch(() => undefined);
    try {
      if (state === 'uploading') await this.store.abortUpload(this.url, this.uploadId);
      else await this.store.remove(this.url);
    } catch (error) {
      const what = state === 'uploading' ? `abort the multipart upload ${this.uploadId}` : 'remove the object';
      this.options.onWarning(
        `could not ${what} of ${offsiteUrlText(this.url)}: ${withoutFinalPeriod((error as Error).message)}; remove it by hand (or let a lifecycle rule expire incomplete uploads)`,
      );
    }
    await this.work.remove();
  }

  private async putRecord(record: ArchiveRecord): Promise<void> {
    const recordUrl: OffsiteUrl = { bucket: this.url.bucket, key: recordNameOf(this.url.key), folder: false };
    await this.store.put(recordUrl, Buffer.from(recordText(posix.basename(this.url.key), record)), 'application/json', this.options.signal);
  }

  private async handOff(part: Buffer): Promise<void> {
    this.buffer = undefined;
    this.filled = 0;
    if (!this.held) {
      this.held = part;
      return;
    }
    const partNumber = this.nextPart++;
    if (partNumber > MAX_PARTS) throw new RuntimeError(`the archive needs more than ${MAX_PARTS} upload parts; raise ORKESTRA_S3_PART_MB.`);
    await this.uploads.add(0, async () => {
      try {
        this.parts.push(await this.store.uploadPart(this.url, this.uploadId, partNumber, () => part, part.length, this.options.signal));
      } finally {
        if (part.length === this.partSize(this.nextPart)) this.spare.push(part);
      }
    });
  }

  private takeBuffer(): Buffer {
    const size = this.partSize(this.held ? this.nextPart : 1);
    const reused = this.spare.pop();
    if (reused?.length === size) return reused;
    this.spare.length = 0;
    return Buffer.allocUnsafeSlow(size);
  }

  private partSize(partNumber: number): number {
    return this.options.partBytes * 2 ** Math.floor((partNumber - 1) / PARTS_PER_SIZE);
  }
}

async function* headThen(head: ArchiveHead, held: Buffer): AsyncGenerator<Buffer> {
  yield* head.open() as AsyncIterable<Buffer>;
  if (held.length > 0) yield held;
}
