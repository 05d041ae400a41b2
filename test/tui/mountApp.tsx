import { render } from 'ink-testing-library';
import { App } from '../../src/tui/App.js';
import type { FakeBackend } from './fakeBackend.js';

export const ENTER = '\r';
export const DOWN = '\u001B[B';
export const ESC = '\u001B';
export const CTRL_C = '\u0003';

/** One turn of the event loop: Ink handles what was written to its stdin (no fixed delay). */
const turn = () => new Promise((resolve) => setImmediate(resolve));

/** Waits for a condition (the backend's promises settle on their own time on a busy machine). */
async function until(check: () => boolean, what: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await turn();
  }
}

/** The TUI on a fake backend, with keys to press, the screen to read and the exit codes it reported. */
export function mountApp(backend: FakeBackend, initial: 'start' | 'backup' | 'restore' = 'start') {
  const exits: number[] = [];
  const view = render(<App backend={backend} initial={initial} onExit={(code) => exits.push(code)} />);
  // Each key is written once the screen has taken the previous one in: a new frame is drawn
  // (waited for, up to 2 s for a key that changes nothing on the screen). The turns before it
  // let React run the effects that attach a new screen's key handler (React's scheduler may
  // yield between them on a busy machine, so one turn is not always enough: a key was lost
  // once in 21 runs with both cores busy).
  const press = async (...keys: string[]) => {
    for (const key of keys) {
      for (let turns = 0; turns < 10; turns += 1) await turn();
      const drawn = view.frames.length;
      view.stdin.write(key);
      await until(
        () => view.frames.length > drawn,
        () => '',
        2_000,
      ).catch(() => undefined);
    }
  };
  const frame = () => view.lastFrame() ?? '';
  /** Waits until the screen shows the text (or matches the pattern). */
  const shows = (expected: string | RegExp) =>
    until(
      () => (typeof expected === 'string' ? frame().includes(expected) : expected.test(frame())),
      () => `${String(expected)} on the screen:\n${frame()}`,
    );
  const when = (check: () => boolean, what: string) => until(check, () => `${what}; the screen:\n${frame()}`);
  return { view, press, frame, shows, when, exits };
}
