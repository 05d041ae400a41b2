import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLineReporter } from '../../src/cli/reporter.js';
import type { RunEvent } from '../../src/model/events.js';

afterEach(() => {
  vi.useRealTimers();
});

/** What the line reporter writes for these events, on a terminal or in a log. */
function reported(events: RunEvent[], isTTY: boolean): string {
  const written: string[] = [];
  const report = createLineReporter((text) => written.push(text), isTTY);
  events.forEach(report);
  return written.join('');
}

const restore: RunEvent[] = [
  {
    type: 'work-planned',
    work: [
      { component: 'redis', phase: 'restore', bytes: 3_000_000 },
      { component: 'secrets', phase: 'restore', bytes: 1_000_000 },
    ],
  },
  { type: 'component-start', component: 'redis', phase: 'restore' },
  { type: 'component-progress', component: 'redis', bytes: 1_000_000, elapsedMs: 1_000 },
];

describe('the overall figure on the line reporter', () => {
  it('ends the progress line of a run of several parts with the overall percentage and total', () => {
    expect(reported(restore, true).split('\r\x1b[2K').pop()).toBe('redis: 1 MB, 1 MB/s, 1.0 s · overall 25% of 4 MB');
  });

  it('in a log, rides on the progress line written every ten seconds: no carriage return, no extra line', () => {
    vi.useFakeTimers({ now: 0 });
    const written: string[] = [];
    const report = createLineReporter((text) => written.push(text), false);
    restore.forEach(report);
    vi.setSystemTime(10_000);
    report({ type: 'component-progress', component: 'redis', bytes: 2_000_000, elapsedMs: 10_000 });
    expect(written.join('')).toBe('redis: restoring\nredis: 2 MB, 200 kB/s, 10 s · overall 50% of 4 MB\n');
  });

  it('is left out when the run has one part: the component line says it all', () => {
    const one = reported(
      [{ type: 'work-planned', work: [{ component: 'redis', phase: 'restore', bytes: 3_000_000 }] }, ...restore.slice(1)],
      true,
    );
    expect(one).not.toContain('overall');
  });
});
