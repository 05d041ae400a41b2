import { AbortedError, describeError, exitCodeFor, UsageError } from '../base/errors.js';
import { criticalWork } from '../base/criticalSection.js';
import { removeAllTemporariesSync } from '../base/temporaryFiles.js';
import { TOOL_VERSION } from '../core/version.js';
import { isCommand, parseCommandLine, type ParsedCommand } from './args.js';
import { backupCommand } from './backupCommand.js';
import { inspectCommand, verifyCommand } from './examineCommands.js';
import { listCommand, pruneCommand } from './archivesCommands.js';
import { helpText } from './help.js';
import { restoreCommand } from './restoreCommand.js';
import { drillCommand } from './drillCommand.js';
import { statusCommand } from './statusCommand.js';
import { acceptCommand } from './acceptCommand.js';
import { processTerminal, type Terminal } from './terminal.js';
import { loadTui } from '../tui/load.js';
import { openSessionProject } from '../app/session.js';
import { reportedFailure, RunRecorder } from '../app/runRecorder.js';
import type { HistoryCommand } from '../model/history.js';
import { historyCommand } from './historyCommand.js';

/** Gives the work this long to unwind (restart a container, remove partial files) after a signal. */
const SHUTDOWN_GRACE_MS = 15_000;

export async function main(argv: readonly string[]): Promise<number> {
  const controller = new AbortController();
  installSignalHandlers(controller);
  const terminal = processTerminal(controller.signal);
  let args: ParsedCommand | undefined;
  try {
    args = parseCommandLine(argv);
    return await dispatch(args, terminal, controller.signal);
  } catch (error) {
    // After an interrupt the failures it caused are noise, and its reason is said instead — unless
    // the error is a run's outcome, which says what was put back and where the kept copy is.
    const reported = reportedFailure(error, controller.signal);
    terminal.err(`orkestra-backup: ${describeError(reported)}\n`);
    if (args?.common.debug && error instanceof Error && error.stack) terminal.err(`${error.stack}\n`);
    const exitCode = exitCodeFor(reported);
    // --json asks for a JSON answer even when the flags themselves could not be parsed.
    if (args?.common.json ?? argv.includes('--json'))
      terminal.out(`${JSON.stringify({ ok: false, error: describeError(reported), exitCode })}\n`);
    return exitCode;
  }
}

async function dispatch(args: ParsedCommand, terminal: Terminal, signal: AbortSignal): Promise<number> {
  if (args.version) {
    terminal.out(`${TOOL_VERSION}\n`);
    return 0;
  }
  if (args.common.help) {
    terminal.out(helpText(args.command === 'help' || args.command === undefined ? undefined : args.command));
    return 0;
  }
  if (args.command === 'help') {
    const [topic, ...extra] = args.positionals;
    if (extra.length > 0 || (topic !== undefined && (!isCommand(topic) || topic === 'help'))) {
      throw new UsageError(`no help on "${topic}".`, {
        hint: 'Commands: backup, restore, verify, inspect, list, prune, drill, status, history, accept.',
      });
    }
    terminal.out(helpText(topic));
    return 0;
  }
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const bare = args.positionals.length === 0 && args.components === undefined && args.output === undefined && !args.yes && !args.dryRun;
  const entry = args.command === undefined ? 'start' : args.command === 'backup' || args.command === 'restore' ? args.command : undefined;
  // Restore selectors are the command line's: never dropped by opening the interface.
  if (interactive && bare && !args.common.json && entry && Object.keys(args.selectors).length === 0) {
    const { runTui } = await loadTui();
    return runTui(entry, args.common, signal);
  }
  switch (args.command) {
    case 'backup':
      return recorded('backup', args, terminal, signal, backupCommand);
    case 'restore':
      return recorded('restore', args, terminal, signal, restoreCommand);
    case undefined:
      if (args.positionals.length === 0) {
        throw new UsageError('no command given.', {
          hint: 'Run "orkestra-backup backup all --yes", "orkestra-backup restore <file> --dry-run", or see --help.',
        });
      }
      throw new UsageError(`unexpected argument "${args.positionals[0]}".`, { hint: 'See orkestra-backup --help.' });
    case 'verify':
      return recorded('verify', args, terminal, signal, verifyCommand);
    case 'inspect':
      return inspectCommand(args, terminal, signal);
    case 'list':
      return listCommand(args, terminal, signal);
    case 'prune':
      return recorded('prune', args, terminal, signal, pruneCommand);
    case 'drill':
      return recorded('drill', args, terminal, signal, drillCommand);
    case 'status':
      return statusCommand(args, terminal, signal);
    case 'history':
      return historyCommand(args, terminal, signal);
    case 'accept':
      return acceptCommand(args, terminal, signal);
  }
}

type RecordedCommand = (args: ParsedCommand, terminal: Terminal, signal: AbortSignal, recorder: RunRecorder) => Promise<number>;

/**
 * Runs a command that the deployment's history records, whatever its end. A dry run changes
 * nothing and is not recorded, nor is `drill --cleanup`.
 */
function recorded(command: HistoryCommand, args: ParsedCommand, terminal: Terminal, signal: AbortSignal, run: RecordedCommand) {
  const recorder = new RunRecorder(command, {
    project: args.dryRun || args.cleanup ? undefined : () => openSessionProject(args.common),
    signal,
    warn: (line) => terminal.err(`orkestra-backup: warning: ${line}\n`),
  });
  return recorder.run(
    () => run(args, terminal, signal, recorder),
    (code) => code,
  );
}

/**
 * First SIGINT/SIGTERM: abort the work so it unwinds through its own cleanup (partial files
 * removed, a stopped container started again). If unwinding hangs, the process exits after a
 * grace period — but never while critical work (a container to start again) is still running;
 * only a third signal leaves that undone.
 */
function installSignalHandlers(controller: AbortController): void {
  let signals = 0;
  const exitWhenSafe = () => {
    if (criticalWork().length > 0) {
      setTimeout(exitWhenSafe, 1_000).unref();
      return;
    }
    process.stderr.write(
      `orkestra-backup: interrupted; the work did not stop within ${SHUTDOWN_GRACE_MS / 1000} s and was cut short. Partial files were removed.\n`,
    );
    removeAllTemporariesSync();
    process.exit(1);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    const pending = criticalWork();
    if (signals === 1) {
      process.stderr.write(`\norkestra-backup: ${signal} received, stopping…\n`);
      controller.abort(new AbortedError(`interrupted by ${signal}; partial files were removed.`, { signal }));
      setTimeout(exitWhenSafe, SHUTDOWN_GRACE_MS).unref();
    } else if (pending.length > 0 && signals === 2) {
      process.stderr.write(`orkestra-backup: still ${pending.join(', ')}; waiting for it (a third ${signal} leaves it undone).\n`);
    } else {
      // The run's own last line never comes: this one says what the operator's second signal did.
      const undone = pending.length > 0 ? `, leaving ${pending.join(', ')} undone` : '';
      process.stderr.write(`orkestra-backup: interrupted again by ${signal}; stopped at once${undone}. Partial files were removed.\n`);
      removeAllTemporariesSync();
      process.exit(1);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', removeAllTemporariesSync);
}
