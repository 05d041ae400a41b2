import { connect as connectTcp, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as connectTls } from 'node:tls';
import { PreconditionError, UsageError } from '../base/errors.js';

/** A reply as RESP2 gives it: status and bulk strings as Buffers, integers, arrays, null; errors are RespError. */
export type RespReply = Buffer | number | null | RespReply[] | RespError;

export class RespError {
  constructor(readonly message: string) {}
}

export interface RedisAddress {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  readonly username?: string;
  readonly password?: string;
  /** The database of the URL's path (`redis://host/2`), 0 when none. */
  readonly db: number;
  /** host:port, for messages (never the password). */
  readonly shown: string;
  /** How long a connection waits with replies outstanding and no byte moving before it gives up (default 60 s). */
  readonly idleMs?: number;
  /** Opens the byte stream to the server instead of TCP (a relay run in its container through the engine). */
  readonly open?: () => Promise<RespStream>;
}

/** What a connection talks over: a TCP or TLS socket, or any duplex stream with an idle timer like a socket's. */
export type RespStream = Duplex & { setTimeout(ms: number): unknown };

/** How long a connection waits for a server that neither reads nor answers, when its address does not say. */
const DEFAULT_REDIS_IDLE_MS = 60_000;

/** REDIS_URL (`redis://[user:password@]host[:port][/db]`, `rediss://` for TLS); a malformed one is a usage error that never echoes it. */
export function parseRedisUrl(url: string): RedisAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError('REDIS_URL is not a URL.', { hint: 'Example: redis://:password@redis.example.com:6379/0 (rediss:// for TLS).' });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new UsageError(`REDIS_URL must start with redis:// or rediss://, not ${parsed.protocol}//.`);
  }
  const db = parsed.pathname.replace(/^\//, '');
  if (!parsed.hostname || (db !== '' && !/^\d+$/.test(db))) {
    throw new UsageError('REDIS_URL needs a host, and its path (if any) must be a database number.', {
      hint: 'Example: redis://:password@redis.example.com:6379/0',
    });
  }
  const port = Number(parsed.port || 6379);
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port,
    tls: parsed.protocol === 'rediss:',
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: db === '' ? 0 : Number(db),
    shown: `${parsed.hostname}:${port}`,
  };
}

/**
 * One connection to a Redis server speaking RESP2, as few lines as the tool needs: commands
 * answered in order (pipelined when sent without waiting), and, for replication, raw bytes.
 * While replies are outstanding, a server that neither reads nor answers for the address's idle
 * limit (stopped, paused, or a network that drops packets) is given up: the connection is
 * destroyed and every wait on it fails, so no caller waits forever.
 */
