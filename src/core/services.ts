import type { DockerEngine } from '../docker/engine.js';
import type { ObjectStore, S3Location } from '../s3/client/store.js';
import type { OffsiteSettings, OffsiteStore, Retry } from '../s3/offsite/offsite.js';
import type { Tuning } from './tuning.js';

/**
 * The outside world as the core and the components see it. The core only names the types; the
 * entry points (app/session.ts) build them, so that a secrets-only run never needs Docker and a
 * test can hand a component its own store or tuning.
 */
export interface Services {
  docker(): DockerEngine;
  /** A client of an S3-compatible store; the caller destroys it when done. */
  objectStore(location: S3Location): ObjectStore;
  /** A client of the off-site store (s3:// destinations and sources); the caller destroys it when done. */
  offsiteStore(settings: OffsiteSettings, retry?: Retry): OffsiteStore;
  /** Performance settings (ORKESTRA_GZIP_*, ORKESTRA_S3_CONCURRENCY…), read once. */
  readonly tuning: Tuning;
}
