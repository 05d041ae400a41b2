import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AbortedError, RuntimeError } from '../base/errors.js';
import { plural } from '../base/format.js';
import { describeExit, FORCED_KILL, superviseChild, type Stopped, type Supervision } from '../base/processes.js';
import type { ExecOptions } from '../docker/execSession.js';
import { ToolOutput, type ToolResult } from './toolOutput.js';

export interface HostRun {
  /** The tool's name, for messages ("mongodump"). */
  readonly tool: string;
  /** Stopped after this long without progress; 0: no limit. */
  readonly stallSeconds: number;
  /** What to check when the tool stalls. */
  readonly stallHint: string;
  /** Masked in everything relayed from the tool's output. */
  readonly secrets: readonly (string | undefined)[];
}

const STDERR_KEPT = 64 * 1024;
const STDOUT_KEPT = 16 * 1024 * 1024;

/**
 * Runs a program with stdin/stdout streamed like an exec: stdout ended only on exit 0, stderr's
 * last 64 KiB kept, credentials masked. The run's abort signal or a stall (no output written,
 * no input read for `stallSeconds`) stops it (SIGTERM, then SIGKILL); either way the promise
 * settles only once the program has exited, so nothing that follows races it.
 */
export async function runHostProgram(program: string, args: readonly string[], io: ExecOptions, run: HostRun): Promise<ToolResult> {
  if (io.signal?.aborted) throw interrupted(run.tool, undefined);
  const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const supervision = superviseChild(child, { signal: io.signal, stallMs: run.stallSeconds * 1000 });
  const stderr = new ToolOutput(STDERR_KEPT, run.secrets);
  const collected = io.stdout ? undefined : new ToolOutput(STDOUT_KEPT, run.secrets);
  child.stderr.on('data', (chunk: Buffer) => {
    supervision.progress();
    stderr.push(chunk);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
  child.stdin.on('error', () => undefined); // a tool that exits without reading its input: EPIPE, expected
  const feeding = io.stdin
    ? pipeline(io.stdin, progressTap(supervision), child.stdin).catch(() => undefined)
    : (child.stdin.end(), Promise.resolve());
  // Settles with the error of the stream stdout goes to (the archive failed), never rejects.
  const written: Promise<Error | undefined> = io.stdout
    ? pipeline(child.stdout, progressTap(supervision), io.stdout, { end: false }).then(
        () => undefined,
        (error: Error) => error,
      )
    : (child.stdout.on('data', (chunk: Buffer) => {
        supervision.progress();
        collected!.push(chunk);
      }),
      Promise.resolve(undefined));
  let exit: { code: number | null; signal: NodeJS.Signals | null };
  try {
    exit = await exited;
  } catch (error) {
    supervision.release();
    const failure = new RuntimeError(`${run.tool} could not be started (${program}): ${(error as Error).message}`);
    io.stdin?.destroy();
    io.stdout?.destroy(failure);
    throw failure;
  }
  supervision.release();
  const writeFailure = await written;
  // A tool may exit without reading all its input (mongorestore --dryRun): what is left is dropped.
  io.stdin?.destroy();
  await feeding;
  const stopped = supervision.stopped();
  const failure = stopped ? stopFailure(run, stopped) : writeFailure;
  if (failure) {
    io.stdout?.destroy(failure);
    throw failure;
  }
  const exitCode = exit.code ?? 128 + (exit.signal ? (constants.signals[exit.signal] ?? 0) : 0);
  if (io.stdout) {
    if (exitCode === 0) io.stdout.end();
    else io.stdout.destroy(new RuntimeError(`${run.tool} ${describeExit(exitCode, exit.signal ?? undefined)}`));
  }
  return { exitCode, signal: exit.signal ?? undefined, stderr: stderr.toString(), stdout: collected?.toString() ?? '' };
}

/** Passes bytes through, each chunk a sign that the tool is reading its input or writing its output. */
function progressTap(supervision: Supervision): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      supervision.progress();
      callback(null, chunk);
    },
  });
}

function stopFailure(run: HostRun, stopped: Stopped): Error {
  if (stopped.reason === 'aborted') return interrupted(run.tool, stopped);
  const killed = stopped.forced ? ` It ${FORCED_KILL}.` : '';
  return new RuntimeError(
    `${run.tool} made no progress for ${plural(run.stallSeconds, 'second')} (no output written, no input read) and was stopped.${killed}`,
    { hint: run.stallHint },
  );
}

function interrupted(tool: string, stopped: Stopped | undefined): AbortedError {
  return new AbortedError(`${tool} was interrupted${stopped?.forced ? `; it ${FORCED_KILL}` : ''}.`);
}
