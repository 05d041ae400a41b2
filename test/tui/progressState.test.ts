import { describe, expect, it } from 'vitest';
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
