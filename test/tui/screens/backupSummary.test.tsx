import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { BackupSummary } from '../../../src/tui/screens/SummaryScreens.js';

const result = {
  archivePath: '/srv/orkestra/backups/orkestra-backup-prod-20261205-020000.tar.gz',
  archiveBytes: 2_000_000,
  elapsedMs: 3_000,
  components: ['rustfs', 'mongodb'],
  skipped: [],
};

describe('the backup summary screen', () => {
  it('shows the anomalies against the baseline, one line each', () => {
    const view = render(
      <BackupSummary
        result={{
          ...result,
          baseline: '/srv/orkestra/backups/orkestra-backup-prod-20261204-020000.tar.gz',
          anomalies: [
            'rustfs: bucket uploads lost 60 % of its objects (1,000 → 400)',
            'mongodb: collection orkestra.users lost all of its documents (3 → 0)',
          ],
        }}
      />,
    );
    const frame = view.lastFrame() ?? '';
    expect(frame).toContain('Anomaly: differs from the baseline /srv/orkestra/backups/orkestra-backup-prod-20261204-020000.tar.gz');
    expect(frame).toContain('  rustfs: bucket uploads lost 60 % of its objects (1,000 → 400)');
    expect(frame).toContain('  mongodb: collection orkestra.users lost all of its documents (3 → 0)');
    view.unmount();
  });

  it('says nothing of anomalies when there are none', () => {
    const view = render(<BackupSummary result={{ ...result, anomalies: [] }} />);
    expect(view.lastFrame()).toContain('Backup complete');
    expect(view.lastFrame()).not.toContain('Anomaly');
    view.unmount();
  });
});
