import { listedIndex } from '../../src/archive/fileIndex.js';
import { describeDrift } from '../../src/components/mongodb/keyDrift.js';
import { describe, expect, it } from 'vitest';
import type { RestorePreview, StatusView } from '../../src/tui/backend.js';
import { FakeBackend } from './fakeBackend.js';
import { CTRL_C, DOWN, ENTER, ESC, mountApp } from './mountApp.js';

/** A checked archive and plans as the core returns them, with the fields the screens read. */
function preview(failure?: string): RestorePreview {
  const component = (name: string) => ({ name, title: name }) as RestorePreview['plans'][number]['component'];
  return {
    archive: {
      file: '/srv/orkestra/backups/a.tar.gz',
      name: 'a.tar.gz',
      manifest: {
        schema: 'orkestra-backup/v1',
        createdAt: '2026-11-20T03:00:00Z',
        environment: 'prod',
        host: 'vm1',
        components: ['mongodb', 'secrets'],
      },
      index: listedIndex([], { listed: true, checksums: true }),
      legacy: false,
      // The screens never read the pinned descriptor; a restore through the fake backend does not either.
      location: undefined as unknown as RestorePreview['archive']['location'],
    },
    plans: [
      {
        component: component('mongodb'),
        plan: failure
          ? undefined
          : {
              actions: ['remapping database prod → orkestra'],
              replaces: ['orkestra-mongodb: 3 collections of database orkestra (dropped and restored)'],
              warnings: [],
            },
        failure,
      },
      {
        component: component('secrets'),
        plan: { actions: ['docker/.env: exists (would prompt / move aside)'], replaces: ['docker/.env'], warnings: [] },
      },
    ],
  };
}

describe('TUI start and backup screens', () => {
  it('start: choose backup or restore; q leaves with exit 0', async () => {
    const backend = new FakeBackend();
    const { press, exits, shows } = mountApp(backend);
    await shows('› Back up this deployment');
    await shows('Restore from an archive in ./backups/');
    await shows('↑/↓ or j/k move · enter choose · q quit');
    await press('q');
    expect(exits).toEqual([0]);
    expect(backend.calls).toEqual([]);
  });

  it('backup: availability with reasons and transports, toggling, confirmation, progress, summary', async () => {
    const backend = new FakeBackend();
    let release!: () => void;
    backend.backupImpl = async (onEvent) => {
      onEvent({ type: 'component-start', component: 'mongodb', phase: 'backup' });
      onEvent({ type: 'component-progress', component: 'mongodb', bytes: 5_000_000, elapsedMs: 2_000 });
      onEvent({ type: 'component-start', component: 'secrets', phase: 'backup' });
      onEvent({ type: 'component-progress', component: 'secrets', bytes: 512, totalBytes: 1024, elapsedMs: 100 });
      await new Promise<void>((resolve) => (release = resolve));
      return {
        archivePath: '/srv/orkestra/backups/x.tar.gz',
        archiveBytes: 2_000_000,
        elapsedMs: 3_000,
        components: ['mongodb', 'secrets'],
        skipped: [],
      };
    };
    backend.choices[0] = {
      ...backend.choices[0],
      detail: 'host tools (MONGO_URI)',
    };
    const { press, exits, shows } = mountApp(backend);
    await press(ENTER);
    await shows('[x] mongodb  MongoDB');
    expect(backend.methods()).toEqual(['componentChoices']);
    // Which way each component is reached, and why.
    await shows('[x] mongodb  MongoDB — host tools (MONGO_URI)');
    await shows('[-] redis    unavailable: container orkestra-redis is exited');
    await shows('[-] rustfs   unavailable: cannot reach the Docker engine');
    await shows('[x] secrets');
    await press('a'); // all off
    await shows('[ ] mongodb');
    await press(ENTER);
    await shows('Select at least one');
    await press('a', DOWN, DOWN, DOWN, ' '); // all on, then secrets off
    await shows('[ ] secrets');
    await press(ENTER);
    await shows('Back up now?');
    await shows('Components: mongodb');
    await shows('Left out: redis (container orkestra-redis is exited)');
    await press('y');
    expect(backend.calls.at(-1)).toEqual({ method: 'backup', args: [['mongodb']] });
    await shows(/mongodb\s+backing up… 5 MB, 2.0 s, 2.5 MB\/s/);
    await shows(/secrets\s+█{12}░{12} 50%\s+512 B of 1 kB/);
    release();
    await shows('Backup complete');
    await shows('Archive: /srv/orkestra/backups/x.tar.gz');
    await shows('Size: 2 MB · took 3.0 s');
    await shows('Skipped redis: container orkestra-redis is exited');
    await press(ENTER);
    expect(exits).toEqual([0]);
  });

  it('ctrl-c during a backup aborts the core work and leaves with exit 1', async () => {
    const backend = new FakeBackend();
    backend.backupImpl = (_onEvent, signal) =>
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
    const { press, exits, shows, when } = mountApp(backend, 'backup');
    await shows('[x] mongodb');
    await press(ENTER, 'y');
    await shows('Backing up');
    await press(CTRL_C);
    await when(() => exits.length > 0, 'the interface to exit');
    expect(backend.lastSignal?.aborted).toBe(true);
    expect(exits).toEqual([1]);
  });

  it('an error from the core is one short message, never a stack trace', async () => {
    const backend = new FakeBackend();
    backend.backupImpl = async () => {
      const { RuntimeError } = await import('../../src/base/errors.js');
      throw new RuntimeError('mongodump exited with code 1: Failed: server selection error.');
    };
    const { press, frame, shows } = mountApp(backend, 'backup');
    await shows('[x] mongodb');
    await press(ENTER, 'y');
    await shows('mongodump exited with code 1: Failed: server selection error.');
    expect(frame()).not.toMatch(/\s+at .*:\d+/);
    await shows('enter or esc back · q quit');
  });
});

