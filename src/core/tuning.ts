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
}

export function readTuning(env: NodeJS.ProcessEnv = process.env): Tuning {
  return {
    gzipLevel: integer(env.ORKESTRA_GZIP_LEVEL, 6, 0, 9),
    gzipThreads: integer(env.ORKESTRA_GZIP_THREADS, availableParallelism() + 1, 1, 64),
    storeCompressed: env.ORKESTRA_STORE_COMPRESSED !== '0',
    huffmanOnly: env.ORKESTRA_HUFFMAN_ONLY !== '0',
    s3Concurrency: integer(env.ORKESTRA_S3_CONCURRENCY, 8, 1, 64),
  };
}

function integer(value: string | undefined, fallback: number, min: number, max: number): number {
  const parsed = Number(value);
  return value !== undefined && Number.isInteger(parsed) && parsed >= min && parsed <= max ? parsed : fallback;
}
