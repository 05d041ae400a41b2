import type Docker from 'dockerode';
import { PassThrough, type Duplex, type Readable, type Writable } from 'node:stream';
import { delay } from '../base/concurrency.js';
import { RuntimeError } from '../base/errors.js';
import { describeExit } from '../base/processes.js';
import { DockerStreamDemuxer, TailBuffer } from './demux.js';

export interface ExecOptions {
  /** Passed as the exec's environment, never as argv: how secrets reach a command. */
  env?: Readonly<Record<string, string>>;
  stdin?: Readable;
  /** Receives stdout; ended only when the command exits 0, destroyed with the error otherwise. */
  stdout?: Writable;
  signal?: AbortSignal;
}

export interface ExecResult {
  exitCode: number;
  stderr: string;
  stdout: string;
}

/** How often a command fed through stdin is checked for having exited early. */
const EXIT_POLL_MS = 200;

/** How long a command whose input failed has to exit before the failure is reported anyway. */
const EXIT_AFTER_INPUT_FAILURE_MS = 60_000;

/** What an exec runs, for messages: the program and the container. */
export interface ExecLabel {
  readonly program: string;
  readonly container: string;
}

/**
 * Drives a started exec to its end over the engine's hijacked connection: stdout to
 * `options.stdout` (or collected), stderr kept, stdin fed until used up or until the command
 * exits, then the exit code. Whatever happens — success, a command that exits without reading
 * its input, a failure, an abort — the connection is destroyed before this returns: an exec
 * connection left open keeps the process alive until the engine drops it, and with unread
 * input queued behind our end of it the engine took 80–130 s (Docker Engine 20.10). When the
 * input fails midway (an unreadable archive), the command is told its input ended and this
 * returns only once it has exited: what follows (a put-back) must not race it.
 */
export async function driveExec(exec: Docker.Exec, connection: Duplex, label: ExecLabel, options: ExecOptions): Promise<ExecResult> {
  const stderr = new TailBuffer();
  const collected = options.stdout ? undefined : new TailBuffer(16 * 1024 * 1024);
  const demuxer = new DockerStreamDemuxer(options.stdout ?? collectInto(collected!), (chunk) => stderr.push(chunk));
  const output = new Promise<void>((resolve, reject) => {
    connection.on('error', reject);
    demuxer.on('error', reject);
    demuxer.on('finish', resolve);
    // Where stdout goes failed (no space left): nothing reads the output any more, and the command would wait forever.
    options.stdout?.once('error', reject);
  });
  // Awaited below; when feeding stdin fails first, that failure is the one reported.
  output.catch(() => undefined);
  const abort = () => connection.destroy(new RuntimeError(`${label.program} in ${label.container} was interrupted.`));
  if (options.signal?.aborted) abort();
  options.signal?.addEventListener('abort', abort, { once: true });
  try {
    connection.pipe(demuxer);
    if (options.stdin) await feedUntilExit(exec, options.stdin, connection);
    await output;
    const exitCode = await exitCodeOf(exec);
    if (options.stdout) {
      if (exitCode === 0) options.stdout.end();
      else options.stdout.destroy(new RuntimeError(`${label.program} ${describeExit(exitCode)}`));
    }
    return { exitCode, stderr: stderr.toString(), stdout: collected?.toString() ?? '' };
  } catch (error) {
    options.stdout?.destroy(error as Error);
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', abort);
    release(connection, options.stdin);
  }
}

/**
 * Feeds stdin until it is used up or the command has exited. A command may exit without
 * reading all its input (`mongorestore --dryRun` reads only the archive's prelude): what it
 * left unread sits in the connection's buffers and never drains, so while feeding, the exec's
 * state is polled, and once the command is gone the feeding stops (the rest is dropped).
 */
async function feedUntilExit(exec: Docker.Exec, stdin: Readable, connection: Duplex): Promise<void> {
  const feeding = feedStdin(stdin, connection);
  let fed = false;
  const settled = feeding.then(
    () => (fed = true),
    () => (fed = true),
  );
  while (!fed) {
    const exited = await Promise.race([settled.then(() => false), delay(EXIT_POLL_MS).then(() => hasExited(exec))]);
    if (exited && !fed) {
      stopFeeding(stdin, connection);
      return;
    }
  }
  try {
    await feeding;
  } catch (error) {
    await exitWithin(exec, EXIT_AFTER_INPUT_FAILURE_MS);
    throw error;
  }
}

/** Waits until the exec has exited, or `limitMs` has passed. */
async function exitWithin(exec: Docker.Exec, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline && !(await hasExited(exec))) await delay(EXIT_POLL_MS);
}

/**
 * Exited, not merely "not running": between the engine's answer to start and the start of the
 * process, an exec is not running yet and has no exit code, and its input must not be cut.
 */
async function hasExited(exec: Docker.Exec): Promise<boolean> {
  const info = await exec.inspect().catch(() => undefined);
  return info !== undefined && !info.Running && typeof info.ExitCode === 'number';
}

async function exitCodeOf(exec: Docker.Exec): Promise<number> {
  // The stream can close a moment before the engine records the exit code.
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null && info.ExitCode !== undefined) return info.ExitCode;
    await delay(20 * (attempt + 1));
  }
  throw new RuntimeError('the Docker engine did not report the exit code of a finished command.');
}

/**
 * Writes stdin into the exec with backpressure, then half-closes it so the command sees the end
 * of its input. Settles when the input is used up, or when the connection closed (the exit code
 * then tells what happened). An input that fails is cut where it failed, the same half-close:
 * the command sees its input end and exits by itself, while its output is still read.
 */
function feedStdin(stdin: Readable, connection: Duplex): Promise<void> {
  return new Promise((resolve, reject) => {
    stdin.on('error', (error) => {
      stdin.unpipe(connection);
      connection.end();
      reject(error);
    });
    stdin.once('end', () => resolve());
    connection.once('close', () => {
      stdin.unpipe(connection);
      stdin.destroy();
      resolve();
    });
    stdin.pipe(connection);
  });
}

/** The command exited: what it did not read is dropped, and the engine is told there is no more. */
function stopFeeding(stdin: Readable, connection: Duplex): void {
  stdin.unpipe(connection);
  stdin.destroy();
  connection.end();
}

/**
 * The exec is over (or failed): its connection is destroyed, not merely ended — an end waits
 * behind input the command never read — and an input not used up is closed with it.
 */
function release(connection: Duplex, stdin: Readable | undefined): void {
  if (stdin) {
    stdin.unpipe(connection);
    if (!stdin.readableEnded) stdin.destroy();
  }
  connection.destroy();
}

function collectInto(buffer: TailBuffer): Writable {
  const sink = new PassThrough();
  sink.on('data', (chunk: Buffer) => buffer.push(chunk));
  return sink;
}
