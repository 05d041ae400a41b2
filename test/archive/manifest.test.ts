import { describe, expect, it } from 'vitest';
import { parseManifest, serializeManifest } from '../../src/archive/manifest.js';
import { UsageError } from '../../src/base/errors.js';

const ORIGINAL = {
  schema: 'orkestra-backup/v1',
  createdAt: '2026-05-27T07:17:29Z',
  environment: 'staging',
  host: 'orkestra-staging-1',
  components: ['mongodb', 'redis', 'rustfs', 'secrets'],
};

describe('manifest schema', () => {
  it('accepts the manifest of the original bash scripts (no file list)', () => {
    const manifest = parseManifest(JSON.stringify(ORIGINAL), 'a.tar.gz');
    expect(manifest.components).toEqual(ORIGINAL.components);
    expect(manifest.files).toBeUndefined();
  });

  it('keeps fields it does not know, so a newer minor version round-trips', () => {
    const manifest = parseManifest(JSON.stringify({ ...ORIGINAL, retention: { days: 30 } }), 'a.tar.gz');
    expect(JSON.parse(serializeManifest(manifest)).retention).toEqual({ days: 30 });
  });

  it('refuses an unknown schema and says the file is not ours', () => {
    expect(() => parseManifest(JSON.stringify({ ...ORIGINAL, schema: 'something-else/v1' }), 'a.tar.gz')).toThrow(
      /unknown manifest schema "something-else\/v1"/,
    );
  });

  it('refuses a newer major version and asks for an upgrade', () => {
    const parse = () => parseManifest(JSON.stringify({ ...ORIGINAL, schema: 'orkestra-backup/v2' }), 'a.tar.gz');
    expect(parse).toThrow(UsageError);
    expect(parse).toThrow(/newer orkestra-backup.*Upgrade|newer orkestra-backup/);
  });

  it.each([
    ['components is not a list', { components: 'mongodb' }, /components/],
    ['createdAt is a number', { createdAt: 12 }, /createdAt/],
    ['a file size is negative', { files: [{ path: 'secrets/.env', size: -1, sha256: 'a'.repeat(64) }] }, /files\.0\.size/],
    ['a checksum is not hex', { files: [{ path: 'secrets/.env', size: 1, sha256: 'xyz' }] }, /files\.0\.sha256/],
  ])('names the field when %s', (_, override, pattern) => {
    expect(() => parseManifest(JSON.stringify({ ...ORIGINAL, ...override }), 'a.tar.gz')).toThrow(pattern);
  });

  it('refuses a file listed twice', () => {
    const file = { path: 'secrets/.env', size: 1, sha256: 'a'.repeat(64) };
    expect(() => parseManifest(JSON.stringify({ ...ORIGINAL, files: [file, file] }), 'a.tar.gz')).toThrow(/twice/);
  });

  it('refuses text that is not JSON', () => {
    expect(() => parseManifest('{"schema": ', 'a.tar.gz')).toThrow(/not valid JSON/);
  });
});
