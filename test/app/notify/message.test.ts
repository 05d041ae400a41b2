import { describe, expect, it } from 'vitest';
import { eventOf, notifyMessage } from '../../../src/app/notify/message.js';

const context = { command: 'backup', environment: 'production', host: 'db1' };
const started = new Date('2026-01-02T03:00:00Z');
const finished = new Date('2026-01-02T03:00:12.5Z');

describe('the notification message', () => {
  it('a non-zero exit is a failure, anomalies on success are an anomaly, else a success', () => {
    expect(eventOf({ exitCode: 1, anomalies: ['x'] })).toBe('failure');
    expect(eventOf({ exitCode: 0, anomalies: ['redis: database 0 lost 60 % of its keys'] })).toBe('anomaly');
    expect(eventOf({ exitCode: 0, anomalies: [] })).toBe('success');
    expect(eventOf({ exitCode: 0 })).toBe('success');
  });

  it('a failure carries its error in text and in the structured fields', () => {
    const message = notifyMessage(context, { exitCode: 1, error: 'cannot back up redis (refused)' }, started, finished);
    expect(message).toMatchObject({
      event: 'failure',
      tool: 'orkestra-backup',
      command: 'backup',
      environment: 'production',
      host: 'db1',
      startedAt: '2026-01-02T03:00:00.000Z',
      finishedAt: '2026-01-02T03:00:12.500Z',
      durationSeconds: 12.5,
      exitCode: 1,
      archive: null,
      bytes: null,
      error: 'cannot back up redis (refused)',
      anomalies: [],
    });
    expect(message.text).toBe('orkestra-backup backup FAILED on db1 (production) after 13 s: cannot back up redis (refused)');
  });

  it('a failure without an error message says the exit code', () => {
    expect(notifyMessage(context, { exitCode: 2 }, started, finished).error).toBe('exited with code 2');
  });

  it('an anomaly lists each anomaly in text (at most ten) and all of them in anomalies', () => {
    const anomalies = Array.from({ length: 12 }, (_, index) => `bucket media-${index} lost 60 % of its objects`);
    const message = notifyMessage(
      context,
      { exitCode: 0, archive: '/srv/backups/orkestra-backup-production-20260102-030000.tar.gz', bytes: 2_500_000, anomalies },
      started,
      finished,
    );
    expect(message.event).toBe('anomaly');
    expect(message.error).toBeNull();
    expect(message.anomalies).toEqual(anomalies);
    const lines = message.text.split('\n');
    expect(lines[0]).toBe('orkestra-backup backup succeeded with anomalies on db1 (production) after 13 s');
    expect(lines[1]).toBe('Archive: orkestra-backup-production-20260102-030000.tar.gz, 2.5 MB');
    expect(lines[2]).toBe('12 anomalies:');
    expect(lines.slice(3, 13)).toEqual(anomalies.slice(0, 10).map((anomaly) => `• ${anomaly}`));
    expect(lines[13]).toBe('… and 2 more');
  });
});
