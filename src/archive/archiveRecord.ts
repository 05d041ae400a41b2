import { createHash, type Hash } from 'node:crypto';

/**
 * What an encrypted archive was when it was written, kept in plaintext beside it
 * (`<archive>.record.json`): its size and SHA-256, and for an S3 object its ETag. With it a host
 * holding only the public recipients can tell the archive is still what the backup wrote and
 * read back, without decrypting; without it an encrypted archive's soundness is unknown there.
 * The component names say which series the archive belongs to when pruning (a `-c redis`
 * archive never takes a full backup's keep slot).
 */
export interface ArchiveRecord {
  readonly bytes: number;
  readonly sha256: string;
  readonly components?: readonly string[];
  /** The object's ETag, for an archive in an S3 bucket: the same ETag is the same object. */
  readonly etag?: string;
}

const RECORD_SUFFIX = '.record.json';
const RECORD_SCHEMA = 'orkestra-backup-record/v1';
/** A record is a few hundred bytes; anything much larger is not one. */
export const RECORD_LIMIT = 64 * 1024;

/** Where an archive's record is: the archive's name, path or key with `.record.json` added. */
export function recordNameOf(archive: string): string {
  return `${archive}${RECORD_SUFFIX}`;
}

export function recordText(archiveName: string, record: ArchiveRecord): string {
  return `${JSON.stringify({ schema: RECORD_SCHEMA, archive: archiveName, ...record }, null, 2)}\n`;
}

/** The record in this text, or undefined when it is not one (another schema, a bad field, the name of another archive). */
export function parseRecord(text: string, archiveName: string): ArchiveRecord | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { schema, archive, bytes, sha256, components, etag } = raw as Record<string, unknown>;
  // The name is not compared with -N suffixes stripped: a record copied beside another file does not describe it.
  if (schema !== RECORD_SCHEMA || archive !== archiveName) return undefined;
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0) return undefined;
  if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256)) return undefined;
  const names = Array.isArray(components) && components.every((name) => typeof name === 'string') ? components : undefined;
  return { bytes, sha256, components: names, etag: typeof etag === 'string' ? etag : undefined };
}

/** Counts and hashes the bytes of an archive as they are written. */
export class RecordingHash {
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;

  update(chunk: Buffer): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }

  record(components?: readonly string[]): ArchiveRecord {
    return { bytes: this.bytes, sha256: this.hash.digest('hex'), components };
  }
}
