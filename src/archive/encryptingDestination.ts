import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { newHeader, type Sealing } from '../age/header.js';
import { sealPayload, PAYLOAD_NONCE_BYTES } from '../age/payload.js';
import { RecordingHash } from './archiveRecord.js';
import { decryptedWith } from './decryptedArchive.js';
import type { ArchiveCheck, ArchiveDestination, ArchiveHead } from './destination.js';
import type { ArchiveLocation } from './location.js';
import { PinnedArchive } from './pinned.js';
import { PrivateSpool } from './privateSpool.js';

const EMPTY_HEAD: ArchiveHead = { size: 0, open: () => Readable.from([]) };

/**
 * Wraps a destination so that what it receives is one age file holding the whole archive.
 *
 * The archive's manifest comes first but is known only at the end, and age numbers its chunks
 * from the first plaintext byte, so the body cannot be sealed as it is made. It waits in a
 * private spool beside the destination's other working files (under a throwaway key: the
 * plaintext never touches the disk). At the end head and spool are sealed as age in one pass
 * and handed to the inner destination as its body, in front of an empty head; its check reads
 * the result back through the file key. The disk work equals the plain archive's (body written,
 * read, written again); the cost is the ciphers, about a second per GiB each here.
 *
 * The sealed bytes are hashed as they pass, and the inner destination keeps that record (size,
 * SHA-256, component names) beside the archive: a host without the key can tell from it that
 * the archive is still the one written and checked here (`list`, `prune`).
 */
export class EncryptingDestination implements ArchiveDestination {
  private constructor(
    private readonly inner: ArchiveDestination,
    private readonly header: Buffer,
    private readonly fileKey: Uint8Array,
    private readonly body: PrivateSpool,
  ) {}

  static async open(inner: ArchiveDestination, sealing: Sealing): Promise<EncryptingDestination> {
    const { header, fileKey } = await newHeader(sealing);
    return new EncryptingDestination(inner, header, fileKey, await PrivateSpool.create(inner.workPath('spool')));
  }

  workPath(role: string): string {
    return this.inner.workPath(role);
  }

  writeBody(bytes: Buffer): Promise<void> {
    return this.body.write(bytes);
  }

  async publish(head: ArchiveHead, check?: ArchiveCheck): Promise<{ path: string; bytes: number }> {
    await this.body.close();
    const hash = new RecordingHash();
    for await (const sealed of this.sealedArchive(head)) {
      hash.update(sealed);
      await this.inner.writeBody(sealed);
    }
    await this.body.remove();
    return this.inner.publish(EMPTY_HEAD, check && ((location) => this.checkInside(location, check)), hash.record(head.components));
  }

  async discard(): Promise<void> {
    await this.body.remove();
    await this.inner.discard();
  }

  /** The age file: header, then the payload of head and body. */
  private async *sealedArchive(head: ArchiveHead): AsyncGenerator<Buffer> {
    yield this.header;
    yield* sealPayload(this.plaintext(head), this.fileKey, randomBytes(PAYLOAD_NONCE_BYTES));
  }

  private async *plaintext(head: ArchiveHead): AsyncGenerator<Buffer> {
    yield* head.open() as AsyncIterable<Buffer>;
    yield* this.body.chunks();
  }

  private async checkInside(location: ArchiveLocation, check: ArchiveCheck): Promise<void> {
    const sealed = typeof location === 'string' ? await PinnedArchive.open(location) : location;
    try {
      await check(decryptedWith(sealed, this.header.length, this.fileKey));
    } finally {
      if (typeof location === 'string') await sealed.close();
    }
  }
}