describe('TUI restore screens', () => {
  const archives = [
    {
      file: '/b/new.tar.gz',
      name: 'new.tar.gz',
      bytes: 3_000_000_000,
      modifiedMs: 2,
      environment: 'prod',
      createdAt: '2026-11-20T03:00:00Z',
      components: ['mongodb', 'secrets'],
    },
    {
      file: '/b/old.tar.gz',
      name: 'old.tar.gz',
      bytes: 1_000,
      modifiedMs: 1,
      environment: 'staging',
      createdAt: '2026-10-01T03:00:00Z',
      components: ['secrets'],
    },
    { file: '/b/broken.tar.gz', name: 'broken.tar.gz', bytes: 10, modifiedMs: 3, problem: 'broken.tar.gz is not a .tar.gz archive.' },
    { file: '/b/sealed.tar.gz.age', name: 'sealed.tar.gz.age', bytes: 10, modifiedMs: 0, locked: 'sealed.tar.gz.age is encrypted (age).' },
  ];

  it('lists archives newest first with environment, time, size and components; an unreadable one is shown, not a crash', async () => {
    const backend = new FakeBackend();
    backend.archives = archives;
    const { frame, shows } = mountApp(backend, 'restore');
    await shows('old.tar.gz');
    const lines = frame().split('\n');
    expect(lines.findIndex((line) => line.includes('new.tar.gz'))).toBeLessThan(lines.findIndex((line) => line.includes('old.tar.gz')));
    await shows(/› 2026-11-20T03:00:00Z\s+prod\s+3 GB\s+mongodb, secrets\s+\(new\.tar\.gz\)/);
    await shows('broken.tar.gz  unreadable: broken.tar.gz is not a .tar.gz archive.');
    // An encrypted archive no configured identity opens: shown with what to do, not picked, not a crash.
    await shows('sealed.tar.gz.age  encrypted: set ORKESTRA_BACKUP_IDENTITY');
  });

  it('dry run: components from the manifest only, the full report, then back', async () => {
    const backend = new FakeBackend();
    backend.archives = archives;
    backend.previewImpl = async () => preview();
    const { frame, press, shows } = mountApp(backend, 'restore');
    await shows('new.tar.gz');
    await press(ENTER);
    await shows('Restore everything');
    await press(ENTER);
    await shows('[x] mongodb');
    await shows('[x] secrets');
    expect(frame()).not.toContain('redis');
    await press(' ', ENTER); // mongodb off
    await shows('Components: secrets');
    await press(ENTER); // dry run
    await shows('Dry run of a.tar.gz');
    expect(backend.calls.at(-1)).toEqual({ method: 'previewRestore', args: ['/b/new.tar.gz', ['secrets']] });
    await shows('Dry run of a.tar.gz — environment prod');
    await shows('docker/.env: exists (would prompt / move aside)');
    await shows('Nothing was changed.');
    await press(ENTER);
    await shows('› Dry run');
    expect(backend.methods()).not.toContain('restore');
  });

  it('the gate: a wrong word aborts with nothing changed and no restore call', async () => {
    const backend = new FakeBackend();
    backend.archives = archives;
    backend.previewImpl = async () => preview();
    const { press, exits, shows } = mountApp(backend, 'restore');
    await shows('new.tar.gz');
    await press(ENTER, ENTER, ENTER, DOWN, ENTER);
    await shows('Restoring from new.tar.gz will replace:');
    await shows('mongodb: orkestra-mongodb: 3 collections of database orkestra (dropped and restored)');
    await shows('secrets: docker/.env');
    await press('RESTORE', ENTER);
    await shows('"RESTORE" is not "restore": the restore was not started. Nothing was changed.');
    expect(backend.methods()).not.toContain('restore');
    await press('q');
    expect(exits).toEqual([1]);
  });

  it('typing restore runs it (also as one burst with its Enter); an overwrite question is answered in the interface; the summary follows', async () => {
    const backend = new FakeBackend();
    backend.archives = archives;
    backend.previewImpl = async () => preview();
    let answer: boolean | undefined;
    backend.restoreImpl = async (overwrite, onEvent) => {
      onEvent({ type: 'component-start', component: 'secrets', phase: 'restore' });
      if (overwrite.mode === 'ask') answer = await overwrite.confirm('docker/.env exists and differs from the backup. Replace it?');
      onEvent({ type: 'component-done', component: 'secrets', phase: 'restore', bytes: 10, elapsedMs: 5, summary: '1 written' });
      return {
        restored: [
          { component: 'mongodb', summary: '12 documents into orkestra' },
          { component: 'secrets', summary: '1 written' },
        ],
        notRestored: [],
      };
    };
    const { press, shows } = mountApp(backend, 'restore');
    await shows('new.tar.gz');
    await press(ENTER, ENTER, ENTER, DOWN, ENTER);
    await shows('Type "restore" to continue');
    await press(`restore${ENTER}`); // the word and the Enter in one burst, as a paste or a fast typist sends them
    await shows('Replace it?');
    expect(backend.methods().at(-1)).toBe('restore');
    await shows('docker/.env exists and differs from the backup. Replace it?');
    await press('y');
    await shows('Restore complete');
    expect(answer).toBe(true);
    await shows('Restore complete');
    await shows('✔ mongodb: 12 documents into orkestra');
  });

  it('key drift: the dry-run report shows the refusal, and an accepted drift is a warning at the gate', async () => {
    const drift = describeDrift([{ name: 'OAUTH_TOKEN_ENCRYPTION_KEY', change: 'differs' }]);
    const backend = new FakeBackend();
    backend.archives = archives;
    backend.previewImpl = async () => preview(`${drift}. Restore the secrets of the same backup too`);
    const refused = mountApp(backend, 'restore');
    await refused.shows('new.tar.gz');
    await refused.press(ENTER, ENTER, ENTER, ENTER); // dry run
    await refused.shows(
      /FAILED: docker\/\.env holds other encryption keys than when this backup was made:\s+OAUTH_TOKEN_ENCRYPTION_KEY \(differs\)/,
    );
    const accepted = preview();
    accepted.plans[0] = { ...accepted.plans[0], plan: { ...accepted.plans[0].plan!, warnings: [`${drift} (accepted)`] } };
    backend.previewImpl = async () => accepted;
    const gate = mountApp(backend, 'restore');
    await gate.shows('new.tar.gz');
    await gate.press(ENTER, ENTER, ENTER, DOWN, ENTER);
    await gate.shows('Type "restore" to continue');
    await gate.shows(
      /warning: docker\/\.env holds other encryption keys than when this backup was made:\s+OAUTH_TOKEN_ENCRYPTION_KEY \(differs\)/,
    );
  });

  it('a failed precondition refuses the real restore before the gate', async () => {
    const backend = new FakeBackend();
    backend.archives = archives;
    backend.previewImpl = async () => preview('container orkestra-mongodb is exited, not running.');
    const { frame, press, shows } = mountApp(backend, 'restore');
    await shows('new.tar.gz');
    await press(ENTER, ENTER, ENTER, DOWN, ENTER);
    await shows('Restore refused, nothing was changed:');
    await shows('mongodb: container orkestra-mongodb is exited, not running.');
    expect(frame()).not.toContain('Type "restore"');
  });

  it('esc walks back through the screens and leaves from the first', async () => {
    const backend = new FakeBackend();
    backend.archives = archives;
    const { press, exits, shows } = mountApp(backend);
    await press(DOWN, ENTER);
    await shows('new.tar.gz');
    await press(ENTER, ENTER);
    await shows('choose components');
    await press(ESC);
    await shows('Pick what to restore');
    await press(ESC);
    await shows('Restore — choose an archive');
    await press(ESC);
    await shows('Back up this deployment');
    await press(ESC);
    expect(exits).toEqual([0]);
  });
});

