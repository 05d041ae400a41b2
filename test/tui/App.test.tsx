import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import type { RestorePreview } from '../../src/tui/backend.js';
import { App } from '../../src/tui/App.js';
import { FakeBackend } from './fakeBackend.js';

const ENTER = '\r';
const DOWN = '\u001B[B';
const ESC = '\u001B';
const CTRL_C = '\u0003';

const tick = (ms = 30) => new Promise((resolve) => setTimeout(resolve, ms));

function mount(backend: FakeBackend, initial: 'start' | 'backup' | 'restore' = 'start') {
  const exits: number[] = [];
  const view = render(<App backend={backend} initial={initial} onExit={(code) => exits.push(code)} />);
  const press = async (...keys: string[]) => {
    for (const key of keys) {
      view.stdin.write(key);
      await tick();
    }
  };
  const frame = () => view.lastFrame() ?? '';
  return { view, press, frame, exits };
}

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
      files: [],
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
    const { frame, press, exits } = mount(backend);
    expect(frame()).toContain('› Back up this deployment');
    expect(frame()).toContain('Restore from an archive in ./backups/');
    expect(frame()).toContain('↑/↓ or j/k move · enter choose · q quit');
    await press('q');
    expect(exits).toEqual([0]);
    expect(backend.calls).toEqual([]);
  });

  it('backup: availability with reasons, toggling, confirmation, progress, summary', async () => {
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
    const { frame, press, exits } = mount(backend);
    await press(ENTER);
    await tick(50);
    expect(backend.methods()).toEqual(['componentChoices']);
    expect(frame()).toContain('[x] mongodb  MongoDB');
    expect(frame()).toContain('[-] redis    unavailable: container orkestra-redis is exited');
    expect(frame()).toContain('[-] rustfs   unavailable: cannot reach the Docker engine');
    expect(frame()).toContain('[x] secrets');
    await press('a'); // all off
    expect(frame()).toContain('[ ] mongodb');
    await press(ENTER);
    expect(frame()).toContain('Select at least one');
    await press('a', DOWN, DOWN, DOWN, ' '); // all on, then secrets off
    expect(frame()).toContain('[ ] secrets');
    await press(ENTER);
    expect(frame()).toContain('Back up now?');
    expect(frame()).toContain('Components: mongodb');
    expect(frame()).toContain('Left out: redis (container orkestra-redis is exited)');
    await press('y');
    expect(backend.calls.at(-1)).toEqual({ method: 'backup', args: [['mongodb']] });
    expect(frame()).toMatch(/mongodb\s+backing up… 5 MB, 2.0 s, 2.5 MB\/s/);
    expect(frame()).toMatch(/secrets\s+█{12}░{12} 50%\s+512 B of 1 kB/);
    release();
    await tick(50);
    expect(frame()).toContain('Backup complete');
    expect(frame()).toContain('Archive: /srv/orkestra/backups/x.tar.gz');
    expect(frame()).toContain('Size: 2 MB · took 3.0 s');
    expect(frame()).toContain('Skipped redis: container orkestra-redis is exited');
    await press(ENTER);
    expect(exits).toEqual([0]);
  });

  it('ctrl-c during a backup aborts the core work and leaves with exit 1', async () => {
    const backend = new FakeBackend();
    backend.backupImpl = (_onEvent, signal) =>
      new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
    const { press, exits, frame } = mount(backend, 'backup');
    await tick(50);
    await press(ENTER, 'y');
    expect(frame()).toContain('Backing up');
    await press(CTRL_C);
    await tick(50);
    expect(backend.lastSignal?.aborted).toBe(true);
    expect(exits).toEqual([1]);
  });

  it('an error from the core is one short message, never a stack trace', async () => {
    const backend = new FakeBackend();
    backend.backupImpl = async () => {
      const { RuntimeError } = await import('../../src/core/errors.js');
      throw new RuntimeError('mongodump exited with code 1: Failed: server selection error.');
    };
    const { press, frame } = mount(backend, 'backup');
    await tick(50);
    await press(ENTER, 'y');
    await tick(50);
    expect(frame()).toContain('mongodump exited with code 1: Failed: server selection error.');
    expect(frame()).not.toMatch(/\s+at .*:\d+/);
    expect(frame()).toContain('enter or esc back · q quit');
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
  ];

  it('lists archives newest first with environment, time, size and components; an unreadable one is shown, not a crash', async () => {
    const backend = new FakeBackend();
    backend.archives = archives;
    const { frame } = mount(backend, 'restore');
    await tick(50);
    const lines = frame().split('\n');
    expect(lines.findIndex((line) => line.includes('new.tar.gz'))).toBeLessThan(lines.findIndex((line) => line.includes('old.tar.gz')));
    expect(frame()).toMatch(/› 2026-11-20T03:00:00Z\s+prod\s+3 GB\s+mongodb, secrets\s+\(new\.tar\.gz\)/);
    expect(frame()).toContain('broken.tar.gz  unreadable: broken.tar.gz is not a .tar.gz archive.');
  });

  it('dry run: components from the manifest only, the full report, then back', async () => {
    const backend = new FakeBackend();
    backend.archives = archives;
    backend.previewImpl = async () => preview();
    const { frame, press } = mount(backend, 'restore');
    await tick(50);
    await press(ENTER);
    expect(frame()).toContain('[x] mongodb');
    expect(frame()).toContain('[x] secrets');
    expect(frame()).not.toContain('redis');
    await press(' ', ENTER); // mongodb off
    expect(frame()).toContain('Components: secrets');
    await press(ENTER); // dry run
    await tick(50);
    expect(backend.calls.at(-1)).toEqual({ method: 'previewRestore', args: ['/b/new.tar.gz', ['secrets']] });
    expect(frame()).toContain('Dry run of a.tar.gz — environment prod');
    expect(frame()).toContain('docker/.env: exists (would prompt / move aside)');
    expect(frame()).toContain('Nothing was changed.');
    await press(ENTER);
    expect(frame()).toContain('› Dry run');
    expect(backend.methods()).not.toContain('restore');
  });

  it('the gate: a wrong word aborts with nothing changed and no restore call', async () => {
    const backend = new FakeBackend();
    backend.archives = archives;
    backend.previewImpl = async () => preview();
    const { frame, press, exits } = mount(backend, 'restore');
    await tick(50);
    await press(ENTER, ENTER, DOWN, ENTER);
    await tick(50);
    expect(frame()).toContain('Restoring from new.tar.gz will replace:');
    expect(frame()).toContain('mongodb: orkestra-mongodb: 3 collections of database orkestra (dropped and restored)');
    expect(frame()).toContain('secrets: docker/.env');
    await press('RESTORE', ENTER);
    expect(frame()).toContain('"RESTORE" is not "restore": the restore was not started. Nothing was changed.');
    expect(backend.methods()).not.toContain('restore');
    await press('q');
    expect(exits).toEqual([1]);
  });

  it('typing restore runs it; an overwrite question is answered in the interface; the summary follows', async () => {
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
    const { frame, press } = mount(backend, 'restore');
    await tick(50);
    await press(ENTER, ENTER, DOWN, ENTER);
    await tick(50);
    await press('restore', ENTER);
    await tick(50);
    expect(backend.methods().at(-1)).toBe('restore');
    expect(frame()).toContain('docker/.env exists and differs from the backup. Replace it?');
    await press('y');
    await tick(50);
    expect(answer).toBe(true);
    expect(frame()).toContain('Restore complete');
    expect(frame()).toContain('✔ mongodb: 12 documents into orkestra');
  });

  it('a failed precondition refuses the real restore before the gate', async () => {
    const backend = new FakeBackend();
    backend.archives = archives;
    backend.previewImpl = async () => preview('container orkestra-mongodb is exited, not running.');
    const { frame, press } = mount(backend, 'restore');
    await tick(50);
    await press(ENTER, ENTER, DOWN, ENTER);
    await tick(50);
    expect(frame()).toContain('Restore refused, nothing was changed:');
    expect(frame()).toContain('mongodb: container orkestra-mongodb is exited, not running.');
    expect(frame()).not.toContain('Type "restore"');
  });

  it('esc walks back through the screens and leaves from the first', async () => {
    const backend = new FakeBackend();
    backend.archives = archives;
    const { frame, press, exits } = mount(backend);
    await press(DOWN, ENTER);
    await tick(50);
    await press(ENTER);
    expect(frame()).toContain('choose components');
    await press(ESC);
    expect(frame()).toContain('Restore — choose an archive');
    await press(ESC);
    expect(frame()).toContain('Back up this deployment');
    await press(ESC);
    expect(exits).toEqual([0]);
  });
});
