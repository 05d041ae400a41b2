import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { restoreOnline } from '../../src/redis/direct.js';
import { parseRedisUrl, type RedisAddress } from '../../src/redis/resp.js';
import { rdbFile, rdbString, stringKey } from '../helpers/rdbRecords.js';

/**
 * An interrupted online restore against a small RESP server in the test that answers the login,
 * SELECT and FLUSHDB at once but holds every reply from the first RESTORE on until the test lets
 * them go. A real redis-server runs queued commands too fast to tell whether restoreOnline waited
 * for them; here the replies are still held when it would give up without waiting.
 */

const PASSWORD = 'abort-pw';

interface HoldingServer {
  readonly address: RedisAddress;
  /** Every command received, in order, as its words (the RESTORE payload left out). */
  readonly commands: string[][];
  /** Writes the held replies, in order, and answers at once from then on. */
  release(): void;
  /** Resolves once the client's connection has closed: every byte it wrote has been read. */
  readonly clientClosed: Promise<void>;
}

const servers: Server[] = [];
const sockets: Socket[] = [];
/** Generous for a loaded machine: the conditions waited for come within milliseconds. */
const WAIT = { timeout: 20_000 };

afterEach(async () => {
  // A failed test may leave a restore waiting on held replies: its connection is cut here.
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

/** The RESP arrays of bulk strings whole in `buffer`, and the bytes left after them. */
function parseCommands(buffer: Buffer): { commands: Buffer[][]; rest: Buffer } {
  const commands: Buffer[][] = [];
  let offset = 0;
  for (;;) {
    const start = offset;
    const words = readArray(buffer, offset);
    if (!words) return { commands, rest: buffer.subarray(start) };
    commands.push(words.items);
    offset = words.end;
  }
}

function readArray(buffer: Buffer, offset: number): { items: Buffer[]; end: number } | undefined {
  const line = (at: number) => {
    const end = buffer.indexOf('\r\n', at);
    return end < 0 ? undefined : { text: buffer.toString('latin1', at + 1, end), next: end + 2 };
  };
  const head = line(offset);
  if (!head) return undefined;
  if (buffer[offset] !== 0x2a) throw new Error(`not a RESP array: ${buffer.toString('latin1', offset, offset + 20)}`);
  const items: Buffer[] = [];
  let at = head.next;
  for (let index = 0; index < Number(head.text); index += 1) {
    const bulk = line(at);
    if (!bulk) return undefined;
    const length = Number(bulk.text);
    if (buffer.length < bulk.next + length + 2) return undefined;
    items.push(buffer.subarray(bulk.next, bulk.next + length));
    at = bulk.next + length + 2;
  }
  return { items, end: at };
}

function replyTo(words: string[]): string {
  const [name] = words;
  if (name === 'AUTH') return words[1] === PASSWORD ? '+OK\r\n' : '-WRONGPASS invalid password\r\n';
  if (name === 'SELECT' || name === 'FLUSHDB' || name === 'RESTORE') return '+OK\r\n';
  return `-ERR unknown command '${name}'\r\n`;
}

async function holdingServer(): Promise<HoldingServer> {
  const commands: string[][] = [];
  const held: string[] = [];
  let client: Socket | undefined;
  let holding = true;
  let closed!: () => void;
  const clientClosed = new Promise<void>((resolve) => (closed = resolve));
  const server = createServer((socket) => {
    client = socket;
    sockets.push(socket);
    let buffer = Buffer.alloc(0);
    socket.on('close', closed);
    socket.on('data', (chunk: Buffer) => {
      const parsed = parseCommands(Buffer.concat([buffer, chunk]));
      buffer = Buffer.from(parsed.rest);
      for (const raw of parsed.commands) {
        const words = raw.map((word, index) => (raw[0].toString() === 'RESTORE' && index === 3 ? '<payload>' : word.toString()));
        commands.push(words);
        const reply = replyTo(words);
        // Replies go out in order: once one RESTORE's is held, so is every later one.
        if (holding && (words[0] === 'RESTORE' || held.length > 0)) held.push(reply);
        else socket.write(reply);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    address: parseRedisUrl(`redis://:${PASSWORD}@127.0.0.1:${port}`),
    commands,
    clientClosed,
    release: () => {
      holding = false;
      client?.write(held.splice(0).join(''));
    },
  };
}

/** An RDB of `count` string keys, handed over in one chunk; `closed` turns true once the walk lets go of it. */
function rdbSource(count: number): { source: AsyncIterable<Buffer>; closed: () => boolean } {
  const keys = Array.from({ length: count }, (_, index) => stringKey(rdbString(`key:${index + 1}`), rdbString(`value ${index + 1}`)));
  let closed = false;
  async function* chunks(): AsyncGenerator<Buffer> {
    try {
      yield rdbFile(...keys);
    } finally {
      closed = true;
    }
  }
  return { source: chunks(), closed: () => closed };
}

/** One turn of the event loop: every microtask queued before it has run. */
const oneTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('an interrupted online restore (a RESP server in the test that holds the RESTORE replies)', () => {
  it('stops sending at the signal and does not give up until every RESTORE sent is answered', async () => {
    const server = await holdingServer();
    const { source, closed } = rdbSource(40);
    const controller = new AbortController();
    const interrupt = new Error('interrupted by the test');
    const sentBeforeSignal = 5;
    let sent = 0;
    const onKey = () => {
      sent += 1;
      if (sent === sentBeforeSignal) controller.abort(interrupt);
    };
    let settled = false;
    const outcome = restoreOnline(server.address, source, [0], onKey, { signal: controller.signal }).then(
      (result) => ({ resolved: result }),
      (error: unknown) => ({ rejected: error }),
    );
    void outcome.then(() => (settled = true));

    const restores = () => server.commands.filter(([name]) => name === 'RESTORE');
    await vi.waitFor(() => expect(restores().length).toBeGreaterThanOrEqual(sentBeforeSignal), WAIT);
    // The walk has stopped at the signal: giving up at once would now take only microtasks.
    await vi.waitFor(() => expect(closed()).toBe(true), WAIT);
    await oneTurn();
    expect(settled, 'restoreOnline gave up while the RESTOREs it sent were still unanswered').toBe(false);

    server.release();
    const result = await outcome;
    expect('rejected' in result && result.rejected, 'restoreOnline did not end with the signal').toBe(interrupt);
    await server.clientClosed;
    expect(sent).toBe(sentBeforeSignal);
    expect(server.commands).toEqual([
      ['AUTH', PASSWORD],
      ['SELECT', '0'],
      ['FLUSHDB'],
      ['SELECT', '0'],
      ...Array.from({ length: sentBeforeSignal }, (_, index) => ['RESTORE', `key:${index + 1}`, '0', '<payload>', 'REPLACE', 'ABSTTL']),
    ]);
  });

  it('gives up on held RESTORE replies after the idle limit instead of waiting forever', async () => {
    const server = await holdingServer();
    const { source } = rdbSource(10);
    const controller = new AbortController();
    const onKey = () => controller.abort(new Error('interrupted by the test'));
    const address = { ...server.address, idleMs: 300 };
    await expect(restoreOnline(address, source, [0], onKey, { signal: controller.signal })).rejects.toThrow(
      /Redis at 127\.0\.0\.1:\d+ neither read nor answered for 0\.3 s/,
    );
    await server.clientClosed;
    expect(server.commands.filter(([name]) => name === 'RESTORE')).toHaveLength(1);
  });
});
