import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';

/** Whether a process with this pid exists (EPERM: it does, but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** How long a child asked to stop (SIGTERM) has before it is killed (SIGKILL). */
const TERMINATION_GRACE_MS = 5_000;

/** What a child that ignored SIGTERM for the grace period went through ("it …"), in one wording for every message. */
export const FORCED_KILL = 'ignored SIGTERM and was killed (SIGKILL)';

/**
 * How a process ended, in words: "exited with code 1", "was killed by SIGKILL". Without the
 * signal, an exit code of 128 + a signal's number (what a shell and `docker exec` report for a
 * process a signal ended) names that signal.
 */
export function describeExit(exitCode: number, signal?: NodeJS.Signals): string {
  const name = signal ?? (exitCode > 128 ? signalNamed(exitCode - 128) : undefined);
  return name ? `was killed by ${name}` : `exited with code ${exitCode}`;
}

function signalNamed(number: number): NodeJS.Signals | undefined {
  return (Object.entries(constants.signals) as [NodeJS.Signals, number][]).find(([, value]) => value === number)?.[0];
}

/** Why a supervised child was stopped, and whether SIGTERM was not enough. */
export interface Stopped {
  readonly reason: 'stalled' | 'aborted';
  /** It ignored SIGTERM for the grace period and was killed with SIGKILL. */
  forced: boolean;
}

export interface Supervision {
  /** A sign of progress (output written, input read): the stall clock starts again. */
  progress(): void;
  /** Why the child was stopped, if it was. */
  stopped(): Stopped | undefined;
  /** The child has exited: the timers stop. */
  release(): void;
}

export interface SupervisionOptions {
  /** Stops the child when it fires (the run was interrupted). */
  readonly signal?: AbortSignal;
  /** Stops the child after this long without progress; undefined or 0: no limit. */
  readonly stallMs?: number;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Watches a child process: the run's abort signal or a stall (no progress for `stallMs`) asks it
 * to stop with SIGTERM, then kills it with SIGKILL when it ignores that for the grace period —
 * a tool stuck looking for its server may never answer SIGTERM. A child still running when this
 * process exits (a second Ctrl-C, the shutdown grace over) is killed then, never left behind.
 */
export function superviseChild(child: ChildProcess, options: SupervisionOptions): Supervision {
  keepTrackOf(child);
  let stopped: Stopped | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const stop = (reason: Stopped['reason']) => {
    if (stopped || exited()) return;
    stopped = { reason, forced: false };
    clearTimeout(stallTimer);
    child.kill('SIGTERM');
    killTimer = setTimeout(() => {
      if (exited()) return;
      stopped!.forced = true;
      child.kill('SIGKILL');
    }, TERMINATION_GRACE_MS);
  };
  const stallTimer = options.stallMs ? setTimeout(() => stop('stalled'), options.stallMs) : undefined;
  const onAbort = () => stop('aborted');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  return {
    progress: () => {
      if (!stopped) stallTimer?.refresh();
    },
    stopped: () => stopped,
    release: () => {
      clearTimeout(stallTimer);
      clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
    },
  };
}

function keepTrackOf(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', killRunningChildren);
  }
  running.add(child);
  child.once('exit', () => running.delete(child));
  child.once('error', () => running.delete(child));
}

function killRunningChildren(): void {
  for (const child of running) child.kill('SIGKILL');
}
