import { describe, expect, it } from 'vitest';
import { findAnomalies } from '../../../src/core/health/anomalies.js';
import { DEFAULT_HEALTH_SETTINGS } from '../../../src/model/health.js';
import type { ArchiveShape, ComponentShape } from '../../../src/model/shape.js';

const buckets = (groups: Record<string, number>): ComponentShape => ({
  items: 'objects',
  group: 'bucket',
  groups: Object.fromEntries(Object.entries(groups).map(([name, items]) => [name, { items }])),
});
const collections = (groups: Record<string, number>): ComponentShape => ({
  items: 'documents',
  group: 'collection',
  groups: Object.fromEntries(Object.entries(groups).map(([name, items]) => [name, { items }])),
});
const shape = (components: ArchiveShape['components'], keyNames?: string[]): ArchiveShape => ({ components, keyNames });
const same = { sameComponents: true };

describe('anomaly checks against the baseline', () => {
  it('a bucket that lost 60 % of its objects is an anomaly, in one readable line', () => {
    const anomalies = findAnomalies(
      { shape: shape({ rustfs: buckets({ uploads: 400, avatars: 10 }) }) },
      { shape: shape({ rustfs: buckets({ uploads: 1000, avatars: 10 }) }) },
      DEFAULT_HEALTH_SETTINGS,
      same,
    );
    expect(anomalies).toEqual([
      { component: 'rustfs', kind: 'shrunk', message: 'rustfs: bucket uploads lost 60 % of its objects (1,000 → 400)' },
    ]);
  });

  it('normal growth and a loss below the threshold raise nothing', () => {
    const baseline = { shape: shape({ rustfs: buckets({ uploads: 1000 }), mongodb: collections({ 'o.users': 50 }) }), bytes: 10_000 };
    const grown = { shape: shape({ rustfs: buckets({ uploads: 1200, new: 3 }), mongodb: collections({ 'o.users': 51 }) }), bytes: 12_000 };
    expect(findAnomalies(grown, baseline, DEFAULT_HEALTH_SETTINGS, same)).toEqual([]);
    const slightlyLess = { shape: shape({ rustfs: buckets({ uploads: 501 }), mongodb: collections({ 'o.users': 25 }) }), bytes: 5_000 };
    expect(findAnomalies(slightlyLess, baseline, DEFAULT_HEALTH_SETTINGS, same)).toEqual([]);
  });

  it('the thresholds of the health settings decide', () => {
    const current = { shape: shape({ rustfs: buckets({ uploads: 700 }) }) };
    const baseline = { shape: shape({ rustfs: buckets({ uploads: 1000 }) }) };
    expect(findAnomalies(current, baseline, DEFAULT_HEALTH_SETTINGS, same)).toEqual([]);
    const strict = { ...DEFAULT_HEALTH_SETTINGS, shrinkThreshold: 0.2 };
    expect(findAnomalies(current, baseline, strict, same).map((anomaly) => anomaly.message)).toEqual([
      'rustfs: bucket uploads lost 30 % of its objects (1,000 → 700)',
    ]);
  });

  it('an emptied collection, a vanished collection and a component that became empty', () => {
    const emptied = findAnomalies(
      { shape: shape({ mongodb: collections({ 'orkestra.users': 0, 'orkestra.jobs': 8 }) }) },
      { shape: shape({ mongodb: collections({ 'orkestra.users': 3, 'orkestra.jobs': 8, 'orkestra.audit': 2 }) }) },
      DEFAULT_HEALTH_SETTINGS,
      same,
    );
    expect(emptied.map(({ kind, message }) => [kind, message])).toEqual([
      ['shrunk', 'mongodb: collection orkestra.users lost all of its documents (3 → 0)'],
      ['vanished', 'mongodb: collection orkestra.audit is gone (had 2 documents)'],
    ]);
    const empty = findAnomalies(
      { shape: shape({ redis: { items: 'keys', group: 'database', groups: {} } }) },
      { shape: shape({ redis: { items: 'keys', group: 'database', groups: { '0': { items: 1204 }, '3': { items: 5 } } } }) },
      DEFAULT_HEALTH_SETTINGS,
      same,
    );
    expect(empty).toEqual([{ component: 'redis', kind: 'empty', message: 'redis: empty (had 1,209 keys)' }]);
  });

  it('a secret file name or a key name that vanished', () => {
    const secrets = (names: string[]): ComponentShape => ({
      items: 'files',
      group: 'folder',
      groups: { docker: { items: names.length } },
      names,
    });
    const anomalies = findAnomalies(
      { shape: shape({ secrets: secrets(['.env', 'keys/a.pem']) }, ['ORKESTRA_KMS_MASTER_KEY']) },
      {
        shape: shape({ secrets: secrets(['.env', 'keys/a.pem', 'keys/jwt.pem']) }, [
          'ORKESTRA_KMS_MASTER_KEY',
          'OAUTH_TOKEN_ENCRYPTION_KEY',
        ]),
      },
      DEFAULT_HEALTH_SETTINGS,
      same,
    );
    expect(anomalies.map(({ kind, message }) => [kind, message])).toEqual([
      ['vanished', 'secrets: keys/jwt.pem is gone'],
      ['key-name-vanished', 'key OAUTH_TOKEN_ENCRYPTION_KEY is no longer set (its fingerprint is gone)'],
    ]);
  });

  it('only components both hold are compared; sizes only between backups of the same components', () => {
    const partial = { shape: shape({ redis: { items: 'keys', group: 'database', groups: { '0': { items: 10 } } } }), bytes: 100 };
    const full = {
      shape: shape({
        redis: { items: 'keys', group: 'database', groups: { '0': { items: 10 } } },
        rustfs: buckets({ uploads: 1000 }),
      }),
      bytes: 100_000,
    };
    expect(findAnomalies(partial, full, DEFAULT_HEALTH_SETTINGS, { sameComponents: false })).toEqual([]);
    expect(findAnomalies(partial, full, DEFAULT_HEALTH_SETTINGS, same).map((anomaly) => anomaly.kind)).toEqual(['smaller-archive']);
  });

  it('an archive much smaller than the baseline is an anomaly, also when the baseline has no shape (an older version)', () => {
    const anomalies = findAnomalies({ shape: shape({}), bytes: 3_800_000 }, { bytes: 10_000_000 }, DEFAULT_HEALTH_SETTINGS, same);
    expect(anomalies).toEqual([{ kind: 'smaller-archive', message: "archive is 62 % smaller than the baseline's (10 MB → 3.8 MB)" }]);
  });

  it('names from the data are shown escaped: a bucket name cannot forge a line', () => {
    const [anomaly] = findAnomalies(
      { shape: shape({ rustfs: buckets({}) }), bytes: 1 },
      { shape: shape({ rustfs: buckets({ 'a\nb': 0, c: 4 }) }) },
      DEFAULT_HEALTH_SETTINGS,
      same,
    );
    expect(anomaly.message).toBe('rustfs: empty (had 4 objects)');
    const [gone] = findAnomalies(
      { shape: shape({ rustfs: buckets({ c: 4 }) }) },
      { shape: shape({ rustfs: buckets({ 'a\u001b[2Jb': 1, c: 4 }) }) },
      DEFAULT_HEALTH_SETTINGS,
      same,
    );
    expect(gone.message).not.toContain('\u001b');
    const [newline] = findAnomalies(
      { shape: shape({ rustfs: buckets({ c: 4 }) }) },
      { shape: shape({ rustfs: buckets({ 'a\nb': 1, c: 4 }) }) },
      DEFAULT_HEALTH_SETTINGS,
      same,
    );
    expect(newline.message).toBe('rustfs: bucket a\\nb is gone (had 1 object)');
  });
});
