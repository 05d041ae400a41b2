import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { MULTIPART_PART_SIZE } from './store.js';

/**
 * Hashes an object as it streams by: its MD5 (the ETag of a single-part upload) and the ETag a
 * multipart upload in parts of MULTIPART_PART_SIZE would get — the two ETags a restore by this
 * tool can leave, so a later dry-run can tell an unchanged object from a changed one.
 */
export class ObjectDigest extends Transform {
  private readonly whole = createHash('md5');
  private part: Hash = createHash('md5');
  private partBytes = 0;
  private readonly partDigests: Buffer[] = [];
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.whole.update(chunk);
    this.bytes += chunk.length;
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(chunk.length - offset, MULTIPART_PART_SIZE - this.partBytes);
      this.part.update(chunk.subarray(offset, offset + take));
      this.partBytes += take;
      offset += take;
      if (this.partBytes === MULTIPART_PART_SIZE) this.closePart();
    }
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.partBytes > 0) this.closePart();
    callback();
  }

  get md5(): string {
    return this.whole.copy().digest('hex');
  }

  /** `md5(concat(md5(part)))-<parts>`, or undefined for objects that fit one upload. */
  multipartEtag(singleUploadLimit: number): string | undefined {
    if (this.bytes <= singleUploadLimit) return undefined;
    return `${createHash('md5').update(Buffer.concat(this.partDigests)).digest('hex')}-${this.partDigests.length}`;
  }

  private closePart(): void {
    this.partDigests.push(this.part.digest());
    this.part = createHash('md5');
    this.partBytes = 0;
  }
}
