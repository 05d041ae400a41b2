import { reportedFailure } from '../app/runRecorder.js';
import { openRunMonitor, watchRun, type MonitorSource, type RunOutcome } from '../app/notify/index.js';
import type { CommonArgs } from './args.js';
import { commandProject, flagsAndEnvironment } from './settings.js';
import type { Terminal } from './terminal.js';

/** What a command knows of its outcome beyond its exit code: the archive, its size, what failed. */
export type OutcomeFacts = Omit<RunOutcome, 'exitCode'>;

/**
 * Runs a command under the notifications and health check its settings ask for (--notify,
 * ORKESTRA_NOTIFY, ORKESTRA_HEALTHCHECK_URL): the last lines it prints are kept for the failure
 * ping, and its outcome — the exit code it returns or the error it throws, as main reports it —
 * is told before the command returns. The exit code and the error are unchanged.
 */
export async function monitoredRun(
  command: 'backup' | 'drill' | 'verify',
  common: CommonArgs,
  terminal: Terminal,
  signal: AbortSignal,
  run: (terminal: Terminal, report: (facts: OutcomeFacts) => void) => Promise<number>,
  pingsHealthcheck = command !== 'verify',
): Promise<number> {
  const monitor = await openRunMonitor(command, await monitorSource(common), {
    pingsHealthcheck,
    warn: (line) => terminal.err(`orkestra-backup: ${line}\n`),
  });
  if (!monitor) return run(terminal, () => undefined);
  let facts: OutcomeFacts = {};
  // The report is what the run prints on both streams (a drill's report is on stdout); the binary stream of -o - is not text and is left out.
  const watched: Terminal = {
    ...terminal,
    out: (text) => {
      monitor.tail.push(text);
      terminal.out(text);
    },
    err: (text) => {
      monitor.tail.push(text);
      terminal.err(text);
    },
    errRaw: (text) => {
      monitor.tail.push(text);
      terminal.errRaw(text);
    },
  };
  return watchRun(monitor, () => run(watched, (reported) => (facts = { ...facts, ...reported })), {
    result: (exitCode) => ({ ...facts, exitCode, error: exitCode === 0 ? undefined : facts.error }),
    known: () => facts,
    reported: (error) => reportedFailure(error, signal),
  });
}

async function monitorSource(common: CommonArgs): Promise<MonitorSource> {
  const project = await commandProject(common);
  if (project) return { setting: (key) => project.setting(key), dockerDir: project.dockerDir, environment: project.environment };
  const setting = flagsAndEnvironment(common);
  return { setting, environment: common.env ?? setting('ORKESTRA_ENV') ?? 'local' };
}
