import { describe, expect, it } from 'vitest';
import { drillText } from '../../../src/core/drill/drillReport.js';
import type { DrillReport } from '../../../src/core/drill/runDrill.js';

describe('the drill report ends each message in one period', () => {
  it('a drill whose component failed with a hint ending "Nothing was touched." says so once, not "touched.."', () => {
    const report: DrillReport = {
      id: 'd1',
      archive: 'orkestra-backup-local-20260101-000000.tar.gz',
      createdAt: '2026-01-01T00:00:00Z',
      components: [
        {
          name: 'mongodb',
          failure:
            'mongodump could not log in to MongoDB in mongo: bad auth. Check the user and password in MONGO_URI. Nothing was touched.',
          checks: [],
        },
      ],
      unmatchedCanaries: [],
      notDrilled: [],
      phases: [{ name: 'archive check', ms: 20 }],
      ok: false,
    };
    const verdict = drillText(report).trim().split('\n').pop();
    expect(verdict).toBe(
      'Drill FAILED: mongodb: mongodump could not log in to MongoDB in mongo: bad auth. Check the user and password in MONGO_URI. Nothing was touched.',
    );
    expect(drillText(report)).not.toContain('..');
  });
});
