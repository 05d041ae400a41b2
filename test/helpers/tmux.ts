import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { BINARY } from './cli.js';

export const hasTmux = (() => {
  try {
    execFileSync('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
})();

/**
 * The real binary in a real pseudo-terminal: a private tmux server runs it, keys are typed one
 * at a time like a person would, and the screen is read back as text.
 */
export class TerminalSession {
  private readonly socket = `okb-${randomBytes(4).toString('hex')}`;

  constructor(cwd: string, args: string[], env: Record<string, string> = {}) {
    const exports = Object.entries(env)
      .map(([key, value]) => `export ${key}='${value}';`)
      .join(' ');
    // The terminal state is saved before EXIT= shows: a test that sees EXIT= may read it at once.
    const command = `${exports} stty -g > .stty-before; '${process.execPath}' '${BINARY}' ${args.map((arg) => `'${arg}'`).join(' ')}; code=$?; stty -g > .stty-after; echo "EXIT=$code"; sleep 600`;
    this.tmux('new-session', '-d', '-x', '120', '-y', '40', '-c', cwd, 'sh', '-c', command);
  }

  /**
   * Appends everything the program writes to the terminal from now on to `file`: every frame,
   * also those a screen read between two polls would miss.
   */
  record(file: string): void {
    this.tmux('pipe-pane', '-o', `cat >> '${file}'`);
  }

  screen(): string {
    return this.tmux('capture-pane', '-p');
  }

  async waitFor(text: string | RegExp, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      if (typeof text === 'string' ? screen.includes(text) : text.test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`screen never showed ${text}:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /**
   * Named keys (Enter, Escape, C-c, Down) or literal text, one at a time: each is sent once the
   * screen has changed after the previous one (waited for, up to 2 s for a key that changes
   * nothing visible), so a busy machine does not reorder or drop them.
   */
  async press(...keys: string[]): Promise<void> {
    for (const key of keys) {
      const before = this.screen();
      if (/^(Enter|Escape|Down|Up|Space|C-c|BSpace)$/.test(key)) this.tmux('send-keys', key);
      else this.tmux('send-keys', '-l', key);
      const deadline = Date.now() + 2_000;
      while (this.screen() === before && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  close(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }
}
