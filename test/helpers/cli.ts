import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const BINARY = fileURLToPath(new URL('../../bin/orkestra-backup', import.meta.url));

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is a pipe: the tool sees no TTY, as in CI. */
  input?: string;
  timeoutMs?: number;
  /** Another copy of the binary (an installed one, one without dist/). */
  binary?: string;
}

/** Runs the built binary as a user would, with stdin, stdout and stderr as pipes. */
export async function runCli(args: readonly string[], options: RunOptions): Promise<RunResult> {
  const { code, stdout, stderr } = await startCli(args, { timeoutMs: 120_000, ...options }).result;
  return { code, stdout, stderr };
}

/** What a user sees when something fails: no stack frame and no raw AbortError. */
export function expectNoStackTrace(text: string): void {
  expect(text).not.toMatch(/^\s+at /m);
  expect(text).not.toContain('AbortError');
}

export interface RunningCli {
  pid: number;
  /** Resolves when stderr has printed something matching. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<void>;
  signal(name: NodeJS.Signals): void;
  result: Promise<RunResult & { exitedAt: number }>;
}

/** Starts the binary and lets the test act while it runs (send a signal at a chosen moment). */
export function startCli(args: readonly string[], options: RunOptions): RunningCli {
  const child = spawn(process.execPath, [options.binary ?? BINARY, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const waiter of waiters.filter((candidate) => candidate.pattern.test(stderr))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  });
  child.stdin.end(options.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
  const result = new Promise<RunResult & { exitedAt: number }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, exitedAt: Date.now() });
    });
  });
  return {
    pid: child.pid!,
    waitForStderr(pattern, timeoutMs = 60_000) {
      if (pattern.test(stderr)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const waiter = { pattern, resolve };
        waiters.push(waiter);
        setTimeout(() => reject(new Error(`stderr never matched ${pattern}:\n${stderr}`)), timeoutMs);
      });
    },
    signal: (name) => child.kill(name),
    result,
  };
}
