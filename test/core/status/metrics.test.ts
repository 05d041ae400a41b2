import { execFileSync } from 'node:child_process';
import { lstat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BackupStatus } from '../../../src/core/status/backupStatus.js';
import { checkMetricsTarget, statusMetrics } from '../../../src/core/status/metrics.js';
import { temporaryFolder } from '../../helpers/tempFolders.js';
import { parsePrometheusText, sampleValue } from '../../helpers/prometheusText.js';

function status(fields: Partial<BackupStatus> = {}): BackupStatus {
  return {
    environment: 'prod',
    checkedAt: '2026-12-05T06:00:00.000Z',
    maxAgeHours: 26,
    destinations: [{ destination: 'local', where: '/srv/backups', soundArchives: 1 }],
    components: [],
    keyDrift: { state: 'unknown', reason: 'no backup' },
    openAnomalies: [],
    unreadableHistoryLines: 0,
    reasons: [],
    ...fields,
  };
}

const newest = {
  archive: 'a.tar.gz',
  location: '/srv/backups/a.tar.gz',
  createdAt: '2026-12-05T03:00:00Z',
  ageSeconds: 10_800,
  archiveBytes: 2048,
  vouchedBy: 'manifest' as const,
};

describe('statusMetrics (Prometheus text format)', () => {
  it('label values with a quote, a backslash and a line feed are escaped: the parser reads them back unchanged', () => {
    const name = 'we"ird\\name\nnext';
    const text = statusMetrics(status({ components: [{ name, newest: { local: { ...newest, bytes: 7 } } }] }));
    expect(text.split('\n').filter((line) => line.startsWith('orkestra_backup_size_bytes'))).toHaveLength(1);
    const families = parsePrometheusText(text);
    expect(sampleValue(families, 'orkestra_backup_size_bytes', { component: name, destination: 'local', environment: 'prod' })).toBe(7);
  });

  it('a figure not known is left out, never written as 0: no size of a locked archive, no duration without a record, no drill', () => {
    const families = parsePrometheusText(
      statusMetrics(status({ components: [{ name: 'redis', newest: { offsite: { ...newest, vouchedBy: 'record' } } }] })),
    );
    expect(sampleValue(families, 'orkestra_backup_age_seconds', { component: 'redis', destination: 'offsite' })).toBe(10_800);
    expect(sampleValue(families, 'orkestra_backup_last_success_timestamp_seconds', { component: 'redis' })).toBe(
      Date.parse(newest.createdAt) / 1000,
    );
    for (const absent of [
      'orkestra_backup_size_bytes',
      'orkestra_backup_duration_seconds',
      'orkestra_backup_last_drill_success',
      'orkestra_backup_key_drift',
    ]) {
      expect(families.map((family) => family.name)).not.toContain(absent);
    }
  });

  it('each family once, with HELP and TYPE before its samples', () => {
    const text = statusMetrics(
      status({
        components: [
          { name: 'redis', newest: { local: { ...newest, bytes: 1, backupSeconds: 2 } } },
          { name: 'secrets', newest: { local: { ...newest, bytes: 3 } } },
        ],
        lastDrill: { at: '2026-12-05T04:00:00Z', ok: false, restoreSeconds: { redis: 1.25 } },
        keyDrift: { state: 'drift', archive: 'a.tar.gz', keys: [{ name: 'K', change: 'differs' }] },
        reasons: ['the last drill failed'],
      }),
    );
    const lines = text.trimEnd().split('\n');
    const names = lines.filter((line) => line.startsWith('# TYPE ')).map((line) => line.split(' ')[2]);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) {
      const help = lines.indexOf(lines.find((line) => line.startsWith(`# HELP ${name} `))!);
      expect(lines[help + 1]).toBe(`# TYPE ${name} gauge`);
      expect(lines[help + 2]).toMatch(new RegExp(`^${name}\\{`));
    }
    const families = parsePrometheusText(text);
    expect(sampleValue(families, 'orkestra_backup_healthy')).toBe(0);
    expect(sampleValue(families, 'orkestra_backup_last_drill_success')).toBe(0);
    expect(sampleValue(families, 'orkestra_backup_last_drill_timestamp_seconds')).toBe(Date.parse('2026-12-05T04:00:00Z') / 1000);
    expect(sampleValue(families, 'orkestra_backup_drill_restore_seconds', { component: 'redis' })).toBe(1.25);
    expect(sampleValue(families, 'orkestra_backup_key_drift')).toBe(1);
    expect(families.find((family) => family.name === 'orkestra_backup_size_bytes')?.metrics).toHaveLength(2);
  });
});

describe('checkMetricsTarget', () => {
  it('refuses a pipe, and a link to one, which the rename would replace with a plain file', async () => {
    const folder = await temporaryFolder('okb-metrics-special-');
    const pipe = join(folder, 'pipe.prom');
    execFileSync('mkfifo', [pipe]);
    await symlink(pipe, join(folder, 'link.prom'));
    for (const path of [pipe, join(folder, 'link.prom')]) {
      await expect(checkMetricsTarget(path)).rejects.toThrow(/not a plain file/);
    }
    expect((await lstat(pipe)).isFIFO()).toBe(true);
    await writeFile(join(folder, 'plain.prom'), '');
    await expect(checkMetricsTarget(join(folder, 'plain.prom'))).resolves.toBeUndefined();
  });
});