describe('TUI drill screen', () => {
  const listed = {
    file: '/b/nightly.tar.gz',
    name: 'nightly.tar.gz',
    bytes: 4_000,
    modifiedMs: 2,
    environment: 'prod',
    createdAt: '2026-11-30T03:00:00Z',
    components: ['redis', 'rustfs'],
  };
  const report = (ok: boolean) => ({
    id: 'ab12cd34',
    archive: 'nightly.tar.gz',
    createdAt: '2026-11-30T03:00:00Z',
    components: [
      {
        name: 'redis',
        restored: '8 keys loaded',
        checks: [{ name: 'key count equals the archived RDB', ok: true, expected: '8 keys', measured: '8 keys' }],
      },
      {
        name: 'rustfs',
        restored: '2 objects uploaded',
        checks: [{ name: 'site logo', canary: 'site logo', ok, expected: 'avatars/logo.png', measured: ok ? '4 B' : 'no such object' }],
      },
    ],
    unmatchedCanaries: [],
    notDrilled: [],
    phases: [{ name: 'restore', ms: 1_200 }],
    ok,
  });

  it('start → Drill → archive: the drill runs with progress, then its report; a failed canary is named and exits 1', async () => {
    const backend = new FakeBackend();
    backend.archives = [listed];
    let finish!: () => void;
    backend.drillImpl = (onEvent) => {
      onEvent({ type: 'component-start', component: 'redis', phase: 'start' });
      return new Promise((resolve) => (finish = () => resolve(report(false))));
    };
    const { press, shows, exits, when } = mountApp(backend);
    await shows('Drill: prove an archive restores, on throwaway containers');
    await press(DOWN, DOWN, ENTER);
    await shows('Drill — choose the archive to restore into throwaway containers');
    await shows('nightly.tar.gz');
    await press(ENTER);
    await shows('Drill of nightly.tar.gz: throwaway containers, restore, checks');
    await shows('redis');
    expect(backend.calls.at(-1)).toEqual({ method: 'drill', args: ['/b/nightly.tar.gz'] });
    await when(() => finish !== undefined, 'the drill to start');
    finish();
    await shows('Drill FAILED');
    await shows('PASS  key count equals the archived RDB — expected 8 keys; measured 8 keys');
    await shows('FAIL  canary "site logo" — expected avatars/logo.png; measured no such object');
    await shows('Drill FAILED: rustfs: site logo.');
    await press(ENTER);
    expect(exits).toEqual([1]);
  });

  it('a drill that passes says so and leaves with exit 0', async () => {
    const backend = new FakeBackend();
    backend.archives = [listed];
    backend.drillImpl = async () => report(true);
    const { press, shows, exits } = mountApp(backend);
    await press(DOWN, DOWN, ENTER);
    await shows('nightly.tar.gz');
    await press(ENTER);
    await shows('Drill PASSED: the archive restores; 2 checks passed.');
    await press(ENTER);
    expect(exits).toEqual([0]);
  });
});

