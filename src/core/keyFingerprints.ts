import { createHmac, randomBytes } from 'node:crypto';
import type { Manifest } from '../archive/manifest.js';

/** The .env keys Orkestra's encrypted data depends on; ORKESTRA_BACKUP_KEY_NAMES replaces the list. */
const DEFAULT_KEY_NAMES = ['OAUTH_TOKEN_ENCRYPTION_KEY', 'ORKESTRA_KMS_MASTER_KEY'];

/** What the manifest keeps of those keys: an HMAC of each value under a salt of its own, never the value. */
export interface KeyFingerprints {
  readonly salt: string;
  /** null: the key was not set when the backup was made. */
  readonly keys: Record<string, string | null>;
}

export function keyNames(setting: (key: string) => string | undefined): string[] {
  const configured = setting('ORKESTRA_BACKUP_KEY_NAMES');
  if (configured === undefined) return DEFAULT_KEY_NAMES;
  return configured
    .split(',')
    .map((name) => name.trim())
    .filter((name) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name));
}

/** Fingerprints of the keys as they are now, under a fresh random salt. */
export function fingerprintKeys(setting: (key: string) => string | undefined): KeyFingerprints {
  const salt = randomBytes(16).toString('hex');
  const keys: Record<string, string | null> = {};
  for (const name of keyNames(setting)) {
    const value = setting(name);
    keys[name] = value === undefined ? null : fingerprint(salt, value);
  }
  return { salt, keys };
}

export interface KeyDrift {
  readonly name: string;
  /** The key is set now but was not at backup time, or the reverse, or its value differs. */
  readonly change: 'differs' | 'missing now' | 'added since';
}

/**
 * The keys whose live value is not the one fingerprinted when the archive was made.
 * Archives without fingerprints (older ones) report nothing.
 */
export function keyDrift(manifest: Manifest, setting: (key: string) => string | undefined): KeyDrift[] {
  const recorded = manifest.keyFingerprints;
  if (!recorded) return [];
  const drift: KeyDrift[] = [];
  for (const [name, then] of Object.entries(recorded.keys)) {
    const value = setting(name);
    const now = value === undefined ? null : fingerprint(recorded.salt, value);
    if (now === then) continue;
    drift.push({ name, change: then === null ? 'added since' : now === null ? 'missing now' : 'differs' });
  }
  return drift;
}

function fingerprint(salt: string, value: string): string {
  return createHmac('sha256', Buffer.from(salt, 'hex')).update(value, 'utf8').digest('hex');
}
