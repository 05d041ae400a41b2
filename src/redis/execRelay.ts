import { Duplex, PassThrough, Writable } from 'node:stream';
import { PreconditionError } from '../base/errors.js';
import { firstLine } from '../base/format.js';
import type { DockerEngine } from '../docker/engine.js';
import { encodeCommand, type RespStream } from './resp.js';

/**
 * Relays bytes between the exec's stdin/stdout and Redis inside the container: bash's /dev/tcp
 * with two cats (Debian images), else nc (busybox, Alpine). The reader is waited for, so the
 * exec ends once Redis closes the connection (after QUIT).
 */
const RELAY = `if command -v bash >/dev/null 2>&1; then exec bash -c 'exec 3<>"/dev/tcp/$RELAY_HOST/$RELAY_PORT" || exit 96; cat <&3 & reader=$!; cat >&3; wait $reader'; fi
if command -v nc >/dev/null 2>&1; then exec nc "$RELAY_HOST" "$RELAY_PORT"; fi
if command -v busybox >/dev/null 2>&1; then exec busybox nc "$RELAY_HOST" "$RELAY_PORT"; fi
echo 'neither bash nor nc is in the container' >&2; exit 97`;

/**
 * A byte stream to the Redis of a container, through a relay exec'd in it by the engine: what a
 * RespConnection talks over when the server is reachable only from inside its container. Binary
 * safe; the password goes over it in AUTH, never in argv or the exec's environment. Resolves once
 * the server has answered a PING through it (NOAUTH counts): a relay that cannot start or reach
 * Redis is a PreconditionError naming why.
 */
export async function openExecRelay(docker: DockerEngine, container: string, host: string, port: number): Promise<RespStream> {
  const relay = new ExecRelay();
  const exec = docker.exec(container, ['sh', '-c', RELAY], {
    env: { RELAY_HOST: host, RELAY_PORT: String(port) },
    stdin: relay.toServer,
    stdout: relay.fromServer,
  });
  exec.then(
    (result) => {
      if (result.exitCode !== 0 && !relay.answered)
        relay.destroy(relayFailed(container, firstLine(result.stderr) || `exit code ${result.exitCode}`));
      // Replies already passed on are delivered before the stream closes.
      else setImmediate(() => relay.destroy());
    },
    (error: unknown) => relay.destroy(error as Error),
  );
  await relay.firstAnswer(container);
  return relay;
}

function relayFailed(container: string, why: string): PreconditionError {
  return new PreconditionError(`cannot reach Redis inside ${container} through the engine (${why}).`, {
    hint: 'The selective restore runs a relay in the container (bash or nc) to talk to Redis; or set REDIS_URL to an address this host reaches. Nothing was changed.',
  });
}

/** The RespStream side of the relay: writes go to the exec's stdin, its stdout comes out as reads. */
class ExecRelay extends Duplex {
  readonly toServer = new PassThrough();
  readonly fromServer: Writable;
  answered = false;
  private waitingRead: (() => void) | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private idleMs = 0;
  private greeting = Buffer.alloc(0);
  private greeted: ((error?: Error) => void) | undefined;

  constructor() {
    super();
    this.fromServer = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.touch();
        if (!this.answered) return this.takeGreeting(chunk, done);
        if (this.push(chunk)) done();
        else this.waitingRead = done;
      },
      final: (done) => {
        this.push(null);
        done();
      },
    });
  }

  /** Sends PING and waits for its one-line answer, which is not passed on. */
  firstAnswer(container: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.greeted = (error) => (error ? reject(error) : resolve());
      this.once('close', () => this.greeted?.(relayFailed(container, 'the relay ended before Redis answered')));
      this.toServer.write(encodeCommand(['PING']));
    });
  }

  private takeGreeting(chunk: Buffer, done: () => void): void {
    this.greeting = Buffer.concat([this.greeting, chunk]);
    const end = this.greeting.indexOf('\r\n');
    if (end < 0) return done();
    this.answered = true;
    const rest = this.greeting.subarray(end + 2);
    this.greeting = Buffer.alloc(0);
    const greeted = this.greeted;
    this.greeted = undefined;
    greeted?.();
    if (rest.length > 0 && !this.push(rest)) this.waitingRead = done;
    else done();
  }

  setTimeout(ms: number): this {
    this.idleMs = ms;
    this.touch();
    return this;
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = this.idleMs > 0 ? setTimeout(() => this.emit('timeout'), this.idleMs) : undefined;
  }

  override _read(): void {
    const waiting = this.waitingRead;
    this.waitingRead = undefined;
    waiting?.();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    this.touch();
    if (this.toServer.write(chunk)) done();
    else this.toServer.once('drain', () => done());
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    clearTimeout(this.idleTimer);
    // QUIT ends the relay: Redis closes the connection, its reader stops, the exec exits.
    if (!this.toServer.writableEnded) this.toServer.end(encodeCommand(['QUIT']));
    done(error);
  }
}
