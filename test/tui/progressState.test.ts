import { describe, expect, it } from 'vitest';
import type { Phase, PlannedWork, RunEvent } from '../../src/model/events.js';
import { overallFigures } from '../../src/model/overallProgress.js';
import { ComponentProgress } from '../../src/model/progress.js';
import { EMPTY_PROGRESS, reduceProgress } from '../../src/tui/progressState.js';

describe('progress state', () => {
  it('follows a component from start to done, keeping its last notes', () => {
    let state = reduceProgress(EMPTY_PROGRESS, { type: 'component-start', component: 'redis', phase: 'backup' });
    for (const message of ['a', 'b', 'c', 'd']) state = reduceProgress(state, { type: 'component-note', component: 'redis', message });
    state = reduceProgress(state, { type: 'component-progress', component: 'redis', bytes: 50, totalBytes: 100, elapsedMs: 10 });
    expect(state.rows[0]).toMatchObject({ status: 'running', bytes: 50, totalBytes: 100, notes: ['b', 'c', 'd'] });
    state = reduceProgress(state, {
      type: 'component-done',
      component: 'redis',
      phase: 'backup',
      bytes: 100,
      elapsedMs: 20,
      summary: '3 keys',
    });
    expect(state.rows[0]).toMatchObject({ status: 'done', bytes: 100, summary: '3 keys' });
  });

  it('keeps one row per component and records failures', () => {
    let state = reduceProgress(EMPTY_PROGRESS, { type: 'component-start', component: 'a', phase: 'restore' });
    state = reduceProgress(state, { type: 'component-start', component: 'b', phase: 'restore' });
    state = reduceProgress(state, { type: 'component-failed', component: 'a', phase: 'restore', message: 'boom' });
    expect(state.rows.map((row) => [row.component, row.status, row.message])).toEqual([
      ['a', 'failed', 'boom'],
      ['b', 'running', undefined],
    ]);
    expect(reduceProgress(state, { type: 'reset' })).toEqual(EMPTY_PROGRESS);
  });

  it('drops an estimate the bytes done have passed, so the bar never shows a fraction over 100 %', () => {
    let state = EMPTY_PROGRESS;
    const progress = new ComponentProgress('secrets', 'backup', (event) => {
      state = reduceProgress(state, event);
    });
    progress.expect(31);
    progress.advance(31);
    progress.expect(31);
    expect(state.rows[0]).toMatchObject({ bytes: 31, totalBytes: 31 });
    progress.advance(1254);
    progress.expect(31);
    expect(state.rows[0].bytes).toBe(1285);
    expect(state.rows[0].totalBytes).toBeUndefined();
  });
});

/** Feeds events through the TUI's reducer and reads the overall figures at `elapsedMs`. */
function overallAfter(events: RunEvent[], elapsedMs = 0) {
  const state = events.reduce(reduceProgress, EMPTY_PROGRESS);
  return overallFigures(state.overall, elapsedMs);
}

const planned = (work: PlannedWork[]): RunEvent => ({ type: 'work-planned', work });
const start = (component: string, phase: Phase = 'backup'): RunEvent => ({ type: 'component-start', component, phase });
const moved = (component: string, bytes: number, totalBytes?: number): RunEvent => ({
  type: 'component-progress',
  component,
  bytes,
  totalBytes,
  elapsedMs: 0,
});
const done = (component: string, bytes: number, phase: Phase = 'backup'): RunEvent => ({
  type: 'component-done',
  component,
  phase,
  bytes,
  elapsedMs: 0,
});

