import { createReadStream } from 'node:fs';
import { RuntimeError } from '../base/errors.js';
import { Pipeline } from './pipeline.js';
import { shownKey } from './rdbKeys.js';
import { RespConnection, RespError, type RedisAddress } from './resp.js';

/**
 * Puts back, on a new connection, the first `count` key records of a file `keepSelected` wrote,
 * but those at `skip` (changes the server refused, so never made): how many keys got their value
 * back (`restored`) and how many that did not exist were deleted again (`deleted`).
 */
export async function putBackSelected(
  address: RedisAddress,
  path: string,
  count: number,
  skip: ReadonlySet<number>,
): Promise<{ restored: number; deleted: number }> {
  const connection = await RespConnection.open(address);
  try {
    const pipe = new Pipeline(connection);
    const reader = new KeptFileReader(createReadStream(path)[Symbol.asyncIterator]());
    let index = 0;
    const putBack = { restored: 0, deleted: 0 };
    while (index < count) {
      const command = await readCommand(reader);
      if (command === undefined) break;
      const name = command[0].toString('latin1');
      if (name === 'SELECT') {
        await pipe.select(Number(command[1].toString('latin1')));
        continue;
      }
      if (!skip.has(index)) {
        await pipe.send(command, (reply) => {
          if (reply instanceof RespError)
            throw new RuntimeError(`Redis at ${address.shown} refused the ${name} of ${shownKey(command[1])}: ${reply.message}.`);
        });
        if (name === 'DEL') putBack.deleted += 1;
        else putBack.restored += 1;
      }
      index += 1;
    }
    await pipe.settle(0);
    return putBack;
  } finally {
    connection.close();
  }
}

/** One RESP command array of a kept file, or undefined at its end. */
async function readCommand(reader: KeptFileReader): Promise<Buffer[] | undefined> {
  const count = await readLine(reader, '*');
  if (count === undefined) return undefined;
  const parts: Buffer[] = [];
  for (let index = 0; index < count; index += 1) {
    const length = await readLine(reader, '$');
    const bytes = length === undefined ? undefined : await reader.take(length + 2);
    if (bytes === undefined) throw new RuntimeError('the kept file ends inside a command.');
    parts.push(bytes.subarray(0, length));
  }
  return parts;
}

async function readLine(reader: KeptFileReader, type: string): Promise<number | undefined> {
  const line = await reader.line();
  if (line === undefined) return undefined;
  if (!line.startsWith(type) || !/^\d+$/.test(line.slice(1))) {
    throw new RuntimeError(`the kept file holds an unexpected line (${JSON.stringify(line.slice(0, 20))}).`);
  }
  return Number(line.slice(1));
}

/** Lines and exact runs of bytes from a file read as it streams. */
class KeptFileReader {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly chunks: AsyncIterator<Buffer | string>) {}

  /** The next line without its CRLF; undefined at the end of the file. */
  async line(): Promise<string | undefined> {
    for (;;) {
      const end = this.buffer.indexOf('\r\n');
      if (end >= 0) {
        const line = this.buffer.subarray(0, end).toString('latin1');
        this.buffer = this.buffer.subarray(end + 2);
        return line;
      }
      // A header line is `*<count>` or `$<length>`: anything longer is not a kept file.
      if (this.buffer.length > 64) throw new RuntimeError('the kept file holds an unexpected line.');
      if (!(await this.more())) return undefined;
    }
  }

  /** The next `count` bytes; undefined when the file ends first. */
  async take(count: number): Promise<Buffer | undefined> {
    // Gathered once, so a long value costs one copy, not one per chunk.
    const pieces: Buffer[] = [this.buffer];
    let gathered = this.buffer.length;
    while (gathered < count) {
      const next = await this.chunks.next();
      if (next.done) return undefined;
      pieces.push(next.value as Buffer);
      gathered += (next.value as Buffer).length;
    }
    const all = pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, gathered);
    this.buffer = all.subarray(count);
    return all.subarray(0, count);
  }

  private async more(): Promise<boolean> {
    const next = await this.chunks.next();
    if (next.done) return false;
    this.buffer = this.buffer.length === 0 ? (next.value as Buffer) : Buffer.concat([this.buffer, next.value as Buffer]);
    return true;
  }
}
