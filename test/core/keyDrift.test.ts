import { describe, expect, it } from 'vitest';
import { fingerprintKeys, keyDrift, keyNames } from '../../src/core/keyFingerprints.js';
import { describeDrift } from '../../src/components/mongodb/keyDrift.js';
import type { Manifest } from '../../src/archive/manifest.js';

const settings = (values: Record<string, string>) => (key: string) => values[key];
const manifestWith = (keyFingerprints: Manifest['keyFingerprints']): Manifest => ({
  schema: 'orkestra-backup/v1.1',
  createdAt: 'x',
  environment: 'local',
  host: 'h',
  components: ['mongodb'],
  keyFingerprints,
});

describe('key fingerprints', () => {
  it('record an HMAC per key under a fresh salt, never the value; an unset key is null', () => {
    const first = fingerprintKeys(settings({ OAUTH_TOKEN_ENCRYPTION_KEY: 'secret-a' }));
    const second = fingerprintKeys(settings({ OAUTH_TOKEN_ENCRYPTION_KEY: 'secret-a' }));
    expect(Object.keys(first.keys)).toEqual(['OAUTH_TOKEN_ENCRYPTION_KEY', 'ORKESTRA_KMS_MASTER_KEY']);
    expect(first.keys.OAUTH_TOKEN_ENCRYPTION_KEY).toMatch(/^[0-9a-f]{64}$/);
    expect(first.keys.ORKESTRA_KMS_MASTER_KEY).toBeNull();
    expect(JSON.stringify(first)).not.toContain('secret-a');
    // Another salt each time: two archives of the same key cannot be matched to each other.
    expect(first.salt).not.toBe(second.salt);
    expect(first.keys.OAUTH_TOKEN_ENCRYPTION_KEY).not.toBe(second.keys.OAUTH_TOKEN_ENCRYPTION_KEY);
  });

  it('ORKESTRA_BACKUP_KEY_NAMES replaces the list; names that cannot be env keys are dropped', () => {
    expect(keyNames(settings({ ORKESTRA_BACKUP_KEY_NAMES: 'A_KEY, B2 ,bad-name' }))).toEqual(['A_KEY', 'B2']);
  });

  it('drift: a changed, removed or added key is named with what happened; equal keys and old archives report nothing', () => {
    const recorded = fingerprintKeys(settings({ OAUTH_TOKEN_ENCRYPTION_KEY: 'a', ORKESTRA_KMS_MASTER_KEY: 'b' }));
    const manifest = manifestWith(recorded);
    expect(keyDrift(manifest, settings({ OAUTH_TOKEN_ENCRYPTION_KEY: 'a', ORKESTRA_KMS_MASTER_KEY: 'b' }))).toEqual([]);
    expect(keyDrift(manifest, settings({ OAUTH_TOKEN_ENCRYPTION_KEY: 'a', ORKESTRA_KMS_MASTER_KEY: 'c' }))).toEqual([
      { name: 'ORKESTRA_KMS_MASTER_KEY', change: 'differs' },
    ]);
    expect(keyDrift(manifest, settings({ ORKESTRA_KMS_MASTER_KEY: 'b' }))).toEqual([
      { name: 'OAUTH_TOKEN_ENCRYPTION_KEY', change: 'missing now' },
    ]);
    const unset = manifestWith(fingerprintKeys(settings({})));
    expect(keyDrift(unset, settings({ ORKESTRA_KMS_MASTER_KEY: 'new' }))).toEqual([
      { name: 'ORKESTRA_KMS_MASTER_KEY', change: 'added since' },
    ]);
    expect(keyDrift(manifestWith(undefined), settings({ ORKESTRA_KMS_MASTER_KEY: 'new' }))).toEqual([]);
    expect(describeDrift([{ name: 'ORKESTRA_KMS_MASTER_KEY', change: 'differs' }])).toContain('ORKESTRA_KMS_MASTER_KEY (differs)');
  });
});
