import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/model/events.js';
import { EMPTY_PROGRESS, reduceProgress } from '../../src/tui/progressState.js';
import { WorkingScreen } from '../../src/tui/screens/WorkingScreen.js';
import { overallLine } from '../../src/tui/widgets/OverallBar.js';

const views: { unmount: () => void }[] = [];
afterEach(() => views.splice(0).forEach((view) => view.unmount()));

function working(events: RunEvent[]) {
  const view = render(<WorkingScreen title="Backing up" progress={events.reduce(reduceProgress, EMPTY_PROGRESS)} />);
  views.push(view);
  return view;
}

async function until(check: () => boolean, what: () => string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the overall line of the working screen', () => {
  it('sits above the rows, says "estimating" until a size is known, and its clock ticks while no byte moves', async () => {
    const view = working([
      { type: 'work-planned', work: [{ component: 'mongodb', phase: 'backup' }] },
      { type: 'component-start', component: 'mongodb', phase: 'backup' },
      { type: 'component-progress', component: 'mongodb', bytes: 5_000_000, elapsedMs: 2_000 },
    ]);
    const frame = () => view.lastFrame() ?? '';
    expect(frame()).toMatch(/Backing up\n\n {2}Overall {2}estimating the total… 5 MB so far, 0\.\d s\n.*mongodb\s+backing up… 5 MB/);
    // No event comes: the clock moves all the same.
    await until(
      () => /so far, (0\.[5-9]|[1-9]\.\d) s/.test(frame()),
      () => `the elapsed time to pass 0.5 s:\n${frame()}`,
    );
  });

  it('reads "of ≥" while a part is unsized, and gives an ETA once all are sized', () => {
    const figures = { bytes: 250_000_000, totalBytes: 1_000_000_000, unsized: 1, percent: 25, finished: false };
    expect(overallLine(figures, 20_000)).toBe(`${'█'.repeat(6)}${'░'.repeat(18)} 25%  250 MB of ≥1 GB, 20 s`);
    expect(overallLine({ ...figures, unsized: 0, etaMs: 60_000 }, 20_000)).toBe(
      `${'█'.repeat(6)}${'░'.repeat(18)} 25%  250 MB of 1 GB, 20 s, ETA 1 min 00 s`,
    );
    expect(overallLine({ ...figures, bytes: 1_000_000_000, unsized: 0, percent: 100, finished: true })).toBe(
      `${'█'.repeat(24)} 100%  1 GB of 1 GB`,
    );
  });
});
