import { Readable } from 'node:stream';
import { RuntimeError, UsageError } from '../../base/errors.js';
import { firstLine, withoutFinalPeriod } from '../../base/format.js';
import type { ArchiveBytes } from '../../archive/location.js';
import type { OffsiteStore } from './offsite.js';
import { StalledBodyError, withinIdleLimit } from '../client/idleLimit.js';
import { offsiteUrlText, type OffsiteUrl } from './offsiteUrl.js';

/** A store's answer that no resume can mend: ends the read at once with its refusal. */
class WrongRangeError extends Error {
  constructor(readonly refusal: RuntimeError) {
    super(refusal.message);
  }
}

/** A connection cut or stalled mid-object is picked up where it stopped, this many times in a row. */
const RESUMES = 3;

/**
 * An archive in an S3 bucket, pinned by the ETag it had when opened: every read asks for that
 * ETag (If-Match), so an object replaced after the check is refused, never half-read. Each
 * stream is one GET from the first byte (read-only, nothing on disk), resumed with a range
 * from where it stopped if the connection is cut or the body stops arriving for the store's
 * timeout (ORKESTRA_S3_TIMEOUT_SECONDS).
 */
export class RemoteArchive implements ArchiveBytes {
  /** Streams not yet ended: a reader that stops early (a restore of the first components only) leaves one open. */
  private readonly openStreams = new Set<Readable>();

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

  /**
   * The object's bytes. Destroying the stream ends the read in flight at once, even one waiting
   * on a stalled body, and no request is made after it.
   */
  stream(): Readable {
    return this.streamFrom(0);
  }

  /** The same from `start` on: a ranged GET. */
  streamFrom(start: number): Readable {
    const abandoned = new AbortController();
    const chunks = this.chunks(abandoned.signal, start);
    const stream: Readable = new Readable({
      highWaterMark: 1 << 20,
      read: () => {
        chunks.next().then(
          (next) => stream.push(next.done ? null : next.value),
          (error: unknown) => stream.destroy(error as Error),
        );
      },
      destroy: (error, callback) => {
        abandoned.abort();
        chunks.return(undefined).then(
          () => callback(error),
          () => callback(error),
        );
      },
    });
    this.openStreams.add(stream);
    stream.once('close', () => this.openStreams.delete(stream));
    return stream;
  }

  async assertUnchanged(): Promise<void> {
    const now = await this.store.stat(this.url);
    if (!now || now.etag !== this.etag || now.size !== this.size) throw this.changed();
  }

  /** Ends every read still open, so that nothing of this archive outlives it, then `onClose`. */
  async close(): Promise<void> {
    for (const stream of this.openStreams) stream.destroy();
    this.onClose();
  }

  private async *chunks(abandoned: AbortSignal, start: number): AsyncGenerator<Buffer> {
    let position = start;
    let resumes = 0;
    while (position < this.size && !abandoned.aborted) {
      const controller = new AbortController();
      const stop = () => controller.abort();
      abandoned.addEventListener('abort', stop, { once: true });
      let body: Readable | undefined;
      try {
        const answer = await this.store.readFrom(this.url, this.etag, position, controller.signal);
        body = answer.body;
        if (position > 0) this.assertRangeFrom(position, answer.contentRange);
        for await (const chunk of withinIdleLimit(body, this.store.timeoutMs, controller.signal)) {
          if (position + chunk.length > this.size) throw this.beyondSize(position + chunk.length);
          position += chunk.length;
          resumes = 0;
          yield chunk;
        }
        if (position < this.size) throw new Error('the connection ended');
      } catch (error) {
        if (abandoned.aborted) return;
        if (error instanceof WrongRangeError) throw error.refusal;
        if (body === undefined) {
          if ((error as Error).message.includes('PreconditionFailed')) throw this.changed();
          throw error;
        }
        resumes += 1;
        if (resumes > RESUMES) throw this.stopped(error, position);
      } finally {
        abandoned.removeEventListener('abort', stop);
        controller.abort();
        body?.destroy();
      }
    }
  }

  /**
   * A resumed read must start where the last one stopped: a store or proxy that ignores Range
   * answers 200 with the whole object, and trusting it would repeat the bytes already read.
   */
  private assertRangeFrom(position: number, contentRange: string | undefined): void {
    const start = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(contentRange ?? '')?.[1];
    if (start !== undefined && Number(start) === position) return;
    const answered = contentRange === undefined ? 'the whole object (no Content-Range)' : `"${contentRange}"`;
    throw new WrongRangeError(
      new RuntimeError(
        `reading ${this.path}: the store ignored the range request to resume from byte ${position.toLocaleString('en-US')} ` +
          `and answered ${answered}; nothing past that byte was used.`,
        { hint: 'Read the archive through a store or proxy that honours Range requests, or copy it to a local file first.' },
      ),
    );
  }

  private beyondSize(position: number): WrongRangeError {
    return new WrongRangeError(
      new RuntimeError(
        `reading ${this.path}: the store sent ${position.toLocaleString('en-US')} bytes of an object of ${this.size.toLocaleString('en-US')}.`,
        { hint: 'Check that the store serves the object unchanged, then run the command again.' },
      ),
    );
  }

  /** The read gave up: one line naming the object, where it stopped, why, and the setting that bounds a stall. */
  private stopped(cause: unknown, position: number): RuntimeError {
    const why =
      cause instanceof StalledBodyError
        ? `${cause.message} (ORKESTRA_S3_TIMEOUT_SECONDS=${cause.idleMs / 1000})`
        : withoutFinalPeriod(firstLine(cause instanceof Error ? cause.message : String(cause)));
    return new RuntimeError(
      `reading ${this.path} stopped at byte ${position.toLocaleString('en-US')} of ${this.size.toLocaleString('en-US')}: ${why}, ` +
        `and ${RESUMES} reads resumed from that byte failed too.`,
      {
        hint: 'Check the network to the off-site store and that it serves the object, or raise ORKESTRA_S3_TIMEOUT_SECONDS for a slow one.',
        cause,
      },
    );
  }

  private changed(): UsageError {
    return new UsageError(`${this.path} changed after it was opened (replaced or modified).`, {
      hint: 'Nothing was restored. Keep the archive unchanged during a restore and run it again.',
    });
  }
}
