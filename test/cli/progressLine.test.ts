import { describe, expect, it } from 'vitest';
import { createLineReporter } from '../../src/cli/reporter.js';
import { ComponentProgress } from '../../src/core/progress.js';
import type { RunEvent } from '../../src/core/events.js';

/** The progress line a terminal shows for one progress event. */
function progressLine(bytes: number, totalBytes: number | undefined): string {
  const written: string[] = [];
  const report = createLineReporter((text) => written.push(text), true);
  report({ type: 'component-progress', component: 'secrets', bytes, totalBytes, elapsedMs: 2_000 });
  return written.join('').replace('\r\x1b[2K', '');
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
