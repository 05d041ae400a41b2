import { availableParallelism } from 'node:os';

/**
 * Performance settings, read once from the environment. The defaults are what the benchmark
 * (`npm run bench`) shows best; the variables exist so that each optimisation can be measured
 * against its absence on the same machine, and so an operator can trade speed for CPU.
 */
export interface Tuning {
  /** ORKESTRA_GZIP_LEVEL (0-9, default 6, as `gzip -6` and `tar czf`). */
  readonly gzipLevel: number;
  /** ORKESTRA_GZIP_THREADS: gzip members compressed at once (default: cores + 1; 1 = one at a time like gzip). */
  readonly gzipThreads: number;
  /** ORKESTRA_STORE_COMPRESSED=0 deflates already-compressed data again (default: stored as is). */
  readonly storeCompressed: boolean;
  /** ORKESTRA_HUFFMAN_ONLY=0 deflates data that only entropy-codes (default: Huffman-coded, ~4x faster). */
  readonly huffmanOnly: boolean;
  /** ORKESTRA_S3_CONCURRENCY: object transfers in flight (default 8; 1 = one after the other). */
  readonly s3Concurrency: number;
  /** ORKESTRA_S3_PART_MB: the part size of an archive uploaded to s3:// (default 8, at least 5). */
  readonly uploadPartBytes: number;
  /**
   * ORKESTRA_S3_UPLOAD_CONCURRENCY: parts of an archive uploading at once (default 2). Each holds a
   * part buffer: at 2 GB the backup to s3:// peaked at 201 MB RSS with 4 and 181 MB with 2, in
   * the same time (the archive is made at ~25 MB/s; two 8 MiB parts in flight keep up with it).
   */
  readonly uploadConcurrency: number;
  /** ORKESTRA_S3_TIMEOUT_SECONDS: an off-site request with no answer for this long fails and is retried (default 120). */
  readonly offsiteTimeoutMs: number;
  /** ORKESTRA_REDIS_TIMEOUT_SECONDS: an online Redis restore gives up on a server that neither reads nor answers for this long (default 60). */
  readonly redisTimeoutMs: number;
  /** ORKESTRA_S3_RETRY_PAUSES: seconds to wait before each new attempt at an off-site request (default 1,3,9,20). */
  readonly offsiteRetryPausesMs: readonly number[];
}

export function readTuning(env: NodeJS.ProcessEnv = process.env): Tuning {
  return {
    gzipLevel: integer(env.ORKESTRA_GZIP_LEVEL, 6, 0, 9),
    gzipThreads: integer(env.ORKESTRA_GZIP_THREADS, availableParallelism() + 1, 1, 64),
    storeCompressed: env.ORKESTRA_STORE_COMPRESSED !== '0',
    huffmanOnly: env.ORKESTRA_HUFFMAN_ONLY !== '0',
    s3Concurrency: integer(env.ORKESTRA_S3_CONCURRENCY, 8, 1, 64),
    uploadPartBytes: integer(env.ORKESTRA_S3_PART_MB, 8, 5, 5120) * 1024 * 1024,
    uploadConcurrency: integer(env.ORKESTRA_S3_UPLOAD_CONCURRENCY, 2, 1, 32),
    offsiteTimeoutMs: integer(env.ORKESTRA_S3_TIMEOUT_SECONDS, 120, 1, 3600) * 1000,
    redisTimeoutMs: integer(env.ORKESTRA_REDIS_TIMEOUT_SECONDS, 60, 1, 3600) * 1000,
    offsiteRetryPausesMs: pauses(env.ORKESTRA_S3_RETRY_PAUSES, [1, 3, 9, 20]).map((seconds) => seconds * 1000),
  };
}

function integer(value: string | undefined, fallback: number, min: number, max: number): number {
  const parsed = Number(value);
  return value !== undefined && Number.isInteger(parsed) && parsed >= min && parsed <= max ? parsed : fallback;
}

function pauses(value: string | undefined, fallback: number[]): number[] {
  if (value === undefined) return fallback;
  const parsed = value.split(',').map((part) => Number(part.trim()));
  return parsed.every((seconds) => Number.isFinite(seconds) && seconds >= 0 && seconds <= 600) && parsed.length <= 10 ? parsed : fallback;
}