describe('overall progress', () => {
  it('says "estimating" until one size is known, then counts bytes against the sum of the sizes known', () => {
    const backup = [
      planned([
        { component: 'redis', phase: 'backup' },
        { component: 'rustfs', phase: 'backup' },
      ]),
      start('redis'),
    ];
    expect(overallAfter(backup)).toEqual({ bytes: 0, unsized: 2, finished: false });
    expect(overallAfter([...backup, moved('redis', 250, 1000)])).toMatchObject({ bytes: 250, totalBytes: 1000, percent: 25, unsized: 1 });
    expect(reduceProgress(EMPTY_PROGRESS, planned([{ component: 'redis', phase: 'backup' }])).rows).toEqual([]);
  });

  it('grows its total as estimates arrive, never past 100 %, and reaches 100 % only once every part is done', () => {
    const events: RunEvent[] = [
      planned([
        { component: 'secrets', phase: 'backup' },
        { component: 'redis', phase: 'backup' },
      ]),
    ];
    events.push(start('secrets'), moved('secrets', 0, 40), done('secrets', 40));
    expect(overallAfter(events)).toMatchObject({ bytes: 40, totalBytes: 40, percent: 99, finished: false });
    events.push(start('redis'), moved('redis', 10, 960));
    expect(overallAfter(events)).toMatchObject({ bytes: 50, totalBytes: 1000, percent: 5 });
    // The RDB outgrew its estimate: the total follows the bytes done, the bar stays under 100 %.
    events.push(moved('redis', 2000), moved('redis', 5000));
    expect(overallAfter(events)).toMatchObject({ bytes: 5040, totalBytes: 5040, percent: 99 });
    events.push(done('redis', 5000));
    expect(overallAfter(events)).toMatchObject({ bytes: 5040, totalBytes: 5040, percent: 100, finished: true, etaMs: undefined });
  });

  it('for a restore, knows the total from the archive index before the first byte, and counts the check and restore phases only', () => {
    const events: RunEvent[] = [
      planned([
        { component: 'archive', phase: 'check', bytes: 3000 },
        { component: 'mongodb', phase: 'restore', bytes: 1000 },
        { component: 'redis', phase: 'restore', bytes: 2000 },
      ]),
    ];
    expect(overallAfter(events)).toMatchObject({ bytes: 0, totalBytes: 6000, percent: 0, unsized: 0 });
    events.push(start('archive', 'check'), moved('archive', 3000, 3000), done('archive', 3000, 'check'));
    // Planning and proving read the archive too, but are not part of the total.
    events.push(start('mongodb', 'plan'), moved('mongodb', 700), done('mongodb', 700, 'plan'));
    expect(overallAfter(events)).toMatchObject({ bytes: 3000, totalBytes: 6000, percent: 50 });
    events.push(start('mongodb', 'restore'), moved('mongodb', 500));
    expect(overallAfter(events)).toMatchObject({ bytes: 3500, totalBytes: 6000, percent: 58 });
    // A component restoring fewer bytes than its files (unchanged ones skipped) ends the bar at 100 % all the same.
    events.push(done('mongodb', 900, 'restore'), start('redis', 'restore'), done('redis', 1500, 'restore'));
    events.push(start('redis', 'prove'), moved('redis', 9999), done('redis', 9999, 'prove'));
    expect(overallAfter(events)).toMatchObject({ bytes: 5400, totalBytes: 5400, percent: 100, finished: true });
  });

  it('counts a second archive check (the secrets archive of a split backup) beside the first', () => {
    const check = (bytes: number): RunEvent[] => [
      start('archive', 'check'),
      moved('archive', bytes, bytes),
      done('archive', bytes, 'check'),
    ];
    const events = [...check(3000), ...check(100), planned([{ component: 'secrets', phase: 'restore', bytes: 100 }])];
    expect(overallAfter(events)).toMatchObject({ bytes: 3100, totalBytes: 3200, percent: 96 });
    events.push(start('secrets', 'restore'), done('secrets', 100, 'restore'));
    expect(overallAfter(events)).toMatchObject({ bytes: 3200, totalBytes: 3200, percent: 100, finished: true });
  });

  it('gives an ETA from the bytes per second so far, only once every part is sized and two seconds have passed', () => {
    const events: RunEvent[] = [
      planned([
        { component: 'mongodb', phase: 'restore', bytes: 1000 },
        { component: 'rustfs', phase: 'restore' },
      ]),
      start('mongodb', 'restore'),
      moved('mongodb', 250),
    ];
    expect(overallAfter(events, 10_000)?.etaMs).toBeUndefined(); // rustfs not sized yet
    events.push(done('mongodb', 1000, 'restore'), start('rustfs', 'restore'), moved('rustfs', 0, 3000));
    expect(overallAfter(events, 1_000)?.etaMs).toBeUndefined(); // too early to measure a rate
    // 1,000 of 4,000 bytes in 4 s: 3,000 bytes to go take 12 s more.
    expect(overallAfter(events, 4_000)).toMatchObject({ percent: 25, etaMs: 12_000 });
  });

  it('stays under 100 % after a failure, without an ETA', () => {
    const events: RunEvent[] = [planned([{ component: 'secrets', phase: 'restore', bytes: 100 }]), start('secrets', 'restore')];
    events.push(moved('secrets', 100), { type: 'component-failed', component: 'secrets', phase: 'restore', message: 'disk full' });
    expect(overallAfter(events, 5_000)).toMatchObject({ bytes: 100, percent: 99, finished: false, etaMs: undefined });
  });
});
