import { describe, expect, it } from 'vitest';
import { backupSeconds, lastDrill, openAnomalies, recordsOf } from '../../../src/core/status/statusHistory.js';
import type { HistoryRecord } from '../../../src/model/history.js';

let clock = Date.parse('2026-12-01T00:00:00Z');
function record(fields: Partial<HistoryRecord> & Pick<HistoryRecord, 'command'>): HistoryRecord {
  clock += 3600_000;
  const at = new Date(clock).toISOString();
  return { version: 1, startedAt: at, endedAt: at, result: 'success', exitCode: 0, environment: 'prod', host: 'vm1', ...fields };
}

const lost = { component: 'redis', kind: 'shrunk', message: 'redis: database 0 lost 62 % of its keys' };

describe('open anomalies from the history', () => {
  it("the newest backup's anomalies are open; a later backup of the same components without any closes them", () => {
    const anomalous = record({
      command: 'backup',
      archives: [{ location: '/b/a1.tar.gz' }],
      components: { redis: {}, secrets: {} },
      anomalies: [lost],
    });
    expect(openAnomalies([anomalous], 'prod')).toEqual([{ archive: '/b/a1.tar.gz', at: anomalous.endedAt, anomalies: [lost] }]);
    const clean = record({
      command: 'backup',
      archives: [{ location: '/b/a2.tar.gz' }],
      components: { secrets: {}, redis: {} },
      anomalies: [],
    });
    expect(openAnomalies([anomalous, clean], 'prod')).toEqual([]);
  });

  it('a newer backup of other components (an hourly -c redis) does not close the full backup’s anomalies', () => {
    const full = record({
      command: 'backup',
      archives: [{ location: '/b/full.tar.gz' }],
      components: { redis: {}, mongodb: {} },
      anomalies: [lost],
    });
    const hourly = record({ command: 'backup', archives: [{ location: '/b/hourly.tar.gz' }], components: { redis: {} } });
    expect(openAnomalies([full, hourly], 'prod').map((open) => open.archive)).toEqual(['/b/full.tar.gz']);
  });

  it('closed by --accept-anomaly on the backup, or by an accept record naming the archive by path or backupId', () => {
    const id = '0f8b1c2e-4d5a-4b6c-8d7e-9f0a1b2c3d4e';
    const backup = record({
      command: 'backup',
      archives: [{ location: '/b/a1.tar.gz', backupId: id }],
      components: { redis: {} },
      anomalies: [lost],
    });
    expect(openAnomalies([{ ...backup, accepted: true }], 'prod')).toEqual([]);
    expect(openAnomalies([backup, record({ command: 'accept', archives: [{ location: '/b/a1.tar.gz' }] })], 'prod')).toEqual([]);
    expect(
      openAnomalies([backup, record({ command: 'accept', archives: [{ location: 'elsewhere.tar.gz', backupId: id }] })], 'prod'),
    ).toEqual([]);
    expect(openAnomalies([backup, record({ command: 'accept', archives: [{ location: '/b/other.tar.gz' }] })], 'prod')).toHaveLength(1);
    expect(openAnomalies([backup], 'staging')).toEqual([]);
  });

  it('a backup run that wrote no archive is no backup to judge', () => {
    const written = record({ command: 'backup', archives: [{ location: '/b/a1.tar.gz' }], components: { redis: {} }, anomalies: [lost] });
    const failed = record({ command: 'backup', result: 'failure', exitCode: 1, components: { redis: {} } });
    expect(openAnomalies([written, failed], 'prod')).toHaveLength(1);
  });
});

describe('drills and durations from the history', () => {
  it('the last drill: its result, drillOk and each component’s restore seconds', () => {
    const passed = record({
      command: 'drill',
      drillOk: true,
      archives: [{ location: 's3://b/x.tar.gz' }],
      components: { redis: { seconds: 2.5 }, secrets: {} },
    });
    const failed = record({ command: 'drill', drillOk: false, components: { redis: { seconds: 1 } } });
    expect(lastDrill([passed])).toEqual({ at: passed.endedAt, archive: 's3://b/x.tar.gz', ok: true, restoreSeconds: { redis: 2.5 } });
    expect(lastDrill([passed, failed, record({ command: 'verify' })])).toMatchObject({ ok: false, restoreSeconds: { redis: 1 } });
    expect(lastDrill([record({ command: 'drill', result: 'failure', exitCode: 2, error: 'archive is bad' })])).toMatchObject({
      ok: false,
      error: 'archive is bad',
    });
    expect(lastDrill([record({ command: 'backup' })])).toBeUndefined();
  });

  it('backup seconds of an archive found by backupId or by its file name, whatever the path', () => {
    const records = [
      record({ command: 'backup', archives: [{ location: '/srv/x/backups/a1.tar.gz' }], components: { redis: { seconds: 3 } } }),
      record({
        command: 'backup',
        archives: [{ location: 's3://b/p/a2.tar.gz', backupId: 'id-2' }],
        components: { redis: { seconds: 4 } },
      }),
    ];
    expect(backupSeconds(records, { name: 'a1.tar.gz' })).toEqual({ redis: 3 });
    expect(backupSeconds(records, { name: 'renamed.tar.gz', backupId: 'id-2' })).toEqual({ redis: 4 });
    expect(backupSeconds(records, { name: 'a3.tar.gz' })).toEqual({});
  });

  it('only the records of the environment', () => {
    const records = [record({ command: 'drill' }), record({ command: 'drill', environment: 'staging' })];
    expect(recordsOf(records, 'staging')).toEqual([records[1]]);
  });
});