describe('TUI status screen', () => {
  const view: StatusView = {
    status: {
      environment: 'prod',
      checkedAt: '2026-12-05T06:00:00.000Z',
      maxAgeHours: 26,
      destinations: [{ destination: 'local', where: '/srv/orkestra/backups', soundArchives: 2 }],
      components: [
        {
          name: 'redis',
          newest: {
            local: {
              archive: 'orkestra-backup-prod-20261204-030000.tar.gz',
              location: '/srv/orkestra/backups/orkestra-backup-prod-20261204-030000.tar.gz',
              createdAt: '2026-12-04T03:00:00Z',
              ageSeconds: 97_200,
              bytes: 2_048,
              archiveBytes: 4_096,
              backupSeconds: 1.5,
              vouchedBy: 'manifest',
            },
          },
        },
      ],
      lastDrill: {
        at: '2026-12-04T04:00:00Z',
        archive: '/srv/orkestra/backups/orkestra-backup-prod-20261204-030000.tar.gz',
        ok: false,
        restoreSeconds: { redis: 2.5 },
      },
      keyDrift: { state: 'match', archive: 'orkestra-backup-prod-20261204-030000.tar.gz', keys: [] },
      openAnomalies: [],
      unreadableHistoryLines: 0,
      reasons: [
        'redis: the newest sound backup in the local folder (orkestra-backup-prod-20261204-030000.tar.gz) is 27.0 h old, more than health.maxAgeHours (26)',
      ],
    },
    runs: [
      {
        version: 1,
        command: 'backup',
        startedAt: '2026-12-04T03:00:00Z',
        endedAt: '2026-12-04T03:00:02Z',
        result: 'success',
        exitCode: 0,
        environment: 'prod',
        host: 'vm1',
        archives: [{ location: '/srv/orkestra/backups/orkestra-backup-prod-20261204-030000.tar.gz' }],
      },
      {
        version: 1,
        command: 'drill',
        startedAt: '2026-12-04T03:59:00Z',
        endedAt: '2026-12-04T04:00:00Z',
        result: 'failure',
        exitCode: 1,
        environment: 'prod',
        host: 'vm1',
        error: 'rustfs: site logo',
      },
    ],
  };

  it('start → Status: the table, the drill, the reasons and the last runs newest first; esc returns to the start, q leaves with 0', async () => {
    const backend = new FakeBackend();
    backend.statusImpl = async () => view;
    const { press, shows, frame, exits } = mountApp(backend);
    await shows('Status: the health of the backups, and the last runs');
    await press(DOWN, DOWN, DOWN, ENTER);
    await shows('Status — backups of environment prod');
    expect(backend.methods()).toEqual(['status']);
    await shows(/redis\s+local\s+orkestra-backup-prod-20261204-030000\.tar\.gz\s+27\.0 h STALE\s+2 kB\s+1\.5 s\s+2\.5 s/);
    await shows('Last drill: FAILED of orkestra-backup-prod-20261204-030000.tar.gz at 2026-12-04T04:00:00Z');
    await shows('UNHEALTHY: redis: the newest sound backup in the local folder');
    await shows('Last runs, newest first:');
    const lines = frame().split('\n');
    const drill = lines.findIndex((line) => line.includes('2026-12-04T04:00:00Z  drill    FAILED (exit 1): rustfs: site logo'));
    const backup = lines.findIndex((line) =>
      line.includes('2026-12-04T03:00:02Z  backup   success  orkestra-backup-prod-20261204-030000.tar.gz'),
    );
    expect(drill).toBeGreaterThan(-1);
    expect(backup).toBeGreaterThan(drill);
    await press(ESC);
    await shows('› Back up this deployment');
    await press('q');
    expect(exits).toEqual([0]);
  });

  it('a status that cannot be taken is one line, and enter returns to the start', async () => {
    const backend = new FakeBackend();
    backend.statusImpl = async () => {
      throw new Error('orkestra-backup.json: health.maxAgeHours: Too small');
    };
    const { press, shows } = mountApp(backend);
    await press(DOWN, DOWN, DOWN, ENTER);
    await shows('orkestra-backup.json: health.maxAgeHours: Too small');
    await press(ENTER);
    await shows('› Back up this deployment');
  });
});
