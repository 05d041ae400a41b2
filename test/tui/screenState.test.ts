import { describe, expect, it } from 'vitest';
import { listedIndex } from '../../src/archive/fileIndex.js';
import type { ArchiveListing, RestorePreview } from '../../src/tui/backend.js';
import { initialState, previousScreen, reduceScreen, type ScreenState } from '../../src/tui/screenState.js';

const archive = { file: '/b/a.tar.gz', name: 'a.tar.gz' } as ArchiveListing;
const component = (name: string) => ({ name, title: name }) as RestorePreview['plans'][number]['component'];

function preview(failure?: string): RestorePreview {
  return {
    archive: {
      file: archive.file,
      name: archive.name,
      manifest: {
        schema: 'orkestra-backup/v1.1',
        createdAt: '2026-11-30T00:00:00Z',
        environment: 'prod',
        host: 'vm',
        components: ['redis'],
      },
      index: listedIndex([], { listed: true, checksums: true }),
      legacy: false,
      location: undefined as unknown as RestorePreview['archive']['location'],
    },
    plans: [{ component: component('redis'), ...(failure ? { failure } : { plan: { actions: [], replaces: [], warnings: [] } }) }],
  };
}

const checking = (dryRun: boolean): ScreenState => ({
  screen: { kind: 'restore-checking', archive, components: ['redis'], dryRun },
  exitCode: 0,
});

describe('moves between screens', () => {
  it('a dry run shows its report; a real restore goes to the gate; a failed precondition refuses with exit code 1', () => {
    expect(reduceScreen(checking(true), { type: 'preview-ready', preview: preview() }).screen.kind).toBe('restore-report');
    expect(reduceScreen(checking(false), { type: 'preview-ready', preview: preview() }).screen.kind).toBe('restore-gate');
    const refused = reduceScreen(checking(false), { type: 'preview-ready', preview: preview('redis is not running') });
    expect(refused).toMatchObject({
      exitCode: 1,
      screen: { kind: 'message', text: expect.stringContaining('redis: redis is not running') as unknown },
    });
  });

  it('only the exact word at the gate starts the restore; anything else, or Esc, ends with exit code 1 and nothing changed', () => {
    const gate: ScreenState = { screen: { kind: 'restore-gate', archive, components: ['redis'], preview: preview() }, exitCode: 0 };
    expect(reduceScreen(gate, { type: 'gate-answered', word: '  restore ' }).screen.kind).toBe('restore-running');
    const wrong = reduceScreen(gate, { type: 'gate-answered', word: 'Restore' });
    expect(wrong).toMatchObject({
      exitCode: 1,
      screen: { kind: 'message', text: '"Restore" is not "restore": the restore was not started. Nothing was changed.' },
    });
    expect(reduceScreen(gate, { type: 'gate-cancelled' })).toMatchObject({
      exitCode: 1,
      screen: { text: 'Restore not confirmed. Nothing was changed.' },
    });
  });

  it('a restore that stopped on a failure exits 1; a failure of any work shows its message and where to go back', () => {
    const running: ScreenState = { screen: { kind: 'restore-running', preview: preview() }, exitCode: 0 };
    const failed = { component: 'redis', message: 'boom' };
    expect(reduceScreen(running, { type: 'restore-finished', outcome: { restored: [], failed, notRestored: [] } }).exitCode).toBe(1);
    expect(reduceScreen(running, { type: 'restore-finished', outcome: { restored: [], notRestored: [] } }).exitCode).toBe(0);
    const back = { kind: 'restore-pick' } as const;
    expect(reduceScreen(initialState('start'), { type: 'work-failed', message: 'no Docker', back })).toEqual({
      exitCode: 1,
      screen: { kind: 'message', tone: 'error', text: 'no Docker', back },
    });
  });

  it('Esc walks back the way the operator came, and leaves from the first screen of where the interface opened', () => {
    expect(previousScreen({ kind: 'restore-mode', archive, components: ['redis'] }, 'start')).toEqual({
      kind: 'restore-components',
      archive,
    });
    expect(previousScreen({ kind: 'restore-components', archive }, 'start')).toEqual({ kind: 'restore-how', archive });
    expect(previousScreen({ kind: 'restore-how', archive }, 'start')).toEqual({ kind: 'restore-pick' });
    expect(previousScreen({ kind: 'restore-pick' }, 'start')).toEqual({ kind: 'start' });
    expect(previousScreen({ kind: 'restore-pick' }, 'restore')).toBeUndefined();
    expect(reduceScreen(initialState('backup'), { type: 'back', entry: 'backup' }).screen).toEqual({ kind: 'backup-select' });
  });
});