export class RespConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly waiting: { resolve: (reply: RespReply) => void; reject: (error: Error) => void }[] = [];
  private rawReader: ((chunk: Buffer) => void) | undefined;
  private failure: Error | undefined;
  private readonly failureListeners: ((error: Error) => void)[] = [];
  private readonly idleMs: number;

  private constructor(
    private readonly socket: RespStream,
    readonly address: RedisAddress,
  ) {
    this.idleMs = address.idleMs ?? DEFAULT_REDIS_IDLE_MS;
    socket.on('timeout', () => {
      const seconds = this.idleMs / 1000;
      this.fail(
        new PreconditionError(
          `Redis at ${address.shown} neither read nor answered for ${seconds} s (ORKESTRA_REDIS_TIMEOUT_SECONDS=${seconds}); the connection was given up.`,
        ),
      );
      socket.destroy();
    });
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      this.fail(new PreconditionError(`the connection to Redis at ${address.shown} was lost (${error.code ?? error.message}).`)),
    );
    socket.on('close', () => this.fail(new PreconditionError(`Redis at ${address.shown} closed the connection.`)));
  }

  /** Connects and logs in (AUTH with the URL's user and password); the URL's database is selected. */
  static async open(address: RedisAddress, timeoutMs = 10_000): Promise<RespConnection> {
    const socket = address.open ? await address.open() : await connectSocket(address, timeoutMs);
    const connection = new RespConnection(socket, address);
    if (address.password !== undefined) {
      const auth = address.username ? ['AUTH', address.username, address.password] : ['AUTH', address.password];
      const reply = await connection.command(...auth);
      if (reply instanceof RespError) {
        connection.close();
        throw new PreconditionError(`Redis at ${address.shown} refused the login: ${reply.message}.`, {
          hint: 'Check the user and password in REDIS_URL.',
        });
      }
    }
    if (address.db !== 0) connection.expectOk(await connection.command('SELECT', String(address.db)), `SELECT ${address.db}`);
    return connection;
  }

  /** Sends a command and waits for its reply (an error reply is returned, not thrown). */
  command(...args: (string | Buffer)[]): Promise<RespReply> {
    return this.send(args);
  }

  /** Sends a command without waiting: its reply promise is returned for later (pipelining). */
  send(args: readonly (string | Buffer)[]): Promise<RespReply> {
    if (!this.failure && (this.socket.destroyed || !this.socket.writable)) {
      this.fail(new PreconditionError(`Redis at ${this.address.shown} closed the connection.`));
    }
    const reply = this.failure
      ? Promise.reject(this.failure)
      : new Promise<RespReply>((resolve, reject) => this.waiting.push({ resolve, reject }));
    // A pipelined reply is awaited later, or never once an earlier one failed: its rejection is
    // marked handled here and still reaches whoever awaits it.
    reply.catch(() => undefined);
    if (this.failure) return reply;
    // The idle limit runs while replies are awaited (not for the replication stream, read raw).
    if (this.waiting.length === 1 && !this.rawReader) this.socket.setTimeout(this.idleMs);
    this.socket.write(encodeCommand(args));
    return reply;
  }

  /**
   * Resolves once the socket has room again (backpressure for long pipelines); throws when the
   * connection is lost meanwhile, since a closed socket never drains.
   */
  async drained(): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.socket.writableNeedDrain) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
    // Read again: the connection may have failed while waiting.
    const failure = this.failed;
    if (failure) throw failure;
  }

  /** Calls `listener` once the connection fails or closes (at once when it already has). */
  onFailure(listener: (error: Error) => void): void {
    if (this.failure) return listener(this.failure);
    this.failureListeners.push(listener);
  }

  /** From now on incoming bytes go to `reader` as they come (the replication stream after SYNC). */
  takeRaw(reader: (chunk: Buffer) => void): void {
    this.rawReader = reader;
    this.socket.setTimeout(0);
    const pending = this.buffer;
    this.buffer = Buffer.alloc(0);
    if (pending.length > 0) reader(pending);
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  get failed(): Error | undefined {
    return this.failure;
  }

  expectOk(reply: RespReply, what: string): void {
    if (reply instanceof RespError) throw new PreconditionError(`Redis at ${this.address.shown} refused ${what}: ${reply.message}.`);
  }

  close(): void {
    this.fail(new PreconditionError(`the connection to Redis at ${this.address.shown} was closed.`));
    this.socket.destroy();
  }

  /** Every reply still awaited fails with the first error; later commands fail at once. */
  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.splice(0)) waiter.reject(this.failure);
    for (const listener of this.failureListeners.splice(0)) listener(this.failure);
  }

  private receive(chunk: Buffer): void {
    if (this.rawReader) return this.rawReader(chunk);
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    try {
      for (;;) {
        if (this.rawReader) return;
        const parsed = parseReply(this.buffer, 0);
        if (!parsed) return;
        this.buffer = this.buffer.subarray(parsed.end);
        this.waiting.shift()?.resolve(parsed.reply);
        if (this.waiting.length === 0) this.socket.setTimeout(0);
      }
    } catch (error) {
      this.fail(error as Error);
      this.socket.destroy();
    }
  }
}

function connectSocket(address: RedisAddress, timeoutMs: number): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const options = { host: address.host, port: address.port, timeout: timeoutMs };
    const opened = address.tls ? connectTls({ ...options, servername: address.host }) : connectTcp(options);
    const ready = address.tls ? 'secureConnect' : 'connect';
    opened.once(ready, () => {
      opened.setTimeout(0);
      resolve(opened);
    });
    opened.once('timeout', () => {
      opened.destroy();
      reject(
        new PreconditionError(`Redis at ${address.shown} did not answer within ${timeoutMs / 1000} s.`, {
          hint: 'Check REDIS_URL and that the server is reachable from this host.',
        }),
      );
    });
    opened.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new PreconditionError(`cannot reach Redis at ${address.shown} (${error.code ?? error.message}).`, {
          hint: 'Check REDIS_URL and that the server is reachable from this host.',
        }),
      ),
    );
  });
}

export function encodeCommand(args: readonly (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg) : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** One reply from `offset`, or undefined when the buffer does not hold it whole yet. */
function parseReply(buffer: Buffer, offset: number): { reply: RespReply; end: number } | undefined {
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd < 0) return undefined;
  const type = String.fromCharCode(buffer[offset]);
  const line = buffer.subarray(offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return { reply: Buffer.from(line), end: next };
    case '-':
      return { reply: new RespError(line.toString('utf8')), end: next };
    case ':':
      return { reply: Number(line.toString('latin1')), end: next };
    case '$': {
      const length = Number(line.toString('latin1'));
      if (length < 0) return { reply: null, end: next };
      if (buffer.length < next + length + 2) return undefined;
      return { reply: Buffer.from(buffer.subarray(next, next + length)), end: next + length + 2 };
    }
    case '*': {
      const count = Number(line.toString('latin1'));
      if (count < 0) return { reply: null, end: next };
      const items: RespReply[] = [];
      let end = next;
      for (let index = 0; index < count; index += 1) {
        const item = parseReply(buffer, end);
        if (!item) return undefined;
        items.push(item.reply);
        end = item.end;
      }
      return { reply: items, end };
    }
    default:
      throw new PreconditionError(`Redis sent a reply this tool cannot read (type byte 0x${buffer[offset].toString(16)}).`);
  }
}
