import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLineReporter } from '../../src/cli/reporter.js';
import { ComponentProgress } from '../../src/model/progress.js';
import type { RunEvent } from '../../src/model/events.js';

afterEach(() => {
  vi.useRealTimers();
});

/**
 * The progress line a terminal shows once a component that expected `totalBytes` has moved
 * `bytes` in 2 s: the events come from ComponentProgress, as every component's do.
 */
function progressLine(bytes: number, totalBytes: number): string {
  vi.useFakeTimers({ now: 0 });
  const written: string[] = [];
  const progress = new ComponentProgress(
    'secrets',
    'backup',
    createLineReporter((text) => written.push(text), true),
  );
  vi.setSystemTime(2_000);
  progress.expect(totalBytes);
  progress.advance(bytes);
  return written.join('').split('\r\x1b[2K').pop()!;
}

describe('progress lines when the size estimate is wrong', () => {
  it('within the estimate: the bytes done, of the estimate, with the percentage', () => {
    expect(progressLine(500, 2_000)).toBe('secrets: 500 B of 2 kB (25%), 250 B/s, 2.0 s');
  });

  it('past the estimate: the bytes done alone, never a fraction or a percentage over 100 %', () => {
    const line = progressLine(1_285, 31);
    expect(line).toBe('secrets: 1.2 kB, 642.5 B/s, 2.0 s');
    expect(line).not.toMatch(/ of |%/);
  });

  it('a component that moves more than it expected reports no estimate from then on', () => {
    const events: RunEvent[] = [];
    const progress = new ComponentProgress('secrets', 'backup', (event) => events.push(event));
    progress.expect(31);
    progress.advance(1_285);
    progress.expect(31);
    const reported = events.filter((event) => event.type === 'component-progress');
    expect(reported.map((event) => event.totalBytes)).toEqual([31, undefined, undefined]);
  });
});
