import { describe, expect, it } from 'vitest';
import { chooseBaseline, historyVerdicts, sameComponents } from '../../../src/core/health/baseline.js';
import type { HistoryRecord } from '../../../src/model/history.js';

let clock = Date.parse('2026-12-01T02:00:00Z');
function backup(name: string, components: string[], extra: Partial<HistoryRecord> = {}): HistoryRecord {
  clock += 3_600_000;
  const at = new Date(clock).toISOString();
  return {
    version: 1,
    command: 'backup',
    startedAt: at,
    endedAt: at,
    result: 'success',
    exitCode: 0,
    environment: 'prod',
    host: 'h',
    archives: [{ location: `/b/${name}.tar.gz`, bytes: 1000, backupId: `id-${name}` }],
    components: Object.fromEntries(components.map((component) => [component, {}])),
    anomalies: [],
    ...extra,
  };
}
const lost = [{ component: 'rustfs', kind: 'shrunk', message: 'rustfs: bucket b lost 60 % of its objects (10 → 4)' }];
const full = { environment: 'prod', backupId: 'new', components: ['redis', 'rustfs'], split: false };

describe('the baseline of a backup', () => {
  it('is the newest good backup: one with anomalies does not become the new normal', () => {
    const records = [
      backup('good', ['redis', 'rustfs']),
      backup('bad1', ['redis', 'rustfs'], { anomalies: lost }),
      backup('bad2', ['redis', 'rustfs'], { anomalies: lost }),
    ];
    const verdicts = historyVerdicts(records, 'prod');
    expect(chooseBaseline(verdicts.good, full)?.location).toBe('/b/good.tar.gz');
    expect([...verdicts.anomalous].sort()).toEqual(['/b/bad1.tar.gz', '/b/bad2.tar.gz', 'id-bad1', 'id-bad2']);
  });

  it('an accepted backup (--accept-anomaly, or an accept record naming it) is good', () => {
    const records = [backup('good', ['rustfs']), backup('cleaned', ['rustfs'], { anomalies: lost, accepted: true })];
    expect(chooseBaseline(historyVerdicts(records, 'prod').good, { ...full, components: ['rustfs'] })?.location).toBe('/b/cleaned.tar.gz');
    const later = [backup('good', ['rustfs']), backup('cleaned', ['rustfs'], { anomalies: lost })];
    const accept = backup('x', [], { command: 'accept', archives: [{ location: '/elsewhere/copy.tar.gz', backupId: 'id-cleaned' }] });
    const verdicts = historyVerdicts([...later, accept], 'prod');
    expect(chooseBaseline(verdicts.good, { ...full, components: ['rustfs'] })?.location).toBe('/b/cleaned.tar.gz');
    expect(verdicts.anomalous.size).toBe(0);
  });

  it('an accept record of an archive the history has no backup of is a baseline on its own shape', () => {
    const accept = backup('old', ['rustfs'], { command: 'accept', shape: { components: {} } });
    const verdicts = historyVerdicts([accept], 'prod');
    expect(verdicts.hasBackups).toBe(false);
    expect(chooseBaseline(verdicts.good, { ...full, components: ['rustfs'] })?.location).toBe('/b/old.tar.gz');
  });

  it('a run that exited 1 for its anomalies (--fail-on-anomaly) is anomalous; accepted later, it is good', () => {
    const good = backup('good', ['rustfs']);
    const failed = backup('failed-on-anomaly', ['rustfs'], { result: 'failure', exitCode: 1, anomalies: lost });
    const verdicts = historyVerdicts([good, failed], 'prod');
    expect(verdicts.anomalous.has('/b/failed-on-anomaly.tar.gz')).toBe(true);
    const accept = backup('a', [], { command: 'accept', archives: [{ location: '/b/failed-on-anomaly.tar.gz' }] });
    const accepted = historyVerdicts([good, failed, accept], 'prod');
    expect(chooseBaseline(accepted.good, { ...full, components: ['rustfs'] })?.location).toBe('/b/failed-on-anomaly.tar.gz');
  });

  it('failed runs, other environments, and the new backup itself are never the baseline', () => {
    const records = [
      backup('failed', ['rustfs'], { result: 'failure', exitCode: 1 }),
      backup('staging', ['rustfs'], { environment: 'staging' }),
      backup('new', ['rustfs'], { archives: [{ location: '/b/new.tar.gz', backupId: 'new' }] }),
    ];
    expect(chooseBaseline(historyVerdicts(records, 'prod').good, full)).toBeUndefined();
  });

  it('a partial backup (-c redis) does not hide the last full one; a partial one compares with what it shares', () => {
    const records = [backup('full', ['redis', 'rustfs']), backup('partial', ['redis'])];
    const { good } = historyVerdicts(records, 'prod');
    const chosen = chooseBaseline(good, full)!;
    expect(chosen.location).toBe('/b/full.tar.gz');
    expect(sameComponents(chosen, full)).toBe(true);
    const partial = { ...full, components: ['redis'] };
    const forPartial = chooseBaseline(good, partial)!;
    expect(forPartial.location).toBe('/b/partial.tar.gz');
    expect(sameComponents(chooseBaseline([good[0]], partial)!, partial)).toBe(false);
  });
});
